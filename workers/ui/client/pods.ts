import type { replicaPhase } from '../../../common/replica-phase.ts';
import type { Dom } from './dom.ts';
import type { ContainerStatus, PodTemplate, Replica } from './types.ts';

/** A container of a pod as the replica view lists it: init containers and sidecars first. */
export interface PodContainer {
  name: string;
  role: 'init' | 'sidecar' | 'app';
  /** What the agent last reported; absent until it reports the replica. */
  status?: ContainerStatus;
}

/** A volume of a pod template as the deployment view lists it. */
export interface PodVolume {
  name: string;
  /** The source's field name: emptyDir, configMap, secret, persistentVolumeClaim, ... */
  kind: string;
  /** The object it reads (a ConfigMap's or Secret's name, a claim's), or the emptyDir's medium. */
  source?: string;
  /** `container: /path` for each mount, with `(read-only)` and the subPath when set. */
  mounts: string[];
}

/**
 * The pod pieces of the replica and deployment views: a replica's containers with their states
 * (init containers and native sidecars included), its phase as the CLI shows it (`Init:N/M`, by
 * common/replica-phase.ts's own rule, passed in as `phaseOf`), the pod's volumes, and the lines of
 * one container in a replica's logs.
 *
 * Self-contained: served to the browser as `${createPodParts}` and called by the app.
 */
