/**
 * The Host a request names, as the ingress matches it (common/ingress-routes.ts: exact names
 * before wildcards; `*.example.com` covers exactly one more label, as in Kubernetes Ingress).
 */

/** The Host of a request, port stripped, lower-cased, without a trailing dot; undefined when absent. */
export function normalizeHost(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[')) {
    // IPv6 literal: keep the brackets (no service host can be one), drop the port.
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : undefined;
  }
  const colon = host.indexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host || undefined;
}

/** The request's Host header, or the host of its URL when there is none (HTTP/1.0, in-process calls). */
export function hostOf(req: Request): string | undefined {
  const header = req.headers.get('host');
  if (header) return normalizeHost(header);
  try {
    return normalizeHost(new URL(req.url).host);
  } catch {
    return undefined;
  }
}
