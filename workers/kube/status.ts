import type { ErrorCode } from '../../common/problem.ts';
import { DomainError } from '../errors.ts';
import { ApiError } from '../http/errors.ts';
import { type KubeResource, qualifiedName } from './resources.ts';

/**
 * Errors as Kubernetes `Status` objects, which kubectl prints as its users know them
 * (`Error from server (NotFound): deployments.apps "x" not found`). The face's routes throw
 * KubeStatusError with Kubernetes' wording; any other error is translated by its code.
 */

const REASON: Record<ErrorCode, { reason: string; code: number }> = {
  BAD_REQUEST: { reason: 'BadRequest', code: 400 },
  VALIDATION_FAILED: { reason: 'Invalid', code: 422 },
  UNAUTHENTICATED: { reason: 'Unauthorized', code: 401 },
  FORBIDDEN: { reason: 'Forbidden', code: 403 },
  NOT_FOUND: { reason: 'NotFound', code: 404 },
  CONFLICT: { reason: 'Conflict', code: 409 },
  PAYLOAD_TOO_LARGE: { reason: 'RequestEntityTooLarge', code: 413 },
  UNSUPPORTED_MEDIA_TYPE: { reason: 'UnsupportedMediaType', code: 415 },
  RATE_LIMITED: { reason: 'TooManyRequests', code: 429 },
  UNAVAILABLE: { reason: 'ServiceUnavailable', code: 503 },
  BAD_GATEWAY: { reason: 'InternalError', code: 502 },
  INTERNAL: { reason: 'InternalError', code: 500 },
};

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { field: string; message: string; reason: string }[];
}

export class KubeStatusError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }
}

export function statusObject(code: ErrorCode, message: string, details?: StatusDetails) {
  const { reason, code: http } = REASON[code];
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code: http,
  };
}

/** `deployments.apps "web" not found`, as Kubernetes words it. */
export function notFoundStatus(r: KubeResource, name: string): KubeStatusError {
  return new KubeStatusError('NOT_FOUND', `${qualifiedName(r)} "${name}" not found`, {
    name,
    group: r.group,
    kind: r.plural,
  });
}

/** `deployments.apps is forbidden: User "ci" cannot list resource "deployments" in API group "apps" in the namespace "x"`. */
export function forbiddenStatus(
  r: KubeResource,
  user: string,
  verb: string,
  target: { name?: string | undefined; namespace?: string | undefined },
  why?: string,
): KubeStatusError {
  const subject = target.name ? `${qualifiedName(r)} "${target.name}"` : qualifiedName(r);
  const where = target.namespace ? ` in the namespace "${target.namespace}"` : ' at the cluster scope';
  const message = `${subject} is forbidden: User "${user}" cannot ${verb} resource "${r.plural}" in API group "${r.group}"${where}${why ? `: ${why}` : ''}`;
  return new KubeStatusError('FORBIDDEN', message, {
    ...(target.name ? { name: target.name } : {}),
    group: r.group,
    kind: r.plural,
  });
}

/** Any error that reached the face, as a Status and its HTTP headers; null for what is not ours to word. */
export function statusOf(
  err: unknown,
): { body: ReturnType<typeof statusObject>; headers: Record<string, string> } | null {
  if (err instanceof KubeStatusError)
    return { body: statusObject(err.code, err.message, err.details), headers: {} };
  if (err instanceof DomainError) {
    const headers = err instanceof ApiError ? (err.httpOptions.headers ?? {}) : {};
    if (err.options.retryAfterSeconds) headers['retry-after'] = String(err.options.retryAfterSeconds);
    const causes = err.options.errors?.map((e) => ({
      field: e.path,
      message: e.message,
      reason: 'FieldValueInvalid',
    }));
    return { body: statusObject(err.code, err.detail, causes?.length ? { causes } : undefined), headers };
  }
  return null;
}
