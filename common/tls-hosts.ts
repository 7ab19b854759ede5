/** What both the control plane and the nodes need to serve a host over TLS: pure, any runtime. */

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

/**
 * The certificate for a TLS client's server name: the host's own, else a wildcard's (`*.` and the
 * name without its first label: one label, as certificates' wildcards match), else none.
 */
export function certificateForName<T>(
  servername: string | undefined,
  hosts: ReadonlyMap<string, T>,
): T | undefined {
  const name = servername?.toLowerCase().replace(/\.$/, '');
  if (!name) return undefined;
  const own = hosts.get(name);
  if (own !== undefined) return own;
  const dot = name.indexOf('.');
  return dot > 0 ? hosts.get(`*${name.slice(dot)}`) : undefined;
}
