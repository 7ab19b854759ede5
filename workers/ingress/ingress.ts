import type { Context, MiddlewareHandler } from 'hono';
import { isApiHost } from '../../common/host-patterns.ts';
import type { Target } from '../../common/http-forwarding.ts';
import { RouteTable } from '../../common/ingress-routes.ts';
import type { Logger } from '../../common/logger.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { shortId } from '../crypto.ts';
import { clientOf } from '../http/client.ts';
import { resolveClient, type TrustedProxies } from '../http/client-address.ts';
import { ApiError, problemResponse } from '../http/errors.ts';
import { inBackground } from '../http/in-background.ts';
import {
  type IngressRoute,
  loadIngressRuleRoutes,
  type RoutedService,
  serviceHostRoutes,
} from '../verbs/ingress-routes.ts';
import { type Endpoint, findEndpoints, loadServiceRoutes, type ServiceRoute } from '../verbs/services.ts';
import { hostOf } from './hosts.ts';
import { type FetchFn, forward } from './proxy.ts';
import { RefreshingCache } from './refreshing-cache.ts';

/** Keeps a promise that may outlive the request alive (Workers' waitUntil). */
export type Defer = (p: Promise<unknown>) => void;

/** Where the ingress reads its routing state (the database in production, plain data in tests). */
export interface IngressSource {
  /** Services with hosts of their own (each host `/` Prefix to the service). */
  routes(): Promise<ServiceRoute[]>;
  /** Ingress rules: host and path to a service port. */
  ingressRoutes?(): Promise<IngressRoute[]>;
  endpoints(route: ServiceRoute): Promise<Endpoint[]>;
}

/**
 * What the ingress remembers between requests: routing tables, endpoint sets, round-robin
 * positions, endpoints that refused connections. Plain data only, so it can outlive the
 * request that filled it, which on Workers is what makes it a cache at all (the app and its
 * database connection are built per request there; this is kept per isolate).
 */
export class IngressState {
  readonly table: RefreshingCache<RouteTable<RoutedService>>;
  readonly sets: RefreshingCache<Endpoint[]>;
  readonly turn = new Map<string, number>();
  readonly suspects = new Map<string, number>();
  warnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    /**
     * How long a routing table or endpoint set is served from memory. It bounds how long a
     * replica told to stop may still be sent new requests from a copy of the control plane that
     * did not see the change go by, so it stays well under the default drainDelaySeconds (2 s)
     * that the agent waits before SIGTERM.
     */
    readonly ttlMs = 1000,
    readonly now: () => number = Date.now,
    /** How long an endpoint that refused a connection is passed over (while others remain). */
    readonly suspectMs = 2000,
  ) {
    this.table = new RefreshingCache({ ttlMs, now });
    this.sets = new RefreshingCache({ ttlMs, now });
  }
}

export interface IngressOptions {
  /**
   * The API's own host names: never routed to a service, whatever the database says (a row
   * that got there anyway must not take the API, the dashboard and the agents' traffic).
   */
  apiHosts?: readonly string[];
  source: IngressSource;
  /** Peers whose X-Forwarded-For is passed on (BERTH_TRUSTED_PROXIES); others' is replaced. */
  trustedProxies?: TrustedProxies;
  state?: IngressState;
  fetch?: FetchFn;
  log?: Logger;
}

/**
 * The control plane's ingress: Host → service → one ready endpoint, round robin, forwarded
 * with `fetch`. Routing state is cached per process (per isolate on Workers) for a second,
 * and dropped at once when this process itself sees something that changes it go by (see
 * `observe`). An endpoint that is stale anyway (it stopped between two refreshes, or another
 * copy learnt first) refuses the connection, and an idempotent request is retried elsewhere.
 */
export class Ingress {
  readonly state: IngressState;
  private readonly fetch: FetchFn;

