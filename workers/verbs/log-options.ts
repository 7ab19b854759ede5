/**
 * What a log read asks of the agent beyond `tail`: one container, lines since an instant, and
 * timestamps. A pending log request is one row (db/schema/log-requests.ts) that has no column for
 * them, so they ride in the request's id, which only the server reads (the agent echoes it back):
 * `log_<random>` alone, or followed by `:<t?>:<since?>:<container?>`. Container names are DNS
 * labels and `since` is `seconds.nanoseconds`, so `:` never occurs inside a part, and the whole
 * stays within the 128 characters an agent's answer may carry as its id.
 */

export interface LogOptions {
  container?: string | undefined;
  /** `seconds.nanoseconds` since the epoch (logSince). */
  since?: string | undefined;
  timestamps?: boolean | undefined;
}

export function logRequestId(random: string, o: LogOptions): string {
  if (!o.container && !o.since && !o.timestamps) return `log_${random}`;
  return `log_${random}:${o.timestamps ? 't' : ''}:${o.since ?? ''}:${o.container ?? ''}`;
}

/** The options a request id carries, as the fields of the agent's LogRequest. */
export function logOptionsOf(id: string): { container?: string; since?: string; timestamps?: true } {
  const [, flags, since, container] = id.split(':');
  return {
    ...(container ? { container } : {}),
    ...(since && /^\d+(\.\d{1,9})?$/.test(since) ? { since } : {}),
    ...(flags === 't' ? { timestamps: true as const } : {}),
  };
}

/**
 * An RFC 3339 instant (nanoseconds kept: Docker stamps lines to the nanosecond, and a follow
 * asks again from its last line's exact stamp) as `seconds.nanoseconds`; undefined when it is not one.
 */
export function logSince(rfc3339: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return `${seconds}.${(m[2] ?? '').padEnd(9, '0')}`;
}
