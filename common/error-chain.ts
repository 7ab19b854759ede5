/**
 * An error as one log line, with every cause it wraps: drivers and ORMs wrap the error that
 * says what happened ("Failed query: ..." around "connection timeout"), and a log that shows only
 * the outer message hides the reason.
 */
export function errorChain(error: unknown, withStack = false): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      break;
    }
    const code = (e as { code?: unknown }).code;
    const text = `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message || '(no message)'}`;
    parts.push(
      depth === 0 && withStack && e.stack ? `${text}\n${e.stack.split('\n').slice(1).join('\n')}` : text,
    );
    e = e.cause;
  }
  return parts.join('\ncaused by: ');
}
