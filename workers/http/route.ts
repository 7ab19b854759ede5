import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { Problem } from '../../common/problem.ts';
import type { AppEnv } from '../app-context.ts';

/**
 * Declare a route once: the same zod schemas that validate the request describe it in
 * /openapi.json, and the wire schemas of common/wire describe its answer. Validation itself
 * happens in the handler through `readValid`/`validate`, so every rejection goes through the one
 * problem+json renderer with JSON paths.
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
  /** The JSON body of a success; a route that answers with one must name it (204s have none). */
  response?: z.ZodType;
  /** The success status, or each of them (PUT: 201 created, 200 updated). Default 200. */
  status?: number | number[];
  public?: boolean;
}

/** Errors every route may answer with, beside `default` for the rest of the closed set. */
const ERROR_STATUSES = [400, 401, 403, 404, 409, 422, 429, 500, 503];

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
      ...Object.fromEntries(
        [spec.status ?? 200].flat().map((status) => [
          status,
          {
            description: status === 204 ? 'no content' : status === 201 ? 'created' : 'success',
            ...(spec.response ? { content: { 'application/json': { schema: spec.response } } } : {}),
          },
        ]),
      ),
      ...Object.fromEntries(ERROR_STATUSES.map((status) => [status, problem])),
      ...(spec.body ? { 413: problem, 415: problem } : {}),
      default: problem,
    },
  });
  app.on(spec.method.toUpperCase(), spec.path.replace(/\{(\w+)\}/g, ':$1'), handler);
}
