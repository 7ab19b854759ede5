/** The ACME HTTP-01 path: answered on plain HTTP, never redirected (the CA does not follow to HTTPS first). */
export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** The token of an HTTP-01 request path, if it is one. */
export function challengeToken(path: string | undefined): string | undefined {
  if (!path?.startsWith(CHALLENGE_PREFIX)) return undefined;
  const token = path.slice(CHALLENGE_PREFIX.length).split('?')[0] ?? '';
  return /^[A-Za-z0-9_-]{1,256}$/.test(token) ? token : undefined;
}

/**
 * Where a plain HTTP request for `host` goes once the host has a certificate: the same path and
 * query over HTTPS (308 keeps the method and body). The port is named unless it is 443.
 */
export function httpsLocation(host: string, httpsPort: number, pathAndQuery: string): string {
  const path = pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`;
  return `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`;
}
