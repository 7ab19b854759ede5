import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-context.ts';

/**
 * Declare a route once: the same zod schemas that validate the request describe it in
 * /openapi.json. Validation itself happens in the handler through `readValid`/`validate`,
 * so every rejection goes through the one problem+json renderer with JSON paths.
 */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI style: /v1/namespaces/{ns}/deployments/{name} */
  path: string;
  summary: string;
  tags: string[];
  body?: z.ZodType;
  bodyTypes?: string[];
  query?: z.ZodObject;
  response?: z.ZodType;
  status?: number;
  public?: boolean;
}

const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export function route(
  app: OpenAPIHono<AppEnv>,
  spec: RouteSpec,
  handler: (c: Context<AppEnv>) => Promise<Response> | Response,
): void {
  const params = [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const problem = {
    content: { 'application/problem+json': { schema: Problem } },
    description: 'problem+json',
  };
  app.openAPIRegistry.registerPath({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: spec.tags,
    ...(spec.public ? {} : { security: [{ bearer: [] }] }),
    request: {
      ...(params.length ? { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body
        ? {
            body: {
              required: true,
              content: Object.fromEntries(
                (spec.bodyTypes ?? ['application/json']).map((t) => [t, { schema: spec.body! }]),
              ),
            },
          }
        : {}),
    },
    responses: {
      [spec.status ?? 200]: {
        description: 'success',
        ...(spec.response ? { content: { 'application/json': { schema: spec.response } } } : {}),
      },
      400: problem,
      401: problem,
      403: problem,
      404: problem,
      422: problem,
      503: problem,
    },
  });
  app.on(spec.method.toUpperCase(), spec.path.replace(/\{(\w+)\}/g, ':$1'), handler);
}
