import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authenticateBearer } from '../auth/authenticate.ts';
import { can } from '../auth/authorize.ts';
import { FailureLimiter } from '../auth/failure-limiter.ts';
import type { Principal } from '../auth/principal.ts';
import { DomainError, type ErrorCode } from '../errors.ts';
import { authenticateToken } from '../verbs/tokens.ts';
import {
  AGGREGATED_DISCOVERY,
  aggregatedDiscovery,
  coreVersions,
  groupInfo,
  groupList,
  isServedGroup,
  resourceList,
  versionInfo,
  wantsAggregated,
} from './discovery.ts';
import { fieldRequirements, labelRequirements, matchesFields } from './field-selector.ts';
import { kubeNamespaceRoutes } from './namespace-writes.ts';
import { type KubeObject, kubeList, listResourceVersion } from './objects.ts';
import { podExec } from './pod-exec-route.ts';
import { podLog } from './pod-log-route.ts';
import { podPortForward } from './pod-port-forward-route.ts';
import { findResource, groupVersion, type KubeResource, servedVersion } from './resources.ts';
import { KUBE_SOURCES, sourceOf } from './sources.ts';
import { forbiddenStatus, KubeStatusError, notFoundStatus, statusObject, statusOf } from './status.ts';
import { toTable, wantsTable } from './tables.ts';
import { readClock, stampVersions } from './versions.ts';
import { isWatch, type NodeOutgoing, serveWatch } from './watch.ts';
import { kubeOpenApiRoutes, kubeWriteRoutes } from './writes.ts';

/**
 * The paths the face answers; nothing else of the app's passes through it. (`/api/*` matches
 * `/api` itself too: listing both would authenticate a request twice.)
 */
const KUBE_PATHS = ['/version', '/api/*', '/apis/*', '/openapi/v3', '/openapi/v3/*'];

/**
 * The Kubernetes API face: discovery and reads of Berth's objects as Kubernetes serves them, for
 * an unmodified kubectl. A second face of the same verbs and the same tokens and roles as `/v1`.
 */
