import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { timingSafeEqualHex } from '../crypto.ts';

/**
 * The exec streams are WebSockets, which each runtime upgrades outside the app (Node's relay,
 * Deno's entry, the Worker before its Durable Object). Authentication and every rule stay in the
 * app all the same: before upgrading, the runtime asks the app with the same URL and headers plus
 * this header, and upgrades only on a 200 (any other answer is written back to the client as it
 * is). The value is a secret of the process (of the isolate on Workers), so a client cannot pass
 * a request of its own off as a preflight.
 */
export const EXEC_PREFLIGHT_HEADER = 'x-berth-exec-preflight';

/** A WebSocket upgrade (kubectl, or an agent's exec socket). */
export const isWebSocketUpgrade = (c: Context<AppEnv>) =>
  c.req.header('upgrade')?.toLowerCase() === 'websocket';

/** Whether this request is the runtime's own, asking before it upgrades. */
export function isExecPreflight(c: Context<AppEnv>, deps: AppDeps): boolean {
  const given = c.req.header(EXEC_PREFLIGHT_HEADER);
  // Compared in constant time: the secret is hex, as timingSafeEqualHex expects.
  return Boolean(given && deps.execPreflight && timingSafeEqualHex(given, deps.execPreflight));
}
