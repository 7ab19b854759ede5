/** A small leveled logger: one line per event, `key=value` fields. BERTH_LOG=debug adds timings. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  readonly debugEnabled: boolean;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function format(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = String(v);
    out += ` ${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`;
  }
  return out;
}

export function createLogger(
  level: LogLevel = parseLevel(process.env.BERTH_LOG),
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const min = ORDER[level];
  const at =
    (l: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (ORDER[l] >= min) write(`${new Date().toISOString()} ${l} ${msg}${format(fields)}`);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debugEnabled: min === 0,
  };
}

function parseLevel(v: string | undefined): LogLevel {
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