export function kubeApi(
  deps: AppDeps,
  /** The app's own renderer, for errors that are not the face's (database down, a bug): it logs them. */
  renderError: (err: unknown, c: Context<AppEnv>) => Response,
) {
  const app = new Hono<AppEnv>();

  const limiter = deps.failureLimiter ?? new FailureLimiter();
  // Mounted at the root beside `/v1`: the middleware names the face's own paths only.
  const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (/%00/.test(c.req.url))
      throw new KubeStatusError('BAD_REQUEST', 'the URL contains a NUL character (%00)');
    const principal = await authenticateBearer(c, deps, limiter, (token, now) =>
      authenticateToken(deps.db, deps.config.adminTokenHash, token, now),
    );
    c.set('principal', principal);
    return next();
  };
  for (const path of KUBE_PATHS) app.use(path, authenticate);

  app.get('/version', (c) => c.json(versionInfo()));

  app.get('/api', (c) =>
    wantsAggregated(c.req.header('accept'))
      ? aggregated(c, aggregatedDiscovery('core'))
      : c.json(coreVersions(new URL(c.req.url).host)),
  );
  app.get('/apis', (c) =>
    wantsAggregated(c.req.header('accept'))
      ? aggregated(c, aggregatedDiscovery('groups'))
      : c.json(groupList()),
  );
  app.get('/api/v1', (c) => c.json(resourceList('', 'v1')));
  app.get('/apis/:group', (c) => {
    const group = c.req.param('group');
    if (!isServedGroup(group)) throw unknownResource();
    return c.json(groupInfo(group));
  });
  app.get('/apis/:group/:version', (c) => {
    const { group, version } = c.req.param();
    if (!isServedGroup(group) || version !== servedVersion(group)) throw unknownResource();
    return c.json(resourceList(group, version));
  });

  // Core resources: /api/v1/{plural}[/{name}] and /api/v1/namespaces/{ns}/{plural}[/{name}].
  app.get('/api/v1/namespaces/:ns/:plural', (c) =>
    read(c, '', 'v1', c.req.param('plural'), c.req.param('ns')),
  );
  app.get('/api/v1/namespaces/:ns/:plural/:name', (c) =>
    read(c, '', 'v1', c.req.param('plural'), c.req.param('ns'), c.req.param('name')),
  );
  app.get('/api/v1/:plural', (c) => read(c, '', 'v1', c.req.param('plural')));
  app.get('/api/v1/:plural/:name', (c) =>
    read(c, '', 'v1', c.req.param('plural'), undefined, c.req.param('name')),
  );
  // Named groups: the same shapes under /apis/{group}/{version}.
  app.get('/apis/:group/:version/namespaces/:ns/:plural', (c) => {
    const p = c.req.param();
    return read(c, p.group, p.version, p.plural, p.ns);
  });
  app.get('/apis/:group/:version/namespaces/:ns/:plural/:name', (c) => {
    const p = c.req.param();
    return read(c, p.group, p.version, p.plural, p.ns, p.name);
  });
  app.get('/api/v1/namespaces/:ns/pods/:name/log', (c) => podLog(c, deps));
  // kubectl asks with GET for a WebSocket and falls back to POST for SPDY: both get the same answer.
  app.on(['GET', 'POST'], '/api/v1/namespaces/:ns/pods/:name/exec', (c) => podExec(c, deps));
  app.on(['GET', 'POST'], '/api/v1/namespaces/:ns/pods/:name/attach', (c) => podExec(c, deps, 'attach'));
  app.on(['GET', 'POST'], '/api/v1/namespaces/:ns/pods/:name/portforward', (c) => podPortForward(c, deps));
  // A Deployment's status subresource is the Deployment (as Kubernetes answers a GET of it).
  app.get('/apis/apps/v1/namespaces/:ns/deployments/:name/status', (c) =>
    read(c, 'apps', 'v1', 'deployments', c.req.param('ns'), c.req.param('name')),
  );
  app.get('/apis/:group/:version/:plural', (c) => {
    const p = c.req.param();
    return read(c, p.group, p.version, p.plural);
  });
  // A cluster-scoped resource of a named group: NodeMetrics.
  app.get('/apis/:group/:version/:plural/:name', (c) => {
    const p = c.req.param();
    return read(c, p.group, p.version, p.plural, undefined, p.name);
  });

  kubeWriteRoutes(app, deps);
  kubeNamespaceRoutes(app, deps);
  kubeOpenApiRoutes(app);

  // Anything else under the face's prefixes is a Kubernetes 404 (or 405 for a verb not served
  // yet), never the problem+json of `/v1`: kubectl must be able to read it.
  for (const prefix of ['/api/*', '/apis/*']) {
    app.all(prefix, (c) => {
      if (c.req.method !== 'GET') return methodNotAllowed(c);
      throw unknownResource();
    });
  }

  app.onError(async (err, c) => {
    const s = statusOf(err);
    if (s) {
      for (const [k, v] of Object.entries(s.headers)) c.header(k, v);
      return c.json(s.body, s.body.code as 400);
    }
    // The app words and logs it (503 with Retry-After, or a 500 naming only the request id); the
    // face only reshapes the problem into the Status kubectl reads.
    const problem = renderError(err, c);
    const { code, detail } = (await problem.json()) as { code: ErrorCode; detail: string };
    const body = statusObject(code, detail);
    const headers = Object.fromEntries(
      [...problem.headers].filter(([k]) => k !== 'content-type' && k !== 'content-length'),
    );
    return c.json(body, problem.status as 500, headers);
  });

  async function read(
    c: Context<AppEnv>,
    group: string,
    version: string,
    plural: string,
    namespace?: string,
    name?: string,
  ) {
    const resource = findResource(group, version, plural);
    const source = resource && sourceOf(resource);
    if (!resource || !source) throw unknownResource();
    // A namespaced resource asked for without a namespace is the all-namespaces list (-A); a
    // cluster-scoped one asked for inside a namespace does not exist there.
    if (namespace !== undefined && !resource.namespaced) throw unknownResource();
    const query = c.req.query();
    const selector = query.labelSelector || undefined;
    const fields = fieldRequirements(resource, query.fieldSelector || undefined, selector);
    const watch = isWatch(query);
    const principal = c.get('principal');
    if (name !== undefined && resource.namespaced && namespace === undefined) throw unknownResource();
    // A watch of one name is the watch of a list selected by it (`kubectl` asks the latter).
    if (watch && name !== undefined) fields.push({ field: 'metadata.name', op: '=', value: name });
    const verb = watch ? 'watch' : name !== undefined ? 'get' : 'list';
    if (!resource.verbs.includes(verb)) return methodNotAllowed(c);
    // Only what can be watched has a place on the watch clock (metrics are samples, not changes).
    const stamp = (items: KubeObject[]) =>
      resource.verbs.includes('watch') ? stampVersions(deps.db, resource.plural, items) : undefined;

    if (name !== undefined && !watch) {
      mayRead(principal, resource, verb, namespace, name);
      const object = await source.get(deps.db, namespace, name).catch((err: unknown) => {
        if (err instanceof DomainError && err.code === 'NOT_FOUND') return undefined;
        throw err;
      });
      if (!object) throw notFoundStatus(resource, name);
      await stamp([object]);
      return respond(c, resource, object);
    }

    let list: () => Promise<KubeObject[]>;
    if (!resource.namespaced) {
      mayRead(principal, resource, verb, undefined);
      list = async () => {
        const items = await source.list(deps.db, undefined, selector);
        return resource.plural === 'namespaces'
          ? items.filter((o) => seesNamespace(principal, o.metadata.name))
          : items;
      };
    } else if (namespace !== undefined) {
      mayRead(principal, resource, verb, namespace);
      list = () => source.list(deps.db, namespace, selector);
    } else {
      // All namespaces: only a token that reaches every namespace, as Kubernetes' RBAC asks for
      // a cluster-wide right before listing across namespaces.
      mayRead(principal, resource, verb, undefined);
      if (principal.kind !== 'user' || !principal.namespaces.includes('*'))
        throw forbiddenStatus(
          resource,
          userName(principal),
          verb,
          {},
          'the token is limited to some namespaces',
        );
      list = async () => {
        const namespaces = (await KUBE_SOURCES.namespaces!.list(deps.db, undefined, undefined)).map(
          (o) => o.metadata.name,
        );
        return (await Promise.all(namespaces.map((n) => source.list(deps.db, n, selector)))).flat();
      };
    }
    const selected = async () => {
      const items = (await list()).filter((o) => matchesFields(o, fields));
      await stamp(items);
      return items;
    };
    if (watch && deps.kubeWatch)
      return serveWatch({
        deps,
        hub: deps.kubeWatch,
        resource,
        filter: {
          ...(namespace !== undefined ? { namespace } : {}),
          ...(resource.plural === 'namespaces'
            ? { visible: (o: KubeObject) => seesNamespace(principal, o.metadata.name) }
            : {}),
          labels: labelRequirements(selector),
          fields,
        },
        query,
        table: wantsTable(c.req.header('accept')),
        list: selected,
        ...nodeOutgoing(c),
      });
    // Read before the list: every change up to it is in the list, so a watch can start from it.
    const { rv } = await readClock(deps.db);
    return respond(c, resource, await selected(), String(rv));
  }

  function respond(
    c: Context<AppEnv>,
    resource: KubeResource,
    found: KubeObject | KubeObject[],
    listRv?: string,
  ) {
    const items = Array.isArray(found) ? found : [found];
    const rv = listRv ?? (Array.isArray(found) ? listResourceVersion(items) : found.metadata.resourceVersion);
    if (wantsTable(c.req.header('accept'))) return c.json(toTable(resource.kind, items, rv, deps.now()));
    if (!Array.isArray(found)) return c.json(found);
    const body = kubeList(groupVersion(resource.group, resource.version), resource.kind, items);
    return c.json({ ...body, metadata: { ...body.metadata, resourceVersion: rv } });
  }

  return app;
}

