import type { LogRequestOptions } from '../../db/schema/log-requests.ts';

/** What a log read asks of the agent beyond `tail`: one container, lines since an instant, timestamps. */
export interface LogOptions {
  container?: string | undefined;
  /** `seconds.nanoseconds` since the epoch (logSince). */
  since?: string | undefined;
  timestamps?: boolean | undefined;
}

/** The options as stored with a pending log request and sent to the agent: only those given. */
export function logRequestOptions(o: LogOptions): LogRequestOptions {
  return {
    ...(o.container ? { container: o.container } : {}),
    ...(o.since ? { since: o.since } : {}),
    ...(o.timestamps ? { timestamps: true as const } : {}),
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
