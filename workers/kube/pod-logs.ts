import { logSince } from '../verbs/log-options.ts';
import type { KubeObject } from './objects.ts';
import { KubeStatusError } from './status.ts';

/**
 * `GET /api/v1/namespaces/{ns}/pods/{name}/log`, its pure parts: the query as Kubernetes'
 * PodLogOptions, which container a read is of, and the lines a follow has not sent yet.
 */

/** The most lines one read returns (the agent's tail limit, as `berth logs --tail`). */
export const MAX_LOG_LINES = 10_000;

export interface PodLogQuery {
  container?: string | undefined;
  follow: boolean;
  previous: boolean;
  tailLines?: number | undefined;
  /** `seconds.nanoseconds` (from sinceTime, or now minus sinceSeconds). */
  since?: string | undefined;
  timestamps: boolean;
  limitBytes?: number | undefined;
}

function invalid(field: string, message: string): KubeStatusError {
  return new KubeStatusError('VALIDATION_FAILED', `PodLogOptions "" is invalid: ${field}: ${message}`, {
    kind: 'PodLogOptions',
    causes: [{ field, message, reason: 'FieldValueInvalid' }],
  });
}

function bool(q: Record<string, string>, key: string): boolean {
  const v = q[key];
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new KubeStatusError(
    'BAD_REQUEST',
    `invalid value for ${key}: ${JSON.stringify(v)}: must be a boolean`,
  );
}

function int(q: Record<string, string>, key: string): number | undefined {
  const v = q[key];
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v))
    throw new KubeStatusError(
      'BAD_REQUEST',
      `invalid value for ${key}: ${JSON.stringify(v)}: must be an integer`,
    );
  return Number(v);
}

/** The query as Kubernetes validates PodLogOptions (422 Invalid naming the field). */
export function parsePodLogQuery(q: Record<string, string>, now: Date): PodLogQuery {
  const tailLines = int(q, 'tailLines');
  const sinceSeconds = int(q, 'sinceSeconds');
  const limitBytes = int(q, 'limitBytes');
  const sinceTime = q.sinceTime || undefined;
  if (tailLines !== undefined && tailLines < 0)
    throw invalid('tailLines', 'must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) throw invalid('limitBytes', 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw invalid('sinceSeconds', 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceTime !== undefined)
    throw invalid('sinceSeconds', 'at most one of `sinceTime` or `sinceSeconds` may be specified');
  let since: string | undefined;
  if (sinceTime !== undefined) {
    since = logSince(sinceTime);
    if (!since) throw invalid('sinceTime', 'must be an RFC 3339 time');
  } else if (sinceSeconds !== undefined) {
    since = logSince(new Date(now.getTime() - sinceSeconds * 1000).toISOString());
  }
  return {
    container: q.container || undefined,
    follow: bool(q, 'follow'),
    previous: bool(q, 'previous'),
    tailLines,
    since,
    timestamps: bool(q, 'timestamps'),
    limitBytes,
  };
}

type Loose = Record<string, unknown>;
const names = (v: unknown) =>
  (Array.isArray(v) ? (v as Loose[]) : [])
    .map((c) => c.name)
    .filter((n): n is string => typeof n === 'string');

/** Which container's logs a read is of, worded as Kubernetes refuses one it cannot pick. */
export function podLogContainer(pod: KubeObject, asked: string | undefined): string {
  const spec = (pod.spec ?? {}) as Loose;
  const containers = names(spec.containers);
  const inits = names(spec.initContainers);
  const name = pod.metadata.name;
  if (asked === undefined) {
    if (containers.length === 1) return containers[0]!;
    const initText = inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : '';
    throw new KubeStatusError(
      'BAD_REQUEST',
      `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${initText}`,
    );
  }
  if (!containers.includes(asked) && !inits.includes(asked))
    throw new KubeStatusError('BAD_REQUEST', `container ${asked} is not valid for pod ${name}`);
  return asked;
}

/** A line as the agent sends it when asked for timestamps: its stamp (when the engine gave one) and its text. */
export function splitStamp(line: string): { time: string; text: string } {
  const sp = line.indexOf(' ');
  if (sp > 0 && /^\d{4}-\d\d-\d\dT/.test(line)) return { time: line.slice(0, sp), text: line.slice(sp + 1) };
  return { time: '', text: line };
}

/** A stamp as a key that orders as time does (RFC 3339 texts drop trailing zeros, so they do not). */
function orderKey(time: string): string | undefined {
  const since = logSince(time);
  if (!since) return undefined;
  const [s, ns] = since.split('.');
  return `${s!.padStart(12, '0')}.${ns}`;
}

/**
 * Where a follow stands: the stamp of the last line it sent and how many lines it sent with that
 * very stamp. The engine's `since` includes lines stamped at it, so the next read starts there and
 * this drops what was sent already.
 */
export class LogCursor {
  private lastKey: string | undefined;
  private lastTime: string | undefined;
  private atLast = 0;

  /** Where the next read starts (`seconds.nanoseconds`), or undefined before any stamped line. */
  get since(): string | undefined {
    return this.lastTime ? logSince(this.lastTime) : undefined;
  }

  /** Starts after an instant (a read that sent no line yet). */
  startAt(time: string): void {
    if (this.lastTime === undefined) {
      this.lastTime = time;
      this.lastKey = orderKey(time);
      this.atLast = 0;
    }
  }

  /** The lines not sent yet, in order; remembers them as sent. */
  fresh(lines: readonly string[]): { time: string; text: string }[] {
    const out: { time: string; text: string }[] = [];
    let seenAtLast = 0;
    for (const line of lines) {
      const l = splitStamp(line);
      const key = orderKey(l.time);
      if (key === undefined) continue; // an unstamped line cannot be placed: a follow skips it
      if (this.lastKey !== undefined && key < this.lastKey) continue;
      if (this.lastKey !== undefined && key === this.lastKey) {
        seenAtLast++;
        if (seenAtLast <= this.atLast) continue;
        this.atLast++;
        out.push(l);
        continue;
      }
      this.lastKey = key;
      this.lastTime = l.time;
      this.atLast = 1;
      seenAtLast = 1;
      out.push(l);
    }
    return out;
  }
}

/** Lines as the response body says them: each ends with a newline; stamped first when asked. */
export function logText(lines: readonly { time: string; text: string }[], timestamps: boolean): string {
  return lines.map((l) => `${timestamps && l.time ? `${l.time} ` : ''}${l.text}\n`).join('');
}
