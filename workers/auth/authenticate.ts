import type { Context } from 'hono';
import type { AppDeps } from '../app-context.ts';
import { clientOf } from '../http/client.ts';
import { ApiError } from '../http/errors.ts';
import type { FailureLimiter } from './failure-limiter.ts';

/** The bearer token of a request, or undefined when it carries none (or not as a bearer token). */
export function bearerToken(c: Context): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  return match?.[1];
}

/**
 * Authenticate a request's bearer token with `verify`, and throttle what fails.
 *
 *   no credential ──────────────────────────────▶ 401, not counted (nothing was guessed)
 *   token ──verify──▶ valid ─────────────────────▶ the caller (never refused by the limiter)
 *                    └▶ invalid ─┬─ address under its limit ─▶ 401, counted
 *                                └─ address over its limit ──▶ 429 with Retry-After
 *
 * A valid token is always checked and always let through, whatever else came from its address:
 * behind a proxy or NAT one address carries many clients (an agent shares its node's address
 * with the node's containers), and one of them failing must not lock the others out. What the
 * limit still does is answer a client that keeps failing with 429 and when to come back.
 */
export async function authenticateBearer<T>(
  c: Context,
  deps: AppDeps,
  limiter: FailureLimiter,
  verify: (token: string, now: Date) => Promise<T | null>,
): Promise<T> {
  const token = bearerToken(c);
  if (token === undefined) {
    throw new ApiError('UNAUTHENTICATED', 'missing "Authorization: Bearer <token>" header', {
      headers: { 'www-authenticate': 'Bearer realm="berth"' },
    });
  }
  const now = deps.now();
  const found = await verify(token, now);
  if (found) return found;
  const address = clientOf(c, deps).address ?? 'unknown';
  const wait = limiter.retryAfter(address, now.getTime());
  if (wait > 0) {
    throw new ApiError('RATE_LIMITED', 'too many failed authentications from this address; slow down', {
      headers: { 'retry-after': String(wait) },
    });
  }
  limiter.recordFailure(address, now.getTime());
  throw new ApiError('UNAUTHENTICATED', 'the token is unknown, revoked or expired', {
    headers: { 'www-authenticate': 'Bearer realm="berth", error="invalid_token"' },
  });
}
