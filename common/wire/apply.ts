import { z } from 'zod';
import { SKIPPED_KINDS } from '../manifest-machinery.ts';

/** The answer to `POST /v1/apply` (API.md "Manifests"). */

export const AppliedObject = z
  .object({
    kind: z.enum([
      'Deployment',
      'Service',
      'Secret',
      'ConfigMap',
      'PersistentVolumeClaim',
      'ServiceAccount',
      'Ingress',
      'Job',
      'CronJob',
      'NamespacePolicy',
      'TrustRule',
      ...SKIPPED_KINDS,
    ]),
    /** Empty for a cluster-scoped kind (ClusterRole, ClusterRoleBinding). */
    namespace: z.string(),
    name: z.string(),
    /**
     * `unchanged`: the document matched what was stored, and nothing was written. `skipped`: a kind
     * that only serves Kubernetes' API machinery (RBAC, PodDisruptionBudget),
     * accepted and not stored; a warning says why.
     */
    action: z.enum(['created', 'configured', 'unchanged', 'skipped']),
  })
  .meta({ id: 'AppliedObject' });
export type AppliedObject = z.infer<typeof AppliedObject>;

/**
 * Something applied that will not run as written, though the apply succeeded: a Deployment naming
 * a secret or key its namespace lacks after the apply (its replicas wait, Pending with
 * CreateContainerConfigError, until it exists); a skipped kind, and why; a pod Kubernetes
 * would have given an API token (Berth mounts none), or whose ServiceAccount does not exist yet.
 */
export const ApplyWarning = z
  .object({
    kind: AppliedObject.shape.kind,
    namespace: z.string(),
    name: z.string(),
    message: z.string(),
  })
  .meta({ id: 'ApplyWarning' });
export type ApplyWarning = z.infer<typeof ApplyWarning>;

/**
 * One item per document, in document order. `dryRun`: nothing was written. `warnings`: only when
 * there are any.
 */
export const ApplyResponse = z
  .object({
    items: z.array(AppliedObject),
    warnings: z.array(ApplyWarning).optional(),
    dryRun: z.literal(true).optional(),
  })
  .meta({ id: 'ApplyResponse' });
export type ApplyResponse = z.infer<typeof ApplyResponse>;
