import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorChain } from '../common/error-chain.ts';
import { isSchemaOutOfDate, MIGRATE_HINT } from '../db/migration-status.ts';
import { isRetryableConflict } from '../db/retry.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { AppDeps, AppEnv } from './app-context.ts';
import { authenticateBearer } from './auth/authenticate.ts';
import { FailureLimiter } from './auth/failure-limiter.ts';
import { Heartbeats } from './auth/heartbeats.ts';
import { shortId } from './crypto.ts';
import { DomainError } from './errors.ts';
import { ApiError, problemResponse } from './http/errors.ts';
import { ingressMiddleware } from './ingress/ingress.ts';
import { kubeApi } from './kube/routes.ts';
import { Metrics } from './metrics.ts';
import { agentRoutes } from './routes/agent.ts';
import { applyRoutes } from './routes/apply.ts';
import { certificateRoutes } from './routes/certificates.ts';
import { configMapRoutes } from './routes/config-maps.ts';
import { cronJobRoutes } from './routes/cron-jobs.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { ingressRoutes } from './routes/ingresses.ts';
import { jobRoutes } from './routes/jobs.ts';
import { namespaceRoutes } from './routes/namespaces.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { opsRoutes } from './routes/ops.ts';
import { persistentVolumeClaimRoutes } from './routes/persistent-volume-claims.ts';
import { policyRoutes } from './routes/policies.ts';
import { replicaRoutes } from './routes/replicas.ts';
import { secretRoutes } from './routes/secrets.ts';
import { serviceAccountRoutes } from './routes/service-accounts.ts';
import { serviceRoutes } from './routes/services.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { EXCHANGE_PATH, trustRuleRoutes } from './routes/trust-rules.ts';
import { createUi } from './ui/index.ts';
import { authenticateToken } from './verbs/tokens.ts';

/**
 * Routes that carry no bearer token: registration proves itself with a join token in its body, an
 * exchange with an identity token in its body. By method too: `DELETE /v1/tokens/exchange` is the
 * revocation of a token named "exchange", which takes an admin's.
 */
const PUBLIC_V1 = new Set(['POST /v1/agent/register', `POST ${EXCHANGE_PATH}`]);

/**
 * The control plane as one Hono app. Every runtime entry builds its dependencies and calls
 * this; nothing in here knows which runtime it is on.
 */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const limiter = deps.failureLimiter ?? new FailureLimiter();
  // One limiter for every route that authenticates (the API and a protected /metrics).
  deps.failureLimiter = limiter;
  const heartbeats = new Heartbeats(deps);

  // First: a request for a service's host is proxied and never reaches the API.
  app.use('*', ingressMiddleware(deps));

  const metrics = deps.metrics ?? new Metrics();
  deps.metrics = metrics;
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 64) || shortId(12);
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    // While shutting down, tell keep-alive clients (agents above all) to reconnect elsewhere.
    if (deps.shuttingDown?.()) c.header('connection', 'close');
    // The matched route pattern, not the path: one series per route, whatever the names.
    const route = c.req.routePath || 'unmatched';
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    metrics.inc('berth_http_requests_total', 'HTTP requests answered', labels);
    metrics.observe(
      'berth_http_request_duration_seconds',
      'HTTP request latency',
      (performance.now() - started) / 1000,
      {
        method: c.req.method,
        route,
      },
    );
  });

  app.use('/v1/*', async (c, next) => {
    // A NUL in the path or query names nothing, and Postgres cannot even compare it: a 500
    // from whichever query met it first. Refuse it here, before it reaches any.
    if (/%00/.test(c.req.url)) throw new ApiError('BAD_REQUEST', 'the URL contains a NUL character (%00)');
    if (PUBLIC_V1.has(`${c.req.method} ${c.req.path}`)) return next();
    const principal = await authenticateBearer(c, deps, limiter, (token, now) =>
      authenticateToken(deps.db, deps.config.adminTokenHash, token, now),
    );
    c.set('principal', principal);
    if (principal.kind === 'node') heartbeats.recordAfter(c, principal, deps.now());
    return next();
  });

  deploymentRoutes(app, deps);
  serviceRoutes(app, deps);
  secretRoutes(app, deps);
  configMapRoutes(app, deps);
  persistentVolumeClaimRoutes(app, deps);
  serviceAccountRoutes(app, deps);
  ingressRoutes(app, deps);
  certificateRoutes(app, deps);
  jobRoutes(app, deps);
  cronJobRoutes(app, deps);
  applyRoutes(app, deps);
  replicaRoutes(app, deps);
  agentRoutes(app, deps);
  nodeRoutes(app, deps);
  tokenRoutes(app, deps);
  namespaceRoutes(app, deps);
  trustRuleRoutes(app, deps);
  policyRoutes(app, deps);
  opsRoutes(app, deps);
  // The Kubernetes API face (/version, /api, /apis) for kubectl: the same verbs, tokens and roles.
  app.route(
    '/',
    kubeApi(deps, (err, c) => renderError(err, c, deps)),
  );
  app.route('/ui', createUi());
  app.get('/', (c) => c.redirect('/ui'));

  app.notFound((c) =>
    problemResponse(
      new ApiError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`),
      c.get('requestId') ?? '',
    ),
  );
  app.onError((err, c) => renderError(err, c, deps));
  return app;
}

export type BerthApp = ReturnType<typeof createApp>;

function renderError(err: unknown, c: Context<AppEnv>, deps: AppDeps): Response {
  const requestId = c.get('requestId') ?? shortId(12);
  if (err instanceof DomainError) return problemResponse(err, requestId);
  if (isDatabaseUnavailable(err)) {
    deps.log.warn('database unavailable', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      error: errorChain(err),
    });
    return problemResponse(
      new ApiError('UNAVAILABLE', 'the database is unavailable; retry shortly', {
        headers: { 'retry-after': '2' },
      }),
      requestId,
    );
  }
  // A table or column the code expects is not there: the database was never migrated, or not to
  // this release (Workers and Deno do not migrate at start). Every request would fail the same
  // way until the operator acts, so say what to do instead of hiding it behind a 500.
  if (isSchemaOutOfDate(err)) {
    deps.log.error('database schema missing or behind', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? err.message : String(err),
    });
    return problemResponse(
      new ApiError('UNAVAILABLE', `the database schema is missing or behind this release; ${MIGRATE_HINT}`, {
        headers: { 'retry-after': '30' },
      }),
      requestId,
    );
  }
  // A deadlock victim or serialization failure was rolled back whole: nothing changed, and the
  // same request will very likely go through at once.
  if (isRetryableConflict(err)) {
    return problemResponse(
      new ApiError('UNAVAILABLE', 'a concurrent change got in the way; nothing was changed, retry', {
        headers: { 'retry-after': '1' },
      }),
      requestId,
    );
  }
  // Hono's own HTTP errors (e.g. a malformed request line) keep their status but lose their text.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return problemResponse(new ApiError('BAD_REQUEST', 'the request could not be read'), requestId);
  }
  deps.log.error('unhandled error', {
    requestId,
    method: c.req.method,
    path: c.req.path,
    error: errorChain(err, true),
  });
  return problemResponse(
    new ApiError('INTERNAL', `internal error; quote request id ${requestId}`),
    requestId,
  );
}
