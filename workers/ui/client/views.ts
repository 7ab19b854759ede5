import type { Child, Dom } from './dom.ts';
import type { Format, Rollout } from './format.ts';
import type { LogFollowRules } from './log-follow.ts';
import type { PodParts } from './pods.ts';
import type {
  DeploymentData,
  DeploymentsData,
  EventsData,
  Flash,
  Logs,
  NodesData,
  Route,
  State,
} from './state.ts';
import type {
  BerthEvent,
  Condition,
  Deployment,
  NodeInfo,
  PodTemplate,
  Problem,
  Replica,
  Revision,
} from './types.ts';

export interface ViewKit {
  state: State;
  /** An absolute dashboard URL for a path below the mount point (`/nodes` → `/ui/nodes`). */
  href(path: string): string;
  canWrite(ns: string): boolean;
  canManageNodes(): boolean;
  /** Containers, phases, volumes and per-container logs of pods (client/pods.ts). */
  pod: PodParts;
  /** Following logs (client/log-follow.ts): the window of lines a followed card keeps. */
  follow: LogFollowRules;
}

/**
 * Pure render functions: state in, detached DOM out (the app morphs it into the page).
 * Interactive elements carry `data-action` / `data-form`; the app handles them by delegation.
 *
 * Self-contained: served to the browser as `${createViews}` and called by the app.
 */
