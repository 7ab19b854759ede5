import { z } from 'zod';
import { DeploymentSpec, PodTemplate } from '../deployment.ts';
import { ApiVersion, ObjectMeta, Timestamp } from './meta.ts';

/** Deployments as the API returns them (API.md "Deployments"), and the bodies of their sub-routes. */

export const DeploymentCondition = z
  .object({
    type: z.enum(['Available', 'Progressing']),
    status: z.enum(['True', 'False']),
    /**
     * Progressing: NewReplicaSetCreated, ReplicaSetUpdated, NewRevisionAvailable (the rollout is
     * complete), DeploymentPaused, ProgressDeadlineExceeded. Available: MinimumReplicasAvailable,
     * MinimumReplicasUnavailable.
     */
    reason: z.string(),
    message: z.string(),
    lastTransitionTime: Timestamp,
    lastUpdateTime: Timestamp,
  })
  .meta({ id: 'DeploymentCondition' });
export type DeploymentCondition = z.infer<typeof DeploymentCondition>;

export const DeploymentStatus = z
  .object({
    /** The generation the controller last acted on: counts and conditions describe that one. */
    observedGeneration: z.int(),
    /** Replicas of every revision that the controller wants running. */
    replicas: z.int(),
    /** Of those, replicas of the current revision. */
    updatedReplicas: z.int(),
    readyReplicas: z.int(),
    /** Ready for at least minReadySeconds. */
    availableReplicas: z.int(),
    unavailableReplicas: z.int(),
    /** The current revision number; null until the controller has seen the deployment. */
    revision: z.int().nullable(),
    conditions: z.array(DeploymentCondition),
  })
  .meta({ id: 'DeploymentStatus' });
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

export const Deployment = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('Deployment'),
    metadata: ObjectMeta,
    /** As applied, with defaults filled in (a field added since it was applied may be absent). */
    spec: DeploymentSpec,
    status: DeploymentStatus,
  })
  .meta({ id: 'Deployment' });
export type Deployment = z.infer<typeof Deployment>;

export const DeploymentList = z
  .object({ apiVersion: ApiVersion, kind: z.literal('DeploymentList'), items: z.array(Deployment) })
  .meta({ id: 'DeploymentList' });
export type DeploymentList = z.infer<typeof DeploymentList>;

/** One distinct pod template of a deployment (`GET .../revisions`, newest first). */
export const Revision = z
  .object({
    revision: z.int(),
    /** The revision the deployment is rolling to or running. */
    current: z.boolean(),
    templateHash: z.string(),
    template: PodTemplate,
    createdAt: Timestamp,
    /** Last time every replica of it was available: what autoRollback returns to. */
    availableAt: Timestamp.nullable(),
  })
  .meta({ id: 'Revision' });
export type Revision = z.infer<typeof Revision>;

export const RevisionList = z.object({ items: z.array(Revision) }).meta({ id: 'RevisionList' });
export type RevisionList = z.infer<typeof RevisionList>;

/** `PUT .../deployments/{name}/scale` */
export const ScaleRequest = z.strictObject({ replicas: z.int().min(0).max(10000) });
export type ScaleRequest = z.infer<typeof ScaleRequest>;

/** `POST .../deployments/{name}/rollback`; without `toRevision`, the revision before the current one. */
export const RollbackRequest = z.strictObject({ toRevision: z.int().min(1).optional() });
export type RollbackRequest = z.infer<typeof RollbackRequest>;
