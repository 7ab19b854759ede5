import { z } from 'zod';

/**
 * The error body every /v1 route returns (RFC 9457 problem+json, API.md "Conventions"): the
 * server renders `Problem`, /openapi.json publishes it, and the CLI and the Action read it as
 * `ReceivedProblem`.
 */

/** The closed set of error codes; each has one HTTP status (workers/http/errors.ts). */
export const ErrorCode = z
  .enum([
    'BAD_REQUEST',
    'VALIDATION_FAILED',
    'UNAUTHENTICATED',
    'FORBIDDEN',
    'NOT_FOUND',
    'CONFLICT',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'RATE_LIMITED',
    'UNAVAILABLE',
    /** The ingress only: a replica answered with something that is not HTTP. */
    'BAD_GATEWAY',
    'INTERNAL',
  ])
  .meta({ id: 'ErrorCode' });
export type ErrorCode = z.infer<typeof ErrorCode>;

/**
 * One problem with one field: `path` is a JSON path such as spec.template.spec.containers[0].image.
 * `document` (POST /v1/apply) is the 0-based index of the manifest document the path is in (prose
 * counts documents from 1), and `kind`/`name` name the object there when it says them.
 */
export const FieldError = z
  .object({
    path: z.string(),
    message: z.string(),
    document: z.int().optional(),
    kind: z.string().optional(),
    name: z.string().optional(),
  })
  .meta({ id: 'FieldError' });
export type FieldError = z.infer<typeof FieldError>;

/** What the server sends: `errors` only for problems with fields (400 of a manifest, 409 of a host, 422). */
export const Problem = z
  .object({
    /** `https://berth.dev/problems/<code in kebab case>` */
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: ErrorCode,
    /** The id the server logged the request under; all a 500 says. */
    requestId: z.string(),
    errors: z.array(FieldError).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

/**
 * A problem as a client reads it, loose on purpose: it must still show whatever an older or newer
 * server sends, a code it does not know included.
 */
export const ReceivedProblem = Problem.partial().extend({ code: z.string().optional() });
export type ReceivedProblem = z.infer<typeof ReceivedProblem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Reads a problem from any response body; falls back to the status line when it isn't one. */
export function toProblem(status: number, statusText: string, body: unknown): ReceivedProblem {
  const parsed = ReceivedProblem.safeParse(body);
  if (parsed.success && (parsed.data.title || parsed.data.detail || parsed.data.code)) {
    return { status, ...parsed.data };
  }
  const text = typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : undefined;
  return { status, title: statusText || `HTTP ${status}`, detail: text };
}

/** "detail" when the server gave one, else the title: the one line a person should read first. */
export function problemSummary(problem: ReceivedProblem): string {
  return problem.detail || problem.title || `HTTP ${problem.status ?? 'error'}`;
}
