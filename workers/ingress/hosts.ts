/**
 * Host header → service. Exact names win over wildcards; `*.example.com` covers exactly one
 * more label, as in Kubernetes Ingress (a.example.com, never example.com or a.b.example.com).
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

export class HostTable<T> {
  private readonly exact = new Map<string, T>();
  /** Keyed by the part after `*.`. */
  private readonly wildcard = new Map<string, T>();

  constructor(entries: Iterable<{ hosts: readonly string[]; value: T }>) {
    for (const { hosts, value } of entries) {
      for (const h of hosts) {
        const host = h.toLowerCase();
        const into = host.startsWith('*.') ? this.wildcard : this.exact;
        const key = host.startsWith('*.') ? host.slice(2) : host;
        // Hosts are unique across services (the API refuses duplicates); first one wins regardless.
        if (!into.has(key)) into.set(key, value);
      }
    }
  }

  get size(): number {
    return this.exact.size + this.wildcard.size;
  }

  match(host: string | undefined): T | undefined {
    if (!host) return undefined;
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcard.size === 0) return undefined;
    const dot = host.indexOf('.');
    return dot > 0 ? this.wildcard.get(host.slice(dot + 1)) : undefined;
  }
}
