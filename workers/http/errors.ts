import type { ErrorCode, FieldError, Problem } from '../../common/problem.ts';
import { DomainError } from '../errors.ts';

export type { ErrorCode, FieldError, Problem };

/**
 * The one renderer of errors: RFC 9457 problem+json (API.md). Verbs throw DomainError
 * (workers/errors.ts); the HTTP layer adds ApiError for what only HTTP knows (media types, body
 * sizes, authentication headers). Anything else that escapes is a 500 that leaks nothing.
 */
/** One HTTP status per code of the closed set (common/problem.ts). */
const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  BAD_GATEWAY: 502,
  INTERNAL: 500,
};

const TITLE: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Bad request',
  VALIDATION_FAILED: 'Validation failed',
  UNAUTHENTICATED: 'Unauthenticated',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  RATE_LIMITED: 'Too many requests',
  UNAVAILABLE: 'Service unavailable',
  BAD_GATEWAY: 'Bad gateway',
  INTERNAL: 'Internal server error',
};

export class ApiError extends DomainError {
  readonly status: number;
  constructor(
    code: ErrorCode,
    detail: string,
    readonly httpOptions: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(code, detail, httpOptions.errors ? { errors: httpOptions.errors } : {});
    this.status = STATUS[code];
  }
}

export { conflict, DomainError, invalid, notFound } from '../errors.ts';

export const statusOf = (error: DomainError) => STATUS[error.code];

export function problemBody(error: DomainError, requestId: string): Problem {
  return {
    type: `https://berth.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLE[error.code],
    status: statusOf(error),
    detail: error.detail,
    code: error.code,
    requestId,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
  };
}

export function problemResponse(error: DomainError, requestId: string): Response {
  const retryAfter = error.options.retryAfterSeconds;
  return new Response(JSON.stringify(problemBody(error, requestId)), {
    status: statusOf(error),
    headers: {
      'content-type': 'application/problem+json',
      ...(retryAfter ? { 'retry-after': String(retryAfter) } : {}),
      ...(error instanceof ApiError ? error.httpOptions.headers : {}),
    },
  });
}
