import type { assessRollout, RolloutPhase } from '../../../common/rollout.ts';
import type { BerthEvent, Condition, Deployment, HostPorts, Problem, Replica, Resources } from './types.ts';

export type RolloutKey = 'complete' | 'progressing' | 'failed' | 'paused' | 'deleted' | 'scaled-down';

export interface Rollout {
  key: RolloutKey;
  phase: RolloutPhase;
  /** The assessment's reason: NewRevisionAvailable, ProgressDeadlineExceeded, ... */
  reason: string;
  label: string;
  /** One line for people: what the rollout is doing right now. */
  detail: string;
  /** 0..1: share of desired replicas that run the current revision and are available. */
  progress: number;
}

/**
 * Pure formatting and interpretation of API objects. Served to the browser as
 * `(${createFormat})(assessRollout)`, so the body must be self-contained: no imports used at run
 * time and no references to anything outside this function (types are erased, so type imports
 * are fine). The rollout rule comes in as `assess`, common/rollout.ts's own function.
 */
export function createFormat(assess: typeof assessRollout) {
  function num(v: unknown): number | undefined {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    return undefined;
  }

  function time(iso: string | null | undefined): number | undefined {
    if (!iso) return undefined;
    const t = Date.parse(iso);
    return Number.isNaN(t) ? undefined : t;
  }

  /** kubectl-style age: 42s, 5m, 3h, 12d. */
  function age(iso: string | null | undefined, now: number): string {
    const t = time(iso);
    if (t === undefined) return '—';
    const s = Math.max(0, Math.floor((now - t) / 1000));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h}h`;
    return `${Math.floor(h / 24)}d`;
  }

  function ago(iso: string | null | undefined, now: number): string {
    const a = age(iso, now);
    return a === '—' ? 'never' : `${a} ago`;
  }

  /** Full local date for `title` attributes and `<time datetime>`. */
  function stamp(iso: string | null | undefined): string {
    const t = time(iso);
    return t === undefined ? '' : new Date(t).toLocaleString();
  }

  function bytes(n: number | undefined): string {
    if (n === undefined) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    const digits = v >= 100 || i === 0 ? 0 : v >= 10 ? 1 : 2;
    return `${Number(v.toFixed(digits))} ${units[i]}`;
  }

  function cores(n: number | undefined): string {
    if (n === undefined) return '—';
    if (n > 0 && n < 1) return `${Math.round(n * 1000)}m`;
    return `${Number(n.toFixed(2))}`;
  }

  /** Parses a Kubernetes memory quantity (128Mi, 1G, 1e9) into bytes. */
  function memoryQuantity(v: unknown): number | undefined {
    const n = num(v);
    if (n !== undefined) return n;
    if (typeof v !== 'string') return undefined;
    const m = /^\s*([0-9.]+)\s*(Ki|Mi|Gi|Ti|k|K|M|G|T)?\s*$/.exec(v);
    if (!m) return undefined;
    const mult: Record<string, number> = {
      Ki: 1024,
      Mi: 1024 ** 2,
      Gi: 1024 ** 3,
      Ti: 1024 ** 4,
      k: 1e3,
      K: 1e3,
      M: 1e6,
      G: 1e9,
      T: 1e12,
    };
    return Number(m[1]) * (m[2] ? (mult[m[2]] ?? 1) : 1);
  }

  /** Parses cores from `2`, `"1.5"` or `"250m"`. */
  function cpuQuantity(v: unknown): number | undefined {
    const n = num(v);
    if (n !== undefined) return n;
    if (typeof v === 'string' && /^\s*[0-9.]+m\s*$/.test(v)) return Number.parseFloat(v) / 1000;
    return undefined;
  }

  /** CPU cores of a node resource object, whichever of the plausible spellings it uses. */
  function cpuOf(r: Resources | null | undefined): number | undefined {
    if (!r || typeof r !== 'object') return undefined;
    const millis = num(r.cpuMillis ?? r.milliCpu ?? r.cpuMilli);
    if (millis !== undefined) return millis / 1000;
    return cpuQuantity(r.cpu ?? r.cpuCores ?? r.cores);
  }

  function memoryOf(r: Resources | null | undefined): number | undefined {
    if (!r || typeof r !== 'object') return undefined;
    return memoryQuantity(r.memoryBytes ?? r.memory ?? r.mem);
  }

  function condition(d: Deployment, type: string): Condition | undefined {
    return (d.status?.conditions ?? []).find((c) => c?.type === type);
  }

  function desired(d: Deployment): number {
    return num(d.spec?.replicas) ?? 1;
  }

  function readyText(d: Deployment): string {
    return `${num(d.status?.readyReplicas) ?? 0}/${desired(d)}`;
  }

  function images(d: Deployment): string[] {
    return (d.spec?.template?.spec?.containers ?? []).map((c) => c?.image ?? '?');
  }

  /**
   * Where a rollout stands: the one rule the CLI and the Action apply too (common/rollout.ts),
   * given the deployment's replicas where the page has them. Labels are the dashboard's own.
   */
  function rollout(d: Deployment, replicas?: Replica[]): Rollout {
    const a = assess(d, { replicas });
    const failedLabels: Record<string, string> = {
      ProgressDeadlineExceeded: 'Deadline exceeded',
      ImagePullFailed: 'Image pull failed',
      ReplicaFailed: 'Replica failed',
      RolledBack: 'Rolled back',
    };
    const base = { phase: a.phase, reason: a.reason, detail: a.message, progress: a.progress };
    if (a.phase === 'Complete' && desired(d) === 0)
      return { ...base, key: 'scaled-down', label: 'Scaled to zero' };
    if (a.phase === 'Failed') return { ...base, key: 'failed', label: failedLabels[a.reason] ?? 'Failed' };
    return { ...base, key: a.phase.toLowerCase() as RolloutKey, label: a.phase };
  }

  /** Host ports as `8080→31001`, from `[{containerPort, hostPort}]`, numbers, or a map. */
  function hostPorts(hp: HostPorts): string {
    const parts: string[] = [];
    const one = (p: unknown) => {
      if (typeof p === 'number' || typeof p === 'string') parts.push(String(p));
      else if (p && typeof p === 'object') {
        const o = p as Record<string, unknown>;
        const host = o.hostPort ?? o.port;
        const ctr = o.containerPort;
        if (host !== undefined && ctr !== undefined) parts.push(`${ctr}→${host}`);
        else if (host !== undefined) parts.push(String(host));
      }
    };
    if (Array.isArray(hp)) hp.forEach(one);
    else if (hp && typeof hp === 'object') {
      for (const [k, v] of Object.entries(hp as Record<string, unknown>)) parts.push(`${k}→${String(v)}`);
    } else if (hp !== undefined && hp !== null) one(hp);
    return parts.length ? parts.join(', ') : '—';
  }

  /** The object an event is about, as `{kind, name}`; the API writes it `deployment/web`. */
  function eventObject(e: BerthEvent): { kind: string; name: string; text: string } {
    const o = e.object;
    if (!o) return { kind: '', name: '', text: '—' };
    const i = o.indexOf('/');
    const kind = i >= 0 ? o.slice(0, i) : '';
    const name = i >= 0 ? o.slice(i + 1) : o;
    return { kind: kind.toLowerCase(), name, text: o };
  }

  function eventTime(e: BerthEvent): string | undefined {
    return e.createdAt;
  }

  /** One sentence for a problem+json body: its detail, else its title. */
  function problemText(p: Problem): string {
    return p.detail || p.title || `Request failed (${p.status})`;
  }

  /** `maxSurge 25%, maxUnavailable 25%` style strategy summary. */
  function strategy(d: Deployment): string {
    const st = d.spec?.strategy;
    const type = st?.type ?? 'RollingUpdate';
    if (type !== 'RollingUpdate') return type;
    const ru = st?.rollingUpdate ?? {};
    return `RollingUpdate (max surge ${ru.maxSurge ?? '25%'}, max unavailable ${ru.maxUnavailable ?? '25%'})`;
  }

  return {
    num,
    age,
    ago,
    stamp,
    bytes,
    cores,
    memoryQuantity,
    cpuQuantity,
    cpuOf,
    memoryOf,
    condition,
    desired,
    readyText,
    images,
    rollout,
    hostPorts,
    eventObject,
    eventTime,
    problemText,
    strategy,
  };
}

export type Format = ReturnType<typeof createFormat>;
