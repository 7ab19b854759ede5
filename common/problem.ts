import { z } from 'zod';

/**
 * The error body every /v1 route returns (RFC 9457 problem+json, API.md "Conventions"), as the
 * CLI, the Action and tests read it. The server renders the same shape.
 */

export const ErrorCode = z.enum([
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
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/**
 * One problem with one field: `path` is a JSON path such as spec.template.spec.containers[0].image.
 * `document` (POST /v1/apply) is the index of the manifest document the path is in.
 */
export const FieldError = z.object({
  path: z.string(),
  message: z.string(),
  document: z.number().optional(),
});
export type FieldError = z.infer<typeof FieldError>;

/** Loose on purpose: a client must still show whatever a newer or older server sends. */
export const Problem = z.object({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
  code: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(FieldError).optional(),
});
export type Problem = z.infer<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Reads a problem from any response body; falls back to the status line when it isn't one. */
export function toProblem(status: number, statusText: string, body: unknown): Problem {
  const parsed = Problem.safeParse(body);
  if (parsed.success && (parsed.data.title || parsed.data.detail || parsed.data.code)) {
    return { status, ...parsed.data };
  }
  const text = typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : undefined;
  return { status, title: statusText || `HTTP ${status}`, detail: text };
}

/** "detail" when the server gave one, else the title: the one line a person should read first. */
export function problemSummary(problem: Problem): string {
  return problem.detail || problem.title || `HTTP ${problem.status ?? 'error'}`;
}
