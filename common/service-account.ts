import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';

/**
 * The ServiceAccount as Kubernetes writes it (`v1`, or `berth.dev/v1`): recorded, so a pod that
 * names one is checked against it (a replica whose account does not exist waits Pending, as
 * Kubernetes refuses to create its pod). Berth mounts no Kubernetes API token into pods, so
 * `automountServiceAccountToken` only decides whether an apply says so.
 */

/** The account every namespace has: a pod naming no account names this one, and it always exists. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

export const ServiceAccountInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('ServiceAccount').optional(),
  metadata: ObjectMetaInput.default({}),
  automountServiceAccountToken: z.boolean().optional(),
});
export type ServiceAccountInput = z.infer<typeof ServiceAccountInput>;

/** What a ServiceAccount holds, as stored and compared on writes. */
export interface ServiceAccountSpec {
  automountServiceAccountToken?: boolean | undefined;
}

/** Said in an apply's warnings for a pod that Kubernetes would have given an API token. */
export const NO_TOKEN_WARNING =
  'Berth mounts no Kubernetes API token into pods (no /var/run/secrets/kubernetes.io/serviceaccount): a container that calls the Kubernetes API from inside will not find one';
