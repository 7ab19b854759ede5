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
