import type { Context } from 'hono';
import type { AppDeps } from '../app-context.ts';
import { type ResolvedClient, resolveClient } from './client-address.ts';

const resolved = new WeakMap<Request, ResolvedClient>();

/**
 * The client of this request (see client-address.ts): from the runtime's peer address and,
 * behind trusted proxies only, X-Forwarded-For. Worked out once per request; the ingress and
 * the failure limiter both ask.
 */
export function clientOf(c: Context, deps: Pick<AppDeps, 'clientAddress' | 'config'>): ResolvedClient {
  let client = resolved.get(c.req.raw);
  if (!client) {
    client = resolveClient(
      deps.clientAddress?.(c),
      c.req.header('x-forwarded-for'),
      deps.config.trustedProxies ?? [],
    );
    resolved.set(c.req.raw, client);
  }
  return client;
}
