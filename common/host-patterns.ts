/**
 * Host names and the patterns Services and the API claim: an exact name (`web.example.com`) or a
 * wildcard that covers exactly one more label (`*.example.com` covers `a.example.com`, never
 * `example.com` nor `a.b.example.com`), as Kubernetes Ingress hosts do.
 */

/** Whether `pattern` (exact or wildcard) matches the concrete host name `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2);
}

/** Whether some host name is matched by both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  const wildA = a.startsWith('*.');
  const wildB = b.startsWith('*.');
  if (wildA && wildB) return a === b;
  if (wildA) return hostMatches(a, b);
  if (wildB) return hostMatches(b, a);
  return a === b;
}

/**
 * Whether `host` (exact or wildcard) lies within `suffix`: the suffix itself, or any name under
 * it (`shop.example.com` and `*.shop.example.com` are within `example.com`).
 */
export function withinSuffix(host: string, suffix: string): boolean {
  const name = host.startsWith('*.') ? host.slice(2) : host;
  return name === suffix || name.endsWith(`.${suffix}`);
}

/** An IPv4 or IPv6 literal: never a Service host (a tenant could take the API's own address). */
export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':') || host.startsWith('[');
}

/**
 * The API's own host names, from configuration: exact names, or `*.suffix` for the suffix and
 * every name under it at any depth (broader than a Service wildcard on purpose: what protects the
 * API errs on the side of covering too much, e.g. `*.workers.dev` for `berth.acct.workers.dev`).
 */
export function isApiHost(host: string, apiHosts: readonly string[]): boolean {
  return apiHosts.some((a) => (a.startsWith('*.') ? withinSuffix(host, a.slice(2)) : a === host));
}

/** The API host a Service's host pattern would take, if any (so it can be refused, naming it). */
export function apiHostClaimedBy(pattern: string, apiHosts: readonly string[]): string | undefined {
  for (const a of apiHosts) {
    if (a.startsWith('*.')) {
      const suffix = a.slice(2);
      // A pattern under the suffix, or a wildcard whose one label sits on the suffix itself.
      if (
        withinSuffix(pattern, suffix) ||
        (pattern.startsWith('*.') && withinSuffix(suffix, pattern.slice(2)))
      )
        return a;
    } else if (hostMatches(pattern, a)) return a;
  }
  return undefined;
}