export function createPodParts(dom: Dom, phaseOf: typeof replicaPhase) {
  const { h } = dom;

  /**
   * The replica's containers in the order they start: the template's init containers (sidecars
   * are those with `restartPolicy: Always`), then its app containers, each with the status of the
   * same name; a reported container the template does not name (an older template) comes last.
   */
  function containersOf(rep: Replica, template: PodTemplate | undefined): PodContainer[] {
    const spec = template?.spec;
    const reported = [
      ...(rep.initContainers ?? []).map((s) => ({ s, init: true })),
      ...(rep.containers ?? []).map((s) => ({ s, init: false })),
    ];
    const out: PodContainer[] = [];
    const seen = new Set<string>();
    const add = (name: string | undefined, role: PodContainer['role']) => {
      if (!name || seen.has(name)) return;
      seen.add(name);
      out.push({ name, role, status: reported.find((r) => r.s.name === name)?.s });
    };
    for (const c of spec?.initContainers ?? [])
      add(c.name, c.restartPolicy === 'Always' ? 'sidecar' : 'init');
    for (const c of spec?.containers ?? []) add(c.name, 'app');
    for (const r of reported) add(r.s.name, r.init ? 'init' : 'app');
    return out;
  }

  /** The replica's phase as `berth get replicas` shows it. */
  function phaseText(rep: Replica): string {
    return phaseOf(rep) ?? 'Unknown';
  }

  function stateText(s: ContainerStatus | undefined): string {
    if (!s?.state) return 'Not started';
    return s.state.charAt(0).toUpperCase() + s.state.slice(1);
  }

  function stateTone(c: PodContainer): string {
    const s = c.status;
    if (!s?.state) return 'neutral';
    if (s.state === 'running') return s.ready === false && c.role !== 'init' ? 'warn' : 'ok';
    if (s.state === 'terminated') return s.exitCode === 0 ? 'neutral' : 'bad';
    return s.reason === 'CrashLoopBackOff' || s.reason === 'Error' || (s.exitCode ?? 0) !== 0
      ? 'bad'
      : 'info';
  }

  /** One line per container: role, name, state, reason, exit code and restarts. */
  function containerList(rep: Replica, template: PodTemplate | undefined): HTMLElement | null {
    const list = containersOf(rep, template);
    if (!list.length) return null;
    return h(
      'ul',
      { class: 'ctrs', 'aria-label': `Containers of replica ${rep.id ?? ''}` },
      list.map((c) => {
        const s = c.status;
        return h(
          'li',
          { class: 'ctr', 'data-key': c.name, 'data-container': c.name, 'data-role': c.role },
          c.role === 'app' ? null : h('span', { class: `ctr-role ctr-${c.role}` }, c.role),
          h('code', { class: 'ctr-name' }, c.name),
          h('span', { class: `badge badge-${stateTone(c)}`, 'data-field': 'state' }, stateText(s)),
          s?.reason ? h('span', { class: 'ctr-reason', 'data-field': 'reason' }, s.reason) : null,
          s?.exitCode !== undefined && s.exitCode !== null
            ? h('span', { class: 'ctr-fact', 'data-field': 'exit' }, `exit ${s.exitCode}`)
            : null,
          s && (s.restartCount ?? 0) > 0
            ? h(
                'span',
                { class: 'ctr-fact', 'data-field': 'restarts' },
                `${s.restartCount} restart${s.restartCount === 1 ? '' : 's'}`,
              )
            : null,
          usageFact(rep, c.name, template),
        );
      }),
    );
  }

  /**
   * A Kubernetes quantity as requests and limits write it: CPU in cores (`250m`, `0.5`, `2`),
   * memory in bytes (`64Mi`, `1G`, `128974848`); undefined for anything else.
   */
  function quantity(q: unknown): number | undefined {
    if (typeof q === 'number') return q;
    if (typeof q !== 'string') return undefined;
    const m = /^([0-9.]+)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(q.trim());
    if (!m) return undefined;
    const scale: Record<string, number> = {
      m: 1e-3,
      k: 1e3,
      Ki: 1024,
      M: 1e6,
      Mi: 1024 ** 2,
      G: 1e9,
      Gi: 1024 ** 3,
      T: 1e12,
      Ti: 1024 ** 4,
    };
    return Number(m[1]) * (m[2] ? (scale[m[2]] ?? 1) : 1);
  }
  const millicores = (cores: number) => `${Math.round(cores * 1000)}m`;
  const mebibytes = (bytes: number) => `${Math.round(bytes / 1024 ** 2)}Mi`;

  /**
   * What a container uses against what it asked for, from the agent's last sample: `cpu 24m/100m
   * mem 21Mi/64Mi` (each over its request, else its limit), the limits and the window in the
   * title; a warning tone once memory is within a tenth of its limit (the OOM killer's line).
   */
  function usageFact(rep: Replica, name: string, template: PodTemplate | undefined): HTMLElement | null {
    const used = rep.usage?.containers?.find((u) => u.name === name);
    if (!used) return null;
    const spec = [...(template?.spec?.initContainers ?? []), ...(template?.spec?.containers ?? [])].find(
      (c) => c.name === name,
    );
    const res = (spec?.resources ?? {}) as {
      requests?: Record<string, unknown>;
      limits?: Record<string, unknown>;
    };
    const cpu = (used.cpuNanoCores ?? 0) / 1e9;
    const mem = used.memoryBytes ?? 0;
    const cpuOf = quantity(res.requests?.cpu) ?? quantity(res.limits?.cpu);
    const memOf = quantity(res.requests?.memory) ?? quantity(res.limits?.memory);
    const memLimit = quantity(res.limits?.memory);
    const text = `cpu ${millicores(cpu)}${cpuOf ? `/${millicores(cpuOf)}` : ''} mem ${mebibytes(mem)}${memOf ? `/${mebibytes(memOf)}` : ''}`;
    const said = (what: string, v: unknown) => (v === undefined ? '' : `, ${what} ${String(v)}`);
    const title =
      `CPU ${millicores(cpu)}${said('request', res.requests?.cpu)}${said('limit', res.limits?.cpu)}; ` +
      `memory ${mebibytes(mem)}${said('request', res.requests?.memory)}${said('limit', res.limits?.memory)}; ` +
      `averaged over ${Math.round(rep.usage?.windowSeconds ?? 0)} s`;
    const tight = memLimit !== undefined && mem >= memLimit * 0.9;
    return h(
      'span',
      { class: tight ? 'ctr-fact ctr-usage ctr-tight' : 'ctr-fact ctr-usage', 'data-field': 'usage', title },
      text,
    );
  }

  /** The template's volumes, with where each container mounts them (init containers included). */
  function volumesOf(template: PodTemplate | undefined): PodVolume[] {
    const spec = template?.spec;
    const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
    return (spec?.volumes ?? []).map((v) => {
      const name = v.name ?? '?';
      // Whatever source the server knows: the one field beside `name`.
      const [kind, src] = Object.entries(v).find(([k]) => k !== 'name') ?? ['unknown', undefined];
      const o = (src && typeof src === 'object' ? src : {}) as Record<string, unknown>;
      const named = [o.name, o.secretName, o.claimName, o.path].find((x) => typeof x === 'string');
      const source =
        typeof named === 'string' ? named : typeof o.medium === 'string' && o.medium ? o.medium : undefined;
      const mounts = containers.flatMap((c) =>
        (c.volumeMounts ?? [])
          .filter((m) => m.name === name)
          .map(
            (m) =>
              `${c.name ?? '?'}: ${m.mountPath ?? '?'}${m.subPath ? ` (subPath ${m.subPath})` : ''}${m.readOnly ? ' (read-only)' : ''}`,
          ),
      );
      return { name, kind, source, mounts };
    });
  }

  /**
   * The lines of one container in a replica's logs. The agent prefixes each line with
   * `[container] ` when the replica has more than one container with logs; without any prefix
   * the lines are all one container's, whose name the answer does not carry.
   */
  function linesOf(
    lines: string[],
    container: string | undefined,
    names: string[],
  ): { lines: string[]; unsplit: boolean } {
    if (!container) return { lines, unsplit: false };
    const tagged = lines.some((l) => names.some((n) => l.startsWith(`[${n}] `)));
    if (!tagged) return { lines, unsplit: true };
    const tag = `[${container}] `;
    return { lines: lines.filter((l) => l.startsWith(tag)).map((l) => l.slice(tag.length)), unsplit: false };
  }

  return { containersOf, containerList, phaseText, volumesOf, linesOf, usageFact };
}

export type PodParts = ReturnType<typeof createPodParts>;
