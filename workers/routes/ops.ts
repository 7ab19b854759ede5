import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { MIGRATE_HINT, schemaStatus } from '../../db/migration-status.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authenticateBearer } from '../auth/authenticate.ts';
import { FailureLimiter } from '../auth/failure-limiter.ts';
import { sha256Hex, timingSafeEqualHex } from '../crypto.ts';
import { type OpenApiLike, renderDocsPage } from '../http/docs-page.ts';
import { ApiError } from '../http/errors.ts';
import { authenticateToken } from '../verbs/tokens.ts';

export function opsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await deps.ping();
    } catch {
      throw new ApiError('UNAVAILABLE', 'the database is not reachable', { headers: { 'retry-after': '2' } });
    }
    // Reachable is not enough: a database without this release's schema fails every request.
    const schema = await schemaStatus(deps.db);
    if (schema.state !== 'current') {
      const what =
        schema.state === 'missing'
          ? 'the database has no Berth schema (no migration applied)'
          : `the database schema is behind this release (${schema.applied} of ${schema.shipped} migrations applied)`;
      throw new ApiError('UNAVAILABLE', `${what}; ${MIGRATE_HINT}`, { headers: { 'retry-after': '30' } });
    }
    return c.json({ status: 'ready' });
  });
  const document = () =>
    app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Berth API',
        version: deps.version,
        description: 'Declare Deployments and Services; agents run them on your VMs.',
      },
    });
  let cached: ReturnType<typeof document> | undefined;
  const openapi = () => {
    if (!cached) {
      cached = document();
      cached.components = {
        ...cached.components,
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      };
    }
    return cached;
  };
  app.get('/openapi.json', (c) => c.json(openapi()));
  app.get('/metrics', async (c) => {
    if (deps.config.metricsTokenHash) await authenticateMetrics(c, deps);
    return c.text(deps.metrics?.render() ?? '', 200, { 'content-type': 'text/plain; version=0.0.4' });
  });
  app.get('/docs', (c) => c.html(renderDocsPage(openapi() as unknown as OpenApiLike)));
}

/**
 * BERTH_METRICS_TOKEN set: a scraper shows that token, or an admin shows theirs. Wrong tokens
 * count as failed authentications like anywhere else; a valid token that is not an admin's is
 * authenticated but not allowed (403).
 */
async function authenticateMetrics(c: Context, deps: AppDeps): Promise<void> {
  // createApp shares its limiter through deps; an ops route mounted on its own gets one here.
  deps.failureLimiter ??= new FailureLimiter();
  const caller = await authenticateBearer(c, deps, deps.failureLimiter, async (token, now) => {
    if (timingSafeEqualHex(await sha256Hex(token), deps.config.metricsTokenHash ?? '')) return 'scraper';
    return authenticateToken(deps.db, deps.config.adminTokenHash, token, now);
  });
  if (caller !== 'scraper' && (caller.kind !== 'user' || caller.role !== 'admin')) {
    throw new ApiError(
      'FORBIDDEN',
      '/metrics needs the metrics token (BERTH_METRICS_TOKEN) or an admin token',
    );
  }
}