export function createViews(dom: Dom, fmt: Format, kit: ViewKit) {
  const { h } = dom;
  const enc = encodeURIComponent;

  // ---- small building blocks -------------------------------------------------------------

  function time(iso: string | null | undefined, mode: 'age' | 'ago' = 'age'): HTMLElement {
    const text = mode === 'age' ? fmt.age(iso, kit.state.now) : fmt.ago(iso, kit.state.now);
    if (!iso) return h('span', { class: 'muted' }, text);
    return h('time', { datetime: iso, title: fmt.stamp(iso) }, text);
  }

  function badge(tone: string, text: string, extra?: string): HTMLElement {
    return h('span', { class: `badge badge-${tone}${extra ? ` ${extra}` : ''}` }, text);
  }

  function rolloutTone(r: Rollout): string {
    return {
      complete: 'ok',
      progressing: 'info',
      failed: 'bad',
      paused: 'warn',
      deleted: 'neutral',
      'scaled-down': 'neutral',
    }[r.key];
  }

  function rolloutBadge(r: Rollout): HTMLElement {
    return badge(rolloutTone(r), r.label, r.key === 'progressing' ? 'badge-live' : undefined);
  }

  function bar(fraction: number, label: string, tone = 'info'): HTMLElement {
    const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    const fill = h('span', { class: `bar-fill bar-${tone}`, 'data-width': pct });
    return h(
      'span',
      {
        class: 'bar',
        role: 'meter',
        'aria-label': label,
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': pct,
      },
      fill,
    );
  }

  function chips(labels: Record<string, string> | undefined | null): HTMLElement {
    const entries = Object.entries(labels ?? {});
    if (!entries.length) return h('span', { class: 'muted' }, 'none');
    return h(
      'ul',
      { class: 'chips', 'aria-label': 'Labels' },
      entries.map(([k, v]) => h('li', { class: 'chip' }, h('span', { class: 'chip-k' }, k), '=', v)),
    );
  }

  function problemBox(p: Problem, what: string): HTMLElement {
    return h(
      'div',
      { class: 'notice notice-error', role: 'alert' },
      h('strong', null, `${what}: ${p.title}`),
      p.detail ? h('p', null, p.detail) : null,
      problemErrors(p.errors),
      p.requestId ? h('p', { class: 'muted small' }, `Request id ${p.requestId}`) : null,
    );
  }

  function problemErrors(errors: Flash['errors']): HTMLElement | null {
    if (!errors?.length) return null;
    return h(
      'ul',
      { class: 'problem-errors' },
      errors.map((e) =>
        h('li', null, e.path ? h('code', null, e.path) : null, e.path ? ': ' : null, e.message ?? ''),
      ),
    );
  }

  function button(
    label: string,
    action: string,
    data: Record<string, string | number>,
    opts: { tone?: string; aria?: string; pendingKey?: string; pendingLabel?: string } = {},
  ): HTMLElement {
    const busy = opts.pendingKey ? kit.state.pending.has(opts.pendingKey) : false;
    const attrs: Record<string, string | number | boolean | null> = {
      type: 'button',
      class: `btn${opts.tone ? ` btn-${opts.tone}` : ''}`,
      'data-action': action,
      'aria-label': opts.aria ?? null,
      'aria-busy': busy ? 'true' : null,
      disabled: busy,
    };
    for (const [k, v] of Object.entries(data)) attrs[`data-${k}`] = v;
    return h('button', attrs, busy ? (opts.pendingLabel ?? `${label}…`) : label);
  }

  function table(labelId: string, head: string[], rows: HTMLElement[], empty: string, cls = ''): HTMLElement {
    if (!rows.length) return h('p', { class: 'empty' }, empty);
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: `data ${cls}`.trim(), 'aria-labelledby': labelId },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            head.map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h('tbody', null, rows),
      ),
    );
  }

  function card(id: string, title: Child, body: Child, actions?: Child, cls = ''): HTMLElement {
    return h(
      'section',
      { class: `card ${cls}`.trim(), 'aria-labelledby': id },
      h(
        'div',
        { class: 'card-head' },
        h('h2', { id }, title),
        actions ? h('div', { class: 'card-actions' }, actions) : null,
      ),
      h('div', { class: 'card-body' }, body),
    );
  }

  function loading(): HTMLElement {
    return h(
      'p',
      { class: 'loading', role: 'status' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      'Loading…',
    );
  }

  function pageHead(title: Child, sub: Child, side?: Child, crumbs?: Child): HTMLElement {
    return h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        { class: 'page-title' },
        crumbs ?? null,
        h('h1', { tabindex: -1, id: 'page-title' }, title),
        sub ? h('p', { class: 'sub' }, sub) : null,
      ),
      side ? h('div', { class: 'page-side' }, side) : null,
    );
  }

  function nsPicker(
    view: 'deployments' | 'events' | 'policy' | 'configmaps' | 'services' | 'ingresses' | 'jobs' | 'cronjobs',
    ns: string,
  ): HTMLElement {
    const listId = 'ns-options';
    return h(
      'form',
      {
        class: 'ns-picker',
        'data-form': 'namespace',
        'data-view': view,
        role: 'search',
        'aria-label': 'Namespace',
      },
      h('label', { for: 'ns-input' }, 'Namespace'),
      h('input', {
        id: 'ns-input',
        name: 'namespace',
        value: ns,
        list: listId,
        autocomplete: 'off',
        spellcheck: 'false',
        required: true,
        pattern: '[a-z0-9]([\\-a-z0-9]*[a-z0-9])?',
        maxlength: 63,
        title: 'A namespace name: lowercase letters, digits and dashes',
      }),
      h(
        'datalist',
        { id: listId },
        kit.state.namespaces.map((n) => h('option', { value: n })),
      ),
      h('button', { type: 'submit', class: 'btn' }, 'Show'),
    );
  }

  function liveNote(): HTMLElement {
    const page = kit.state.page;
    const stale = kit.state.offline;
    return h(
      'span',
      { class: `live${stale ? ' live-stale' : ''}` },
      h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
      stale ? 'Connection lost, retrying' : page.loadedAt ? 'Live' : 'Connecting',
    );
  }

  function readOnlyNote(ns: string): HTMLElement | null {
    if (kit.canWrite(ns)) return null;
    return h(
      'p',
      { class: 'notice notice-info' },
      'Read-only: your token may view this namespace but not change it.',
    );
  }

  // ---- deployments list -------------------------------------------------------------------

  function deployments(
    route: Extract<Route, { view: 'deployments' }>,
    data: DeploymentsData | undefined,
  ): HTMLElement {
    const items = data?.items;
    const counts = items
      ? items.reduce(
          (acc, d) => {
            const r = fmt.rollout(d);
            if (r.key === 'progressing') acc.progressing++;
            if (r.key === 'failed') acc.failing++;
            acc.ready += fmt.num(d.status?.readyReplicas) ?? 0;
            acc.desired += fmt.desired(d);
            return acc;
          },
          { progressing: 0, failing: 0, ready: 0, desired: 0 },
        )
      : null;
    const sub = h(
      'span',
      null,
      liveNote(),
      counts
        ? ` · ${items!.length} deployment${items!.length === 1 ? '' : 's'} · ${counts.ready}/${counts.desired} replicas ready`
        : '',
      counts?.progressing ? ` · ${counts.progressing} rolling out` : '',
      counts?.failing ? ` · ${counts.failing} stuck` : '',
    );
    let body: Child;
    if (data?.error) body = problemBox(data.error, 'Could not load deployments');
    else if (!items) body = loading();
    else
      body = table(
        'page-title',
        ['Name', 'Image', 'Ready', 'Up-to-date', 'Available', 'Revision', 'Rollout', 'Age'],
        items.map((d) => deploymentRow(route.ns, d)),
        `No deployments in namespace “${route.ns}” yet. Apply one with berth apply -f deployment.yaml.`,
        'deployments',
      );
    return h(
      'div',
      null,
      pageHead('Deployments', sub, nsPicker('deployments', route.ns)),
      h('div', { class: 'card card-flush' }, body),
    );
  }

  function deploymentRow(ns: string, d: Deployment): HTMLElement {
    const name = d.metadata?.name ?? '?';
    const r = fmt.rollout(d);
    const want = fmt.desired(d);
    const ready = fmt.num(d.status?.readyReplicas) ?? 0;
    return h(
      'tr',
      { 'data-key': name, 'data-name': name },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: kit.href(`/deployments/${enc(ns)}/${enc(name)}`), class: 'name-link' }, name),
      ),
      h(
        'td',
        { class: 'image-cell' },
        fmt.images(d).map((img) => h('code', { class: 'image', title: img }, img)),
      ),
      h(
        'td',
        { class: 'num' },
        h(
          'span',
          { class: `ready ${ready >= want ? 'ready-ok' : 'ready-wait'}`, 'data-field': 'ready' },
          fmt.readyText(d),
        ),
      ),
      h('td', { class: 'num' }, String(fmt.num(d.status?.updatedReplicas) ?? 0)),
      h('td', { class: 'num' }, String(fmt.num(d.status?.availableReplicas) ?? 0)),
      h(
        'td',
        { class: 'num', 'data-field': 'revision' },
        d.status?.revision !== undefined ? `#${d.status.revision}` : '—',
      ),
      h(
        'td',
        { class: 'rollout-cell', 'data-field': 'rollout', 'data-state': r.key },
        h(
          'div',
          { class: 'rollout-line' },
          rolloutBadge(r),
          bar(r.progress, `${name} rollout progress`, rolloutTone(r)),
        ),
        h('div', { class: 'muted small' }, r.detail),
      ),
      h('td', null, time(d.metadata?.createdAt)),
    );
  }

  // ---- one deployment ---------------------------------------------------------------------

  function deployment(
    route: Extract<Route, { view: 'deployment' }>,
    data: DeploymentData | undefined,
  ): HTMLElement {
    const { ns, name } = route;
    const crumbs = h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h(
        'ol',
        null,
        h('li', null, h('a', { href: kit.href(`/deployments/${enc(ns)}`) }, 'Deployments')),
        h('li', null, h('a', { href: kit.href(`/deployments/${enc(ns)}`) }, ns)),
        h('li', { 'aria-current': 'page' }, name),
      ),
    );
    const d = data?.deployment;
    if (!data || (!d && !data.errors.deployment)) {
      return h('div', null, pageHead(name, liveNote(), null, crumbs), loading());
    }
    if (!d) {
      return h(
        'div',
        null,
        pageHead(name, null, null, crumbs),
        problemBox(data.errors.deployment!, 'Could not load this deployment'),
      );
    }
    const r = fmt.rollout(d, data.replicas);
    const writable = kit.canWrite(ns);
    // A replica runs its revision's template, which names its init containers and sidecars.
    const templateOf = (revision: number | undefined): PodTemplate | undefined =>
      data.revisions?.find((rev) => rev.revision === revision)?.template ?? d.spec?.template;
    const paused = Boolean(d.spec?.paused);
    const side = writable
      ? paused
        ? button(
            'Resume rollout',
            'resume',
            { ns, name },
            { tone: 'primary', pendingKey: `resume:${ns}/${name}` },
          )
        : button('Pause rollout', 'pause', { ns, name }, { pendingKey: `pause:${ns}/${name}` })
      : null;
    const sub = h('span', null, liveNote(), ' · ', rolloutBadge(r), ' ', r.detail);
    return h(
      'div',
      null,
      pageHead(name, sub, side, crumbs),
      readOnlyNote(ns),
      data.errors.deployment ? problemBox(data.errors.deployment, 'Refresh failed') : null,
      h(
        'div',
        { class: 'grid grid-2' },
        overviewCard(d, r),
        h(
          'div',
          { class: 'column' },
          scaleCard(ns, name, d, r, writable),
          conditionsCard(d.status?.conditions ?? []),
        ),
      ),
      replicasCard(ns, data.replicas, data.errors.replicas, templateOf),
      logsCard(kit.state.logs, data.replicas, templateOf),
      volumesCard(ns, d.spec?.template),
      h(
        'div',
        { class: 'grid grid-2' },
        revisionsCard(ns, name, d, data.revisions, data.errors.revisions, writable),
        eventsCard(data.events, data.errors.events),
      ),
    );
  }

  function overviewCard(d: Deployment, r: Rollout): HTMLElement {
    const s = d.status ?? {};
    const containers = d.spec?.template?.spec?.containers ?? [];
    const initContainers = d.spec?.template?.spec?.initContainers ?? [];
    const gen = fmt.num(d.metadata?.generation);
    const seen = fmt.num(s.observedGeneration);
    const row = (k: string, v: Child) => [h('dt', null, k), h('dd', null, v)];
    return card(
      'overview-title',
      'Overview',
      h(
        'dl',
        { class: 'facts' },
        row(
          containers.length > 1 ? 'Images' : 'Image',
          containers.length
            ? containers.map((c) =>
                h(
                  'div',
                  null,
                  h('code', { class: 'image' }, c.image ?? '?'),
                  containers.length > 1 ? ` (${c.name})` : '',
                ),
              )
            : '—',
        ),
        initContainers.length
          ? row(
              'Init containers',
              initContainers.map((c) =>
                h(
                  'div',
                  { 'data-init': c.name ?? '?' },
                  h('code', { class: 'image' }, c.image ?? '?'),
                  ` (${c.name ?? '?'}${c.restartPolicy === 'Always' ? ', sidecar' : ''})`,
                ),
              ),
            )
          : null,
        row('Replicas', h('span', { 'data-field': 'ready' }, `${fmt.readyText(d)} ready`)),
        row(
          'Up-to-date / available',
          `${fmt.num(s.updatedReplicas) ?? 0} / ${fmt.num(s.availableReplicas) ?? 0}`,
        ),
        row(
          'Revision',
          h('span', { 'data-field': 'revision' }, s.revision !== undefined ? `#${s.revision}` : '—'),
        ),
        row('Strategy', fmt.strategy(d)),
        row(
          'Generation',
          gen === undefined
            ? '—'
            : `${gen}${seen !== undefined && seen < gen ? ` (controller has seen ${seen})` : ''}`,
        ),
        row('Rollout', h('span', null, rolloutBadge(r))),
        row('Ports', portsOf(d)),
        row('Node selector', chips(d.spec?.template?.spec?.nodeSelector)),
        row('Labels', chips(d.metadata?.labels)),
        row('Created', h('span', null, time(d.metadata?.createdAt, 'ago'))),
      ),
    );
  }

  function portsOf(d: Deployment): string {
    const ports = (d.spec?.template?.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? []).map(
        (p) => `${p.name ? `${p.name} ` : ''}${p.containerPort ?? '?'}/${p.protocol ?? 'TCP'}`,
      ),
    );
    return ports.length ? ports.join(', ') : 'none';
  }

  function scaleCard(ns: string, name: string, d: Deployment, r: Rollout, writable: boolean): HTMLElement {
    const want = fmt.desired(d);
    const busy = kit.state.pending.has(`scale:${ns}/${name}`);
    const s = d.status ?? {};
    const stat = (label: string, value: number | undefined) =>
      h(
        'div',
        { class: 'stat' },
        h('span', { class: 'stat-num' }, String(value ?? 0)),
        h('span', { class: 'stat-label' }, label),
      );
    return card('scale-title', 'Replicas', [
      h(
        'div',
        { class: 'stats' },
        stat('desired', want),
        stat('ready', fmt.num(s.readyReplicas)),
        stat('up-to-date', fmt.num(s.updatedReplicas)),
        stat('available', fmt.num(s.availableReplicas)),
      ),
      h('div', { class: 'rollout-line wide' }, bar(r.progress, 'Rollout progress', rolloutTone(r))),
      h('p', { class: 'muted small' }, r.detail),
      writable
        ? h(
            'form',
            { class: 'inline-form', 'data-form': 'scale', 'data-ns': ns, 'data-name': name },
            h('label', { for: 'scale-input' }, 'Scale to'),
            h('input', {
              id: 'scale-input',
              name: 'replicas',
              type: 'number',
              min: 0,
              max: 1000,
              step: 1,
              required: true,
              value: want,
              inputmode: 'numeric',
            }),
            h(
              'button',
              { type: 'submit', class: 'btn btn-primary', disabled: busy, 'aria-busy': busy ? 'true' : null },
              busy ? 'Scaling…' : 'Scale',
            ),
          )
        : null,
    ]);
  }

  function conditionsCard(conditions: Condition[]): HTMLElement {
    // A list rather than a table: it sits in the narrow column, and messages are sentences.
    const items = conditions.map((c) =>
      h(
        'li',
        { class: 'condition', 'data-key': c.type ?? '?', 'data-condition': c.type ?? '?' },
        h(
          'div',
          { class: 'condition-head' },
          h('strong', null, c.type ?? '?'),
          badge(c.status === 'True' ? 'ok' : c.status === 'False' ? 'bad' : 'neutral', c.status ?? '?'),
          h('span', { class: 'condition-reason' }, c.reason ?? ''),
          h('span', { class: 'condition-time muted small' }, time(c.lastTransitionTime, 'ago')),
        ),
        c.message ? h('p', { class: 'muted small' }, c.message) : null,
      ),
    );
    return card(
      'conditions-title',
      'Conditions',
      items.length
        ? h('ul', { class: 'conditions', 'aria-labelledby': 'conditions-title' }, items)
        : h('p', { class: 'empty' }, 'No conditions reported yet.'),
    );
  }

  function phaseTone(rep: Replica): string {
    const shown = kit.pod.phaseText(rep);
    if (shown.startsWith('Init:'))
      return shown === 'Init:Error' || shown === 'Init:CrashLoopBackOff' ? 'bad' : 'info';
    switch (rep.phase) {
      case 'Running':
        return rep.ready ? 'ok' : 'warn';
      case 'Failed':
      case 'Lost':
        return 'bad';
      case 'Succeeded':
      case 'Terminating':
        return 'neutral';
      default:
        return 'info';
    }
  }

  function replicasCard(
    ns: string,
    replicas: Replica[] | undefined,
    error: Problem | undefined,
    templateOf: (revision: number | undefined) => PodTemplate | undefined,
    /** A Job's pods: a completion index column, and the order of their indexes, then of creation. */
    job = false,
  ): HTMLElement {
    let body: Child;
    if (error) body = problemBox(error, 'Could not load replicas');
    else if (!replicas) body = loading();
    else {
      const created = (r: Replica) => Date.parse(r.createdAt ?? '') || 0;
      const sorted = [...replicas].sort((a, b) =>
        job
          ? (a.completionIndex ?? -1) - (b.completionIndex ?? -1) || created(a) - created(b)
          : (b.revision ?? 0) - (a.revision ?? 0) || String(a.id).localeCompare(String(b.id)),
      );
      const indexed = job && replicas.some((r) => r.completionIndex !== undefined);
      const open = kit.state.logs?.replica;
      body = table(
        'replicas-title',
        [
          'Replica',
          indexed ? 'Index' : null,
          'Revision',
          'Node',
          'Phase',
          'Ready',
          'Restarts',
          'Host ports',
          'Message',
          'Age',
          '',
        ].filter((c): c is string => c !== null),
        sorted.flatMap((rep) => {
          const id = rep.id ?? '?';
          const template = templateOf(rep.revision);
          // A pod of one container says all in its row; with init containers, sidecars or more
          // containers, a second row lists each with its state. A Job's pod always does: how its
          // container ended (reason, exit code) is what a finished pod has to tell.
          const ctrs =
            job || kit.pod.containersOf(rep, template).length > 1
              ? kit.pod.containerList(rep, template)
              : null;
          const cls = [open === id ? 'selected' : '', ctrs ? 'has-ctrs' : ''].join(' ').trim() || null;
          const main = h(
            'tr',
            { 'data-key': id, 'data-replica': id, class: cls },
            h('th', { scope: 'row' }, h('code', { class: 'id', title: id }, id)),
            indexed
              ? h('td', { class: 'num', 'data-field': 'index' }, String(rep.completionIndex ?? '—'))
              : null,
            h('td', { class: 'num' }, rep.revision !== undefined ? `#${rep.revision}` : '—'),
            h(
              'td',
              { 'data-field': 'node' },
              rep.node ? rep.node : h('span', { class: 'muted' }, 'unplaced'),
            ),
            h('td', { 'data-field': 'phase' }, badge(phaseTone(rep), kit.pod.phaseText(rep))),
            h(
              'td',
              null,
              rep.ready
                ? h('span', { class: 'yes' }, h('span', { 'aria-hidden': 'true' }, '● '), 'Yes')
                : h('span', { class: 'no' }, h('span', { 'aria-hidden': 'true' }, '○ '), 'No'),
            ),
            h('td', { class: 'num' }, String(rep.restartCount ?? 0)),
            h('td', null, fmt.hostPorts(rep.hostPorts)),
            h('td', { class: 'message' }, rep.message ?? ''),
            h('td', null, time(rep.createdAt)),
            h(
              'td',
              { class: 'actions' },
              button(
                open === id ? 'Showing logs' : 'Logs',
                'logs',
                { ns, replica: id },
                {
                  aria: `Show logs of replica ${id}`,
                  tone: 'small',
                },
              ),
            ),
          );
          if (!ctrs) return [main];
          return [
            main,
            h(
              'tr',
              {
                'data-key': `${id}/containers`,
                'data-containers-of': id,
                class: `ctrs-row${open === id ? ' selected' : ''}`,
              },
              h('td', { colspan: indexed ? 11 : 10 }, ctrs),
            ),
          ];
        }),
        job ? 'No pods yet.' : 'No replicas yet.',
        'replicas',
      );
    }
    return card(
      'replicas-title',
      `${job ? 'Pods' : 'Replicas'}${replicas ? ` (${replicas.length})` : ''}`,
      body,
    );
  }

  function logsCard(
    logs: Logs | null,
    replicas: Replica[] | undefined,
    templateOf: (revision: number | undefined) => PodTemplate | undefined,
  ): HTMLElement | null {
    if (!logs) return null;
    const rep = replicas?.find((r) => r.id === logs.replica);
    const containers = rep ? kit.pod.containersOf(rep, templateOf(rep.revision)) : [];
    // A follow reads one container: lines already its own, up to the follow's window.
    const picked = logs.lines
      ? logs.streamed
        ? { lines: logs.lines, unsplit: false }
        : kit.pod.linesOf(
            logs.lines,
            logs.container,
            containers.map((c) => c.name),
          )
      : undefined;
    // A container's snapshot is the last 100 of its own lines, read from the replica's last 1000.
    const lines = picked
      ? logs.container && !logs.streamed
        ? picked.lines.slice(-100)
        : picked.lines
      : undefined;
    const whose = logs.container
      ? `container ${logs.container} of replica ${logs.replica}`
      : `replica ${logs.replica}`;
    const follow = logs.follow ?? { state: 'off' };
    const following = follow.state === 'connecting' || follow.state === 'streaming';
    // The stream is one container's, as `kubectl logs -f` is: with several, one must be picked.
    const followable = Boolean(logs.container) || containers.length <= 1;
    const target = { ns: logs.ns, replica: logs.replica, container: logs.container ?? '' };
    let body: Child = null;
    if (lines?.length)
      body = h(
        'pre',
        {
          class: 'logs',
          tabindex: 0,
          'aria-label': `${following ? 'Log lines' : `Last ${lines.length} log lines`} of ${whose}`,
        },
        lines.join('\n'),
      );
    else if (lines)
      body = h(
        'p',
        { class: 'empty' },
        logs.container ? `No log lines of ${logs.container} yet.` : 'No log lines yet.',
      );
    else if (follow.state === 'streaming')
      body = h('p', { class: 'empty' }, 'No log lines yet: new ones appear here as they are written.');
    // While connecting, the status line below says so.
    else if (!logs.error && follow.state !== 'connecting')
      body = logs.note ? h('p', { class: 'loading', role: 'status' }, logs.note) : loading();
    // Every container of the pod, init containers and sidecars first, as `kubectl logs -c` offers.
    const picker =
      containers.length > 1
        ? h(
            'div',
            { class: 'log-picker', role: 'group', 'aria-label': 'Containers' },
            [{ name: '', role: 'all' }, ...containers].map((c) =>
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-small',
                  'data-action': 'logs',
                  'data-ns': logs.ns,
                  'data-replica': logs.replica,
                  'data-container': c.name,
                  // While following, a pick follows that container; "All containers" cannot be.
                  'data-followable': c.name ? 'true' : null,
                  'aria-pressed': (logs.container ?? '') === c.name ? 'true' : 'false',
                },
                c.name ? c.name : 'All containers',
                c.role === 'init' || c.role === 'sidecar'
                  ? h('span', { class: 'muted' }, ` (${c.role})`)
                  : null,
              ),
            ),
          )
        : null;
    const count = lines ? `${lines.length} line${lines.length === 1 ? '' : 's'}` : '';
    const iso = (t: number) => new Date(t).toISOString();
    let status: Child = null;
    if (follow.state === 'connecting')
      status = h(
        'p',
        { class: 'loading', role: 'status', 'data-follow': 'connecting' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        'Connecting to the log stream…',
      );
    else if (follow.state === 'streaming')
      status = h(
        'p',
        { class: 'muted small', 'data-follow': 'streaming' },
        h('span', { class: 'live' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), 'Following'),
        ` · ${count ? `${count}, newest last (the last ${kit.follow.MAX_LINES.toLocaleString('en')} are kept)` : 'no lines yet'}; following for ${fmt.age(iso(follow.since), kit.state.now)}`,
      );
    else if (follow.state === 'ended')
      status = h(
        'div',
        { class: 'notice notice-info log-ended', role: 'status', 'data-follow': 'ended' },
        h('strong', null, 'The log stream ended'),
        h(
          'p',
          null,
          `At ${new Date(follow.at).toLocaleTimeString()}: the replica stopped, or the connection dropped. `,
          button('Follow again', 'logs-follow', target, {
            tone: 'small',
            aria: `Follow the logs of ${whose} again`,
          }),
        ),
      );
    else if (follow.state === 'unavailable')
      status = h(
        'p',
        { class: 'notice notice-info', role: 'status', 'data-follow': 'unavailable' },
        follow.reason,
      );
    else if (logs.fetchedAt && lines && !logs.streamed)
      status = h(
        'p',
        { class: 'muted small' },
        `${count} (the last 100 at most), newest last; fetched ${fmt.ago(iso(logs.fetchedAt), kit.state.now)}`,
      );
    else if (logs.fetchedAt && lines)
      status = h(
        'p',
        { class: 'muted small' },
        `${count}, newest last; read ${fmt.ago(iso(logs.fetchedAt), kit.state.now)}`,
      );
    return card(
      'logs-title',
      [
        'Logs ',
        h('code', { class: 'id' }, logs.replica),
        logs.container ? [' · ', h('code', null, logs.container)] : null,
      ],
      [
        picker,
        logs.error
          ? problemBox(
              logs.error,
              follow.state === 'failed' ? 'Could not follow logs' : 'Could not fetch logs',
            )
          : null,
        body,
        picked?.unsplit
          ? h(
              'p',
              { class: 'muted small' },
              'Only one container of this replica has logs so far: these are its lines.',
            )
          : null,
        status,
        followable
          ? null
          : h('p', { class: 'muted small' }, 'Pick a container to follow its lines as they are written.'),
      ],
      [
        h(
          'button',
          {
            type: 'button',
            class: 'btn log-follow',
            'data-action': 'logs-follow',
            'data-ns': target.ns,
            'data-replica': target.replica,
            'data-container': target.container,
            'aria-pressed': following ? 'true' : 'false',
            'aria-label': `Follow the logs of ${whose}`,
            title: followable
              ? null
              : 'Pick one container: a follow reads one container, as kubectl logs -f does',
            disabled: !followable,
          },
          'Follow',
        ),
        following
          ? null
          : button('Refresh', 'logs', target, {
              aria: 'Refresh logs',
              pendingKey: `logs:${logs.replica}`,
              pendingLabel: 'Fetching…',
            }),
        button('Close', 'logs-close', {}, { aria: 'Close logs' }),
      ],
      'logs-card',
    );
  }

  /** The pod's volumes: name, source kind, what it reads, and where each container mounts it. */
  function volumesCard(ns: string, template: PodTemplate | undefined): HTMLElement | null {
    const volumes = kit.pod.volumesOf(template);
    if (!volumes.length) return null;
    return card(
      'volumes-title',
      `Volumes (${volumes.length})`,
      table(
        'volumes-title',
        ['Volume', 'Source', 'Reads', 'Mounted at'],
        volumes.map((v) =>
          h(
            'tr',
            { 'data-key': v.name, 'data-volume': v.name },
            h('th', { scope: 'row' }, h('code', null, v.name)),
            h('td', { 'data-field': 'kind' }, v.kind),
            h(
              'td',
              { 'data-field': 'source' },
              v.kind === 'configMap' && v.source
                ? h('a', { href: kit.href(`/configmaps/${enc(ns)}/${enc(v.source)}`) }, v.source)
                : (v.source ?? h('span', { class: 'muted' }, '—')),
            ),
            h(
              'td',
              { 'data-field': 'mounts' },
              v.mounts.length
                ? v.mounts.map((m) => h('div', null, h('code', null, m)))
                : h('span', { class: 'muted' }, 'not mounted'),
            ),
          ),
        ),
        '',
        'volumes',
      ),
    );
  }

  function revisionsCard(
    ns: string,
    name: string,
    d: Deployment,
    revisions: Revision[] | undefined,
    error: Problem | undefined,
    writable: boolean,
  ): HTMLElement {
    let body: Child;
    if (error) body = problemBox(error, 'Could not load revisions');
    else if (!revisions) body = loading();
    else {
      const current = d.status?.revision;
      const sorted = [...revisions].sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
      body = table(
        'revisions-title',
        ['Revision', 'Image', 'Created', ''],
        sorted.map((rev) => {
          const n = rev.revision ?? 0;
          const isCurrent = rev.current ?? n === current;
          const imgs = (rev.template?.spec?.containers ?? []).map((c) => c.image ?? '?');
          return h(
            'tr',
            { 'data-key': String(n), 'data-revision': n, class: isCurrent ? 'current' : null },
            h('th', { scope: 'row' }, `#${n}`),
            h('td', null, imgs.length ? imgs.map((i) => h('code', { class: 'image', title: i }, i)) : '—'),
            h('td', null, time(rev.createdAt, 'ago')),
            h(
              'td',
              { class: 'actions' },
              isCurrent
                ? badge('ok', 'Current')
                : writable
                  ? button(
                      'Roll back',
                      'rollback',
                      { ns, name, revision: n },
                      {
                        aria: `Roll back to revision ${n}`,
                        tone: 'small',
                        pendingKey: `rollback:${ns}/${name}`,
                        pendingLabel: 'Rolling back…',
                      },
                    )
                  : null,
            ),
          );
        }),
        'No revisions recorded yet.',
        'revisions',
      );
    }
    return card('revisions-title', 'Revision history', body);
  }

  function eventRows(events: BerthEvent[], linkObjects: boolean, ns: string): HTMLElement[] {
    // The API lists newest last; people read newest first.
    return [...events]
      .reverse()
      .slice(0, 200)
      .map((e, i) => {
        const obj = fmt.eventObject(e);
        const warn = (e.type ?? '').toLowerCase() === 'warning';
        // Objects with a page of their own link to it.
        const page =
          obj.kind === 'deployment'
            ? 'deployments'
            : obj.kind === 'job'
              ? 'jobs'
              : obj.kind === 'cronjob'
                ? 'cronjobs'
                : null;
        const objCell =
          linkObjects && page && obj.name
            ? h('a', { href: kit.href(`/${page}/${enc(ns)}/${enc(obj.name)}`) }, obj.text)
            : obj.text;
        return h(
          'tr',
          { 'data-key': `${fmt.eventTime(e) ?? ''}|${e.reason ?? ''}|${i}`, class: warn ? 'warning' : null },
          h('td', null, badge(warn ? 'bad' : 'neutral', e.type ?? 'Normal')),
          h('td', null, e.reason ?? '—'),
          linkObjects ? h('td', null, objCell) : null,
          h('td', { class: 'message' }, e.message ?? ''),
          h('td', null, time(fmt.eventTime(e), 'age')),
        );
      });
  }

  function eventsCard(events: BerthEvent[] | undefined, error: Problem | undefined): HTMLElement {
    let body: Child;
    if (error) body = problemBox(error, 'Could not load events');
    else if (!events) body = loading();
    else
      body = table(
        'events-title',
        ['Type', 'Reason', 'Message', 'Age'],
        eventRows(events, false, ''),
        'No events yet.',
        'events',
      );
    return card('events-title', 'Recent events', body, null, 'scroll-card');
  }

  // ---- nodes ------------------------------------------------------------------------------

  function resourceBar(kind: 'CPU' | 'Memory', n: NodeInfo): HTMLElement {
    const pick = kind === 'CPU' ? fmt.cpuOf : fmt.memoryOf;
    const show = kind === 'CPU' ? (v: number | undefined) => fmt.cores(v) : fmt.bytes;
    const cap = pick(n.allocatable) ?? pick(n.capacity);
    const used = pick(n.allocated) ?? 0;
    const frac = cap ? used / cap : 0;
    const tone = frac > 0.9 ? 'bad' : frac > 0.7 ? 'warn' : 'info';
    const unit = kind === 'CPU' && cap !== undefined && cap >= 1 ? ' cores' : '';
    const total = pick(n.capacity);
    return h(
      'div',
      { class: 'resource' },
      h(
        'div',
        { class: 'resource-head' },
        h('span', { class: 'resource-name' }, kind),
        h(
          'span',
          { class: 'resource-num' },
          `${show(used)} / ${show(cap)}${unit}`,
          total !== undefined && cap !== undefined && total !== cap
            ? h('span', { class: 'muted' }, ` (capacity ${show(total)})`)
            : null,
        ),
      ),
      bar(frac, `${kind} allocated on ${n.name ?? 'node'}`, tone),
    );
  }

  function nodeCard(n: NodeInfo): HTMLElement {
    const name = n.name ?? '?';
    const ready = n.status === 'Ready';
    const admin = kit.canManageNodes();
    const armed = kit.state.confirmDrain === name;
    const actions = admin
      ? [
          n.unschedulable
            ? button(
                'Uncordon',
                'uncordon',
                { node: name },
                { aria: `Uncordon ${name}`, pendingKey: `uncordon:${name}` },
              )
            : button(
                'Cordon',
                'cordon',
                { node: name },
                { aria: `Cordon ${name}`, pendingKey: `cordon:${name}` },
              ),
          button(
            armed ? 'Confirm drain' : 'Drain',
            'drain',
            { node: name },
            {
              tone: 'danger',
              aria: armed ? `Confirm draining ${name}` : `Drain ${name}`,
              pendingKey: `drain:${name}`,
              pendingLabel: 'Draining…',
            },
          ),
        ]
      : null;
    return h(
      'section',
      {
        class: `card node-card${ready ? '' : ' node-down'}`,
        'aria-labelledby': `node-${name}`,
        'data-key': name,
        'data-node': name,
      },
      h(
        'div',
        { class: 'card-head' },
        h('h2', { id: `node-${name}` }, name),
        h(
          'div',
          { class: 'badges' },
          badge(ready ? 'ok' : 'bad', n.status ?? 'Unknown'),
          n.unschedulable ? badge('warn', 'Cordoned') : null,
        ),
      ),
      h(
        'div',
        { class: 'card-body' },
        h(
          'dl',
          { class: 'facts compact' },
          h('dt', null, 'Heartbeat'),
          h('dd', null, time(n.lastHeartbeat, 'ago')),
          h('dt', null, 'Address'),
          h('dd', null, n.address ? h('code', null, n.address) : '—'),
          h('dt', null, 'Agent'),
          h('dd', null, n.agentVersion ?? '—'),
        ),
        resourceBar('CPU', n),
        resourceBar('Memory', n),
        h('div', { class: 'labels' }, chips(n.labels)),
        actions ? h('div', { class: 'node-actions' }, actions) : null,
      ),
    );
  }

  function nodes(data: NodesData | undefined): HTMLElement {
    const items = data?.items;
    const readyCount = items?.filter((n) => n.status === 'Ready').length ?? 0;
    const sub = h(
      'span',
      null,
      liveNote(),
      items ? ` · ${items.length} node${items.length === 1 ? '' : 's'} · ${readyCount} ready` : '',
    );
    let body: Child;
    if (data?.error) body = problemBox(data.error, 'Could not load nodes');
    else if (!items) body = loading();
    else if (!items.length)
      body = h(
        'p',
        { class: 'empty card' },
        'No nodes have joined yet. Start a berth-agent with a join token.',
      );
    else
      body = h(
        'div',
        { class: 'node-grid' },
        [...items].sort((a, b) => String(a.name).localeCompare(String(b.name))).map(nodeCard),
      );
    return h('div', null, pageHead('Nodes', sub), body);
  }

  // ---- events -----------------------------------------------------------------------------

  function events(route: Extract<Route, { view: 'events' }>, data: EventsData | undefined): HTMLElement {
    const items = data?.items;
    const sub = h(
      'span',
      null,
      liveNote(),
      items ? ` · ${items.length} event${items.length === 1 ? '' : 's'}` : '',
    );
    let body: Child;
    if (data?.error) body = problemBox(data.error, 'Could not load events');
    else if (!items) body = loading();
    else
      body = table(
        'page-title',
        ['Type', 'Reason', 'Object', 'Message', 'Age'],
        eventRows(items, true, route.ns),
        `No events in namespace “${route.ns}”.`,
        'events',
      );
    return h(
      'div',
      null,
      pageHead('Events', sub, nsPicker('events', route.ns)),
      h('div', { class: 'card card-flush' }, body),
    );
  }

  function notFound(path: string): HTMLElement {
    return h(
      'div',
      null,
      pageHead('Page not found', null),
      h(
        'p',
        null,
        'There is no dashboard page at ',
        h('code', null, path),
        '. ',
        h('a', { href: kit.href('/') }, 'Go to deployments'),
        '.',
      ),
    );
  }

  return {
    deployments,
    deployment,
    nodes,
    events,
    notFound,
    problemErrors,
    badge,
    // Building blocks for pages made in other modules (client/policy.ts, client/config-maps.ts).
    card,
    button,
    replicasCard,
    logsCard,
    eventsCard,
    readOnlyNote,
    table,
    chips,
    pageHead,
    nsPicker,
    problemBox,
    liveNote,
    loading,
    time,
  };
}

export type Views = ReturnType<typeof createViews>;
