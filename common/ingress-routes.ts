/**
 * Host and path → backend, as networking.k8s.io/v1 Ingress matches: an exact host before a
 * wildcard (`*.example.com` covers exactly one more label); within the host, an Exact path that
 * equals the request's before the longest Prefix; a Prefix matches whole path elements (`/foo`
 * matches `/foo`, `/foo/` and `/foo/bar`, never `/foobar`; `/` matches every path). A service's
 * own hosts are the rule `/` Prefix. Pure, so the control plane's ingress and a node's serve
 * requests by one rule.
 */

export type RoutePathType = 'Prefix' | 'Exact';

export interface PathRule<T> {
  host: string;
  path: string;
  pathType: RoutePathType;
  value: T;
}

/** What a host and path found: a rule's value, or only the host (no rule of it matches the path). */
export type RouteMatch<T> = { value: T } | { value?: undefined; hostOnly: true };

/** A Prefix path without its trailing slash (`/` stays `/`): what request paths are compared with. */
export function prefixKey(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Whether a rule's path matches a request path (its pathname, not decoded). */
export function pathMatches(rule: Pick<PathRule<unknown>, 'path' | 'pathType'>, path: string): boolean {
  if (rule.pathType === 'Exact') return path === rule.path;
  const prefix = prefixKey(rule.path);
  if (prefix === '/') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47) /* / */;
}

/** Exact rules first, then Prefix rules longest first; equal ones keep their order (first applied wins). */
function precedence(a: PathRule<unknown>, b: PathRule<unknown>): number {
  if (a.pathType !== b.pathType) return a.pathType === 'Exact' ? -1 : 1;
  return a.pathType === 'Prefix' ? prefixKey(b.path).length - prefixKey(a.path).length : 0;
}

export class RouteTable<T> {
  private readonly exact = new Map<string, PathRule<T>[]>();
  /** Keyed by the part after `*.`. */
  private readonly wildcard = new Map<string, PathRule<T>[]>();

  constructor(rules: Iterable<PathRule<T>>) {
    for (const rule of rules) {
      const host = rule.host.toLowerCase();
      const wild = host.startsWith('*.');
      const into = wild ? this.wildcard : this.exact;
      const key = wild ? host.slice(2) : host;
      const list = into.get(key);
      if (list) list.push(rule);
      else into.set(key, [rule]);
    }
    for (const list of [...this.exact.values(), ...this.wildcard.values()]) list.sort(precedence);
  }

  /** Host names (exact or wildcard) with at least one rule. */
  get size(): number {
    return this.exact.size + this.wildcard.size;
  }

  /**
   * The rule for a request. The host's own rules decide: an exact host's, else its wildcard's;
   * a host with rules none of which matches the path is `hostOnly` (the ingress answers 404
   * rather than handing the request to anything else).
   */
  match(host: string | undefined, path: string): RouteMatch<T> | undefined {
    if (!host) return undefined;
    let list = this.exact.get(host);
    if (!list && this.wildcard.size) {
      const dot = host.indexOf('.');
      list = dot > 0 ? this.wildcard.get(host.slice(dot + 1)) : undefined;
    }
    if (!list) return undefined;
    for (const rule of list) if (pathMatches(rule, path)) return { value: rule.value };
    return { hostOnly: true };
  }
}
