/** One-line JSON logs: readable by people, parseable by log pipelines, same on every runtime. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(minLevel: 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const levels = { info: 0, warn: 1, error: 2, silent: 3 } as const;
  const emit = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (levels[level] < levels[minLevel]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
    if (level === 'error') console.error(line);
    else console.log(line);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
