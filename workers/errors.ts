import type { z } from 'zod';
import { zodFieldErrors } from '../common/manifest.ts';
import type { ErrorCode, FieldError } from '../common/problem.ts';

export type { ErrorCode, FieldError };

/**
 * What a verb, the controller or the authorizer says went wrong, in the API's closed set of
 * codes (API.md) and without any HTTP: one place in `workers/http` turns it into problem+json
 * with its status and headers. Anything else that escapes a request is a 500 that leaks nothing.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: {
      errors?: FieldError[];
      /** Worth retrying after this many seconds (UNAVAILABLE, RATE_LIMITED). */
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);
export const conflict = (detail: string, errors?: FieldError[]) =>
  new DomainError('CONFLICT', detail, errors ? { errors } : {});
export const forbidden = (detail: string) => new DomainError('FORBIDDEN', detail);
export const unavailable = (detail: string, retryAfterSeconds?: number) =>
  new DomainError('UNAVAILABLE', detail, retryAfterSeconds ? { retryAfterSeconds } : {});
export const invalid = (errors: FieldError[], detail?: string) =>
  new DomainError('VALIDATION_FAILED', detail ?? summarize(errors), { errors });

function summarize(errors: FieldError[]): string {
  const first = errors[0];
  if (!first) return 'the request is invalid';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return `${first.path ? `${first.path}: ` : ''}${first.message}${more}`;
}

/** Parse with a schema; a mismatch is a 422 naming each field's JSON path. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: PropertyKey[] = [],
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(zodFieldErrors(result.error, prefix, value));
  return result.data;
}
