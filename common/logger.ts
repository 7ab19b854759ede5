/**
 * Berth's one logger, for the control plane (every runtime) and the agent alike: one JSON
 * object per line (`time`, `level`, `message`, then fields), so people can read it and log
 * pipelines can parse it, and the control plane and the local agent of one `npm start` write
 * the same format. The level comes from BERTH_LOG_LEVEL (`debug`, `info`, `warn`, `error`,
 * `silent`), parsed with the rest of each process's configuration.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether debug lines are written (so callers can skip measuring what nobody reads). */
  readonly debugEnabled: boolean;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** Lines go to stderr (console.error on the edge runtimes, which have no streams). */
const toStderr = (line: string) => console.error(line);

/**
 * `base` fields go on every line (e.g. `{component: 'agent', node: 'vm-1'}`): one process may
 * hold both a control plane and an agent.
 */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = toStderr,
  base: LogFields = {},
): Logger {
  const min = ORDER[level];
  const at =
    (l: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields?: LogFields): void => {
      if (ORDER[l] < min) return;
      write(JSON.stringify({ time: new Date().toISOString(), level: l, message, ...base, ...fields }));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debugEnabled: min === 0,
  };
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The same logger with `fields` on every line (npm start's local agent inside the control plane's process). */
export function withFields(log: Logger, fields: LogFields): Logger {
  return {
    debug: (m, f) => log.debug(m, { ...fields, ...f }),
    info: (m, f) => log.info(m, { ...fields, ...f }),
    warn: (m, f) => log.warn(m, { ...fields, ...f }),
    error: (m, f) => log.error(m, { ...fields, ...f }),
    debugEnabled: log.debugEnabled,
  };
}