/** Node's response object, where Hono's Node adapter passes it (`c.env.outgoing`). */
function nodeOutgoing(c: Context): { outgoing?: NodeOutgoing } {
  const outgoing = (c.env as { outgoing?: NodeOutgoing } | undefined)?.outgoing;
  return outgoing && typeof outgoing.writeHead === 'function' ? { outgoing } : {};
}

function aggregated(c: Context, body: unknown) {
  return c.body(JSON.stringify(body), 200, { 'content-type': AGGREGATED_DISCOVERY });
}

function methodNotAllowed(c: Context) {
  return c.json(
    {
      ...statusObject('BAD_REQUEST', `the server does not allow this method on the requested resource`),
      reason: 'MethodNotAllowed',
      code: 405,
    },
    405,
  );
}

function unknownResource() {
  return new KubeStatusError('NOT_FOUND', 'the server could not find the requested resource');
}

const userName = (p: Principal) => (p.kind === 'user' ? p.name : `node:${p.nodeName}`);

function seesNamespace(p: Principal, namespace: string): boolean {
  return p.kind === 'user' && (p.namespaces.includes('*') || p.namespaces.includes(namespace));
}

/** The same role matrix as `/v1` (auth/authorize.ts), worded as Kubernetes' RBAC words a refusal. */
function mayRead(p: Principal, r: KubeResource, verb: string, namespace: string | undefined, name?: string) {
  const source = sourceOf(r);
  const allowed =
    source?.authz === 'namespaces'
      ? p.kind === 'user'
      : source !== undefined && can(p, 'read', source.authz, namespace);
  if (!allowed) throw forbiddenStatus(r, userName(p), verb, { name, namespace });
}
