import type { Context } from 'hono';
import type { AppEnv } from '../app-context.ts';

/**
 * Work a request starts but its response does not wait for. On Workers it is kept alive with
 * `waitUntil` (and the request's database pool stays open until it is done); elsewhere the
 * promise simply runs on. The caller handles its errors: nothing awaits it.
 */
export function inBackground(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context outside Workers.
  }
}