  constructor(private readonly options: IngressOptions) {
    this.state = options.state ?? new IngressState();
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /**
   * Where a request for `host` and `path` goes: the service of the Ingress rule or service host
   * that matches (common/ingress-routes.ts), or a refusal when the host is routed but nothing
   * answers the path. With no routing table at all (the database has not answered once yet)
   * nothing matches, so the API keeps answering for itself.
   */
  async route(host: string | undefined, path = '/', defer?: Defer): Promise<RoutedService | undefined> {
    if (!host || isApiHost(host, this.options.apiHosts ?? [])) return undefined;
    try {
      const source = this.options.source;
      const load = this.logged('the service routing table', async () => {
        const rules = source.ingressRoutes ? await source.ingressRoutes() : [];
        return new RouteTable([...rules, ...serviceHostRoutes(await source.routes())]);
      });
      const table = await this.state.table.get('', load, source, defer);
      const found = table.match(host, path);
      if (!found) return undefined;
      return found.value ?? noPath(host, path);
    } catch {
      return undefined;
    }
  }

  /**
   * The ready endpoints of the route's service, each at its host port for the route's service
   * port (the main port unless an Ingress rule names another).
   */
  async endpoints(route: RoutedService, defer?: Defer): Promise<Endpoint[]> {
    if (route.refusal) return [];
    const source = this.options.source;
    const key = `${route.namespace}/${route.name}`;
    const all = await this.state.sets.get(
      key,
      this.logged(`the endpoints of service ${key}`, () => source.endpoints(route)),
      source,
      defer,
    );
    return atPort(all, route);
  }

  /** A load whose failure is logged (at most every 10 s): the last known state is served meanwhile. */
  private logged<T>(what: string, load: () => Promise<T>): () => Promise<T> {
    return async () => {
      try {
        return await load();
      } catch (error) {
        const now = this.state.now();
        if (now - this.state.warnedAt >= 10_000) {
          this.state.warnedAt = now;
          this.options.log?.warn(`ingress: could not refresh ${what}; serving the last known state`, {
            error: describe(error),
          });
        }
        throw error;
      }
    };
  }

  /**
   * The endpoints to try, in order: the next one in this service's rotation, then the one after
   * it for a retry. Endpoints that just refused a connection are passed over while others remain.
   */
  pick(route: ServiceRoute, endpoints: Endpoint[]): Endpoint[] {
    const now = this.state.now();
    let pool = endpoints;
    if (this.state.suspects.size) {
      const healthy = endpoints.filter((e) => !this.isSuspect(e, now));
      if (healthy.length) pool = healthy;
    }
    if (pool.length <= 1) return pool;
    const key = `${route.namespace}/${route.name}`;
    const n = this.state.turn.get(key) ?? 0;
    this.state.turn.set(key, (n + 1) % 1_000_000_007);
    const first = n % pool.length;
    return [pool[first]!, pool[(first + 1) % pool.length]!];
  }

  /**
   * X-Forwarded-For for an endpoint of a request from `peer` that carried `header`: the client
   * and the trusted hops behind `peer`, then `peer` itself. Undefined when the peer is unknown.
   */
  forwardedFor(peer: string | undefined, header: string | string[] | undefined): string | undefined {
    const given = Array.isArray(header) ? header.join(', ') : header;
    const chain = resolveClient(peer, given, this.options.trustedProxies ?? []).forwardedFor;
    return chain.length ? chain.join(', ') : undefined;
  }

  /** Forward a request to the service (its Host matched); every failure is a problem+json 503. */
  async handle(req: Request, route: RoutedService, forwardedFor?: string, defer?: Defer): Promise<Response> {
    const requestId = req.headers.get('x-request-id')?.slice(0, 64) || shortId(12);
    if (route.refusal) return refusedResponse(route.refusal, requestId);
    const service = `${route.namespace}/${route.name}`;
    let endpoints: Endpoint[];
    try {
      endpoints = await this.endpoints(route, defer);
    } catch {
      return unavailable(`the endpoints of service "${service}" cannot be read right now`, requestId);
    }
    const order = this.pick(route, endpoints);
    if (order.length === 0) return unavailable(`service "${service}" has no ready endpoints`, requestId);
    const url = new URL(req.url);
    const outcome = await forward(
      req,
      order,
      { forwardedFor, proto: url.protocol.replace(/:$/, ''), host: req.headers.get('host') ?? url.host },
      this.fetch,
    );
    if (outcome.ok) {
      for (const failed of order.slice(0, outcome.attempts - 1)) this.reportFailure(failed);
      return outcome.response;
    }
    if (outcome.reason === 'malformed') {
      for (const failed of order.slice(0, outcome.attempts - 1)) this.reportFailure(failed);
      return badGateway(service, describe(outcome.error), requestId);
    }
    for (const failed of order.slice(0, outcome.attempts)) this.reportFailure(failed);
    if (outcome.reason === 'aborted') return new Response(null, { status: 499 });
    return unavailable(
      `no endpoint of service "${service}" answered (${describe(outcome.error)})`,
      requestId,
    );
  }

  /**
   * Let the ingress see every request this process answers, so what changes routing drops the
   * cache at once instead of after the TTL: an agent's status report (readiness), an agent
   * receiving new assignments (the controller just stopped or placed replicas on its node), and
   * any successful write through the API (services, deployments, nodes).
   */
  observe(method: string, path: string, status: number): void {
    if (!path.startsWith('/v1/')) return;
    const write = method !== 'GET' && method !== 'HEAD';
    if (write && status < 400) {
      this.state.sets.invalidate();
      if (path === '/v1/apply' || path.includes('/services') || path.includes('/ingresses'))
        this.state.table.invalidate();
    } else if (path === '/v1/agent/assignments' && status === 200) {
      this.state.sets.invalidate();
    }
  }

  invalidate(): void {
    this.state.table.invalidate();
    this.state.sets.invalidate();
  }

  private isSuspect(e: Target, now: number): boolean {
    const until = this.state.suspects.get(`${e.address}:${e.port}`);
    if (until === undefined) return false;
    if (until > now) return true;
    this.state.suspects.delete(`${e.address}:${e.port}`);
    return false;
  }

  /** An endpoint refused or dropped a connection: pass over it for a while, while others remain. */
  reportFailure(e: Target): void {
    const { suspects } = this.state;
    if (suspects.size > 10_000) suspects.clear();
    suspects.set(`${e.address}:${e.port}`, this.state.now() + this.state.suspectMs);
  }
}

/** A routed host whose rules do not cover the path: a 404, as an ingress's default backend answers. */
function noPath(host: string, path: string): RoutedService {
  const detail = `no rule of host "${host}" matches path "${path.slice(0, 200)}"`;
  return {
    namespace: '',
    name: '',
    hosts: [],
    spec: { selector: {}, ports: [], hosts: [] } as unknown as ServiceRoute['spec'],
    refusal: { status: 404, detail },
  };
}

/**
 * Endpoints at the host port of `route.port`: each Endpoint carries its main port, and every port
 * when the service has several. An endpoint that does not publish the port (a rollout that
 * dropped it) is left out.
 */
export function atPort(endpoints: Endpoint[], route: RoutedService): Endpoint[] {
  const wanted = route.port;
  if (wanted === undefined || route.spec.ports.length <= 1) return endpoints;
  const out: Endpoint[] = [];
  for (const e of endpoints) {
    const hostPort = e.ports?.find((p) => p.port === wanted)?.hostPort;
    if (hostPort === undefined) continue;
    out.push(hostPort === e.port ? e : { ...e, port: hostPort });
  }
  return out;
}

export function refusedResponse(refusal: NonNullable<RoutedService['refusal']>, requestId: string): Response {
  if (refusal.status === 503) return unavailable(refusal.detail, requestId);
  const res = problemResponse(new ApiError('NOT_FOUND', refusal.detail), requestId);
  res.headers.set('x-request-id', requestId);
  return res;
}

/** A replica answered with something that is not HTTP (the parser's code says what): 502, as nginx answers. */
export function badGateway(service: string, code: string, requestId: string): Response {
  const res = problemResponse(
    new ApiError('BAD_GATEWAY', `an endpoint of service "${service}" sent a malformed answer (${code})`),
    requestId,
  );
  res.headers.set('x-request-id', requestId);
  return res;
}

export function unavailable(detail: string, requestId: string): Response {
  const res = problemResponse(
    new ApiError('UNAVAILABLE', detail, { headers: { 'retry-after': '1' } }),
    requestId,
  );
  res.headers.set('x-request-id', requestId);
  return res;
}

/** A connection error's code (ECONNREFUSED, ...) without addresses or stacks. */
export function describe(error: unknown): string {
  let e = error as { code?: unknown; cause?: unknown; name?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return (error as { name?: string })?.name ?? 'connection failed';
}

const byDeps = new WeakMap<AppDeps, Ingress>();
const byConfig = new WeakMap<object, IngressState>();

/**
 * The ingress of an app's dependencies: the Hono middleware and the Node server share it. Its
 * state is kept per `deps.config`, the one object that lives as long as the control plane
 * does in every runtime (per process on Node and Deno; per isolate on Workers, whose settings
 * are cached while the app and `deps` are built anew for each request).
 */
export function ingressFor(deps: AppDeps): Ingress {
  let ingress = byDeps.get(deps);
  if (!ingress) {
    let state = byConfig.get(deps.config);
    if (!state) {
      state = new IngressState();
      byConfig.set(deps.config, state);
    }
    ingress = new Ingress({
      state,
      source: {
        routes: () => loadServiceRoutes(deps.db),
        ingressRoutes: () => loadIngressRuleRoutes(deps.db),
        endpoints: (route) => findEndpoints(deps.db, route),
      },
      log: deps.log,
      trustedProxies: deps.config.trustedProxies,
      apiHosts: deps.config.apiHosts,
    });
    byDeps.set(deps, ingress);
  }
  return ingress;
}

/**
 * Mounted first: a request whose Host is a service's goes to that service and never reaches
 * the API; any other request goes on to the API as if the ingress were not there.
 */
export function ingressMiddleware(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const ingress = ingressFor(deps);
  return async (c: Context<AppEnv>, next) => {
    // Workers: a refresh that outlives this request must be allowed to finish.
    const defer: Defer = (p) => inBackground(c, p);
    const route = await ingress.route(hostOf(c.req.raw), pathOf(c.req.url), defer);
    if (route) {
      const forwardedFor = clientOf(c, deps).forwardedFor.join(', ') || undefined;
      return ingress.handle(c.req.raw, route, forwardedFor, defer);
    }
    await next();
    ingress.observe(c.req.method, c.req.path, c.res.status);
  };
}

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.search(/[?#]/);
  return url.slice(start, end < start ? undefined : end) || '/';
}

/** The path of a request target (origin form `/a?b`, or absolute form), without its query. */
export function requestPath(target: string | undefined): string {
  if (!target) return '/';
  if (!target.startsWith('/')) return pathOf(target);
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}
