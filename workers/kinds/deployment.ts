import { isNull } from 'drizzle-orm';
import { canonicalJson } from '../../common/canonical-json.ts';
import type { DeploymentSpec } from '../../common/deployment.ts';
import { type DeploymentStatus, deployments } from '../../db/schema/index.ts';
import type { ObjectKind } from '../store/objects.ts';

export type DeploymentRow = typeof deployments.$inferSelect;

/**
 * Deployments in the object store. A write that changes the spec makes the deployment due for
 * the controller at once; a new template (or a resume) starts a new rollout, whose progress
 * deadline counts from now. A deleted deployment's row stays (not live) until the controller
 * has stopped its replicas.
 */
export const deploymentKind: ObjectKind<DeploymentRow, DeploymentSpec> = {
  noun: 'deployment',
  table: deployments,
  live: isNull(deployments.deletedAt),
  generation: true,
  stateOf: (row) => ({ spec: row.spec, labels: row.labels, annotations: row.annotations }),
  columns: (next, { existing, specChanged, now }) => {
    if (!existing) return { spec: next.spec, reconcileAt: now, progressAt: now };
    const newRollout =
      canonicalJson(next.spec.template) !== canonicalJson(existing.spec.template) ||
      (existing.spec.paused && !next.spec.paused);
    return {
      spec: next.spec,
      ...(specChanged ? { reconcileAt: now } : {}),
      ...(newRollout ? { progressAt: now } : {}),
    };
  },
};

const EMPTY_STATUS: DeploymentStatus = {
  observedGeneration: 0,
  replicas: 0,
  updatedReplicas: 0,
  readyReplicas: 0,
  availableReplicas: 0,
  unavailableReplicas: 0,
  revision: null,
  conditions: [],
};

export function toDeploymentObject(row: DeploymentRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Deployment' as const,
    metadata: {
      name: row.name,
      namespace: row.namespace,
      uid: row.id,
      labels: row.labels,
      ...(Object.keys(row.annotations).length ? { annotations: row.annotations } : {}),
      resourceVersion: String(row.resourceVersion),
      generation: row.generation,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    },
    spec: row.spec,
    status: row.status ?? EMPTY_STATUS,
  };
}
export type DeploymentObject = ReturnType<typeof toDeploymentObject>;
