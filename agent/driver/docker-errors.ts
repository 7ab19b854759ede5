import { EngineUnavailableError } from './driver.ts';

/** How Docker Engine API errors (as dockerode raises them) become the driver's errors. */

export function statusOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'statusCode' in e
    ? (e as { statusCode?: number }).statusCode
    : undefined;
}

/** Socket errors: the engine is not there to ask (stopped, restarting, socket missing). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * dockerode wraps engine errors as "(HTTP code 500) server error - <message>": keep the message.
 * No answer at all is an EngineUnavailableError.
 */
export function engineError(e: unknown): Error {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (
    (typeof code === 'string' && UNREACHABLE.has(code)) ||
    (e instanceof Error && /socket hang up/.test(e.message))
  )
    return new EngineUnavailableError(`the Docker Engine did not answer: ${(e as Error).message}`);
  if (typeof e === 'object' && e !== null && 'json' in e) {
    const json = (e as { json?: unknown }).json;
    const msg =
      typeof json === 'object' && json !== null && 'message' in json
        ? String((json as { message: unknown }).message)
        : typeof json === 'string' && json.trim()
          ? json.trim()
          : undefined;
    if (msg) return new Error(msg);
  }
  return e instanceof Error ? e : new Error(String(e));
}
