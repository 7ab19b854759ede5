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
 * A host's own certificate: the one stored under its exact name, else a wildcard one that covers
 * it (`*.apps.example.com` for `a.apps.example.com`: exactly one more label, as a wildcard
 * certificate matches, so never `b.a.apps.example.com` nor `apps.example.com` itself). `name` is
 * already lower-case without a trailing dot.
 */
export function certificateFor<T>(name: string, hosts: ReadonlyMap<string, T>): T | undefined {
  const exact = hosts.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  // A name of one label, or one that is itself a wildcard, has no wildcard above it.
  if (dot <= 0 || name.startsWith('*.') || name.indexOf('.', dot + 1) < 0) return undefined;
  return hosts.get(`*${name.slice(dot)}`);
}

/**
 * Which certificate a TLS handshake gets, by the name the client asked for (SNI): the host's own
 * (ordered through ACME, or from a kubernetes.io/tls Secret; exact, else a covering wildcard),
 * else the API's files (its names, and clients that connect by address and send none). A name
 * with neither gets the API's pair, which its client then refuses by itself; with no API pair, the
 * handshake fails. Pure over whatever a "certificate" is (a secure context on Node).
 */
export function pickCertificate<T>(
  servername: string | undefined,
  hosts: ReadonlyMap<string, T>,
  api: T | undefined,
): T | undefined {
  const name = servername?.toLowerCase().replace(/\.$/, '');
  return (name ? certificateFor(name, hosts) : undefined) ?? api;
}
