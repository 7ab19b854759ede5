/**
 * Which certificate a TLS handshake gets, by the name the client asked for (SNI): the host's own
 * (ordered through ACME, or from a kubernetes.io/tls Secret), else the API's files (its names,
 * and clients that connect by address and send none). A name with neither gets the API's pair,
 * which its client then refuses by itself; with no API pair, the handshake fails. Pure over
 * whatever a "certificate" is (a secure context on Node).
 */
export function pickCertificate<T>(
  servername: string | undefined,
  hosts: ReadonlyMap<string, T>,
  api: T | undefined,
): T | undefined {
  const name = servername?.toLowerCase().replace(/\.$/, '');
  return (name ? hosts.get(name) : undefined) ?? api;
}
