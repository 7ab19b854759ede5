import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { type OpenApiLike, renderDocsPage } from '../http/docs-page.ts';
import { ApiError } from '../http/errors.ts';

export function opsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await deps.ping();
    } catch {
      throw new ApiError('UNAVAILABLE', 'the database is not reachable', { headers: { 'retry-after': '2' } });
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
  app.get('/metrics', (c) =>
    c.text(deps.metrics?.render() ?? '', 200, { 'content-type': 'text/plain; version=0.0.4' }),
  );
  app.get('/docs', (c) => c.html(renderDocsPage(openapi() as unknown as OpenApiLike)));
}
