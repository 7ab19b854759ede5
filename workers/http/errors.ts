/**
 * The closed set of error codes (API.md) and the one renderer: RFC 9457 problem+json.
 * Verbs throw ApiError; anything else that escapes is a 500 that leaks nothing.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL';

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
  NOT_IMPLEMENTED: 501,
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
  NOT_IMPLEMENTED: 'Not implemented',
  INTERNAL: 'Internal server error',
};

export interface FieldError {
  path: string;
  message: string;
  /** Index of the document, for multi-document manifests. */
  document?: number;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.status = STATUS[code];
  }
}

export const notFound = (what: string) => new ApiError('NOT_FOUND', `${what} not found`);
export const conflict = (detail: string) => new ApiError('CONFLICT', detail);
export const invalid = (errors: FieldError[], detail?: string) =>
  new ApiError('VALIDATION_FAILED', detail ?? summarize(errors), { errors });

function summarize(errors: FieldError[]): string {
  const first = errors[0];
  if (!first) return 'the request is invalid';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return `${first.path ? `${first.path}: ` : ''}${first.message}${more}`;
}

export function problemBody(error: ApiError, requestId: string): Problem {
  return {
    type: `https://berth.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLE[error.code],
    status: error.status,
    detail: error.detail,
    code: error.code,
    requestId,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
  };
}

export function problemResponse(error: ApiError, requestId: string): Response {
  return new Response(JSON.stringify(problemBody(error, requestId)), {
    status: error.status,
    headers: { 'content-type': 'application/problem+json', ...error.options.headers },
  });
}
