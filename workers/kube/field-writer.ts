import type { Context } from 'hono';
import type { AppEnv } from '../app-context.ts';
import type { FieldWriter } from './field-ownership.ts';
import { groupVersion, type KubeResource } from './resources.ts';
import { KubeStatusError } from './status.ts';

export type { FieldWriter };

/** Kubernetes' limit on a manager's name. */
const MAX_MANAGER = 128;

/**
 * Who a write's fields belong to: the `fieldManager` query parameter (kubectl sends `kubectl` for
 * server-side apply, `kubectl-client-side-apply`, `kubectl-edit`, ...), or else, as Kubernetes
 * does, the program name at the head of the User-Agent (`kubectl/v1.32.4 (linux/amd64) ...` is
 * `kubectl`), or `unknown` when there is none. Server-side apply must name its manager.
 */
export function fieldWriter(
  c: Context<AppEnv>,
  r: KubeResource,
  now: Date,
  apply = false,
  subresource?: string,
): FieldWriter {
  const named = c.req.query('fieldManager');
  if (apply && !named) throw invalidOption('fieldManager', 'Required value: is required for apply patch');
  const manager = named || (c.req.header('user-agent') ?? '').split('/')[0]?.trim() || 'unknown';
  if (new TextEncoder().encode(manager).length > MAX_MANAGER)
    throw invalidOption('fieldManager', `Too long: may not be more than ${MAX_MANAGER} bytes`);
  return {
    manager,
    apiVersion: groupVersion(r.group, r.version),
    now,
    ...(subresource ? { subresource } : {}),
  };
}

/** `force=true` hands another writer's fields over to an apply; any other write may not ask for it. */
export function forceOf(c: Context<AppEnv>, apply: boolean): boolean {
  const value = c.req.query('force');
  if (value === undefined) return false;
  const force = value === 'true' || value === '1';
  if (force && !apply)
    throw invalidOption('force', 'Invalid value: true: may not be specified for non-apply patch');
  return force;
}

function invalidOption(field: string, message: string): KubeStatusError {
  return new KubeStatusError(
    'VALIDATION_FAILED',
    `PatchOptions.meta.k8s.io "" is invalid: ${field}: ${message}`,
    {
      name: '',
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [
        {
          field,
          message,
          reason: message.startsWith('Required') ? 'FieldValueRequired' : 'FieldValueInvalid',
        },
      ],
    },
  );
}
