import { and, eq, inArray, isNotNull, isNull, like, or, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { deployments, nodes, replicas, revisions } from '../../db/schema/index.ts';

/** Bump the assignment version (the ETag) of nodes whose desired set changed. */
export async function bumpAssignments(tx: Database, nodeIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(nodeIds)];
  if (ids.length === 0) return;
  await tx
    .update(nodes)
    .set({ assignmentVersion: sql`${nodes.assignmentVersion} + 1` })
    .where(inArray(nodes.id, ids));
}

/**
 * A secret was written: bump the nodes holding replicas that may be waiting for it, so their
 * agents read it at once and start them. Those are the replicas of its namespace placed to run
 * and not started yet (Scheduled, or Pending since their agent was told the secret or a key of
 * it was missing) or still reporting a CreateContainerConfigError, whose template names the
 * secret. Running replicas are left alone: their containers keep the values they were made with.
 * Returns the nodes bumped, for waking their long-polls after commit.
 */
export function bumpSecretWaiters(tx: Database, namespace: string, name: string): Promise<string[]> {
  return bumpWaiters(tx, namespace, [
    { spec: { containers: [{ env: [{ valueFrom: { secretKeyRef: { name } } }] }] } },
    { spec: { containers: [{ envFrom: [{ secretRef: { name } }] }] } },
    { spec: { imagePullSecrets: [{ name }] } },
  ]);
}

/** A ConfigMap was written: as bumpSecretWaiters, for the replicas whose env reads it. */
export function bumpConfigMapWaiters(tx: Database, namespace: string, name: string): Promise<string[]> {
  return bumpWaiters(tx, namespace, [
    { spec: { containers: [{ env: [{ valueFrom: { configMapKeyRef: { name } } }] }] } },
    { spec: { containers: [{ envFrom: [{ configMapRef: { name } }] }] } },
  ]);
}

/** Bump the nodes of not-yet-started replicas of `namespace` whose template contains any of `refs`. */
async function bumpWaiters(tx: Database, namespace: string, refs: object[]): Promise<string[]> {
  const rows = await tx
    .selectDistinct({ nodeId: replicas.nodeId })
    .from(replicas)
    .innerJoin(deployments, eq(deployments.id, replicas.deploymentId))
    .innerJoin(
      revisions,
      and(eq(revisions.deploymentId, replicas.deploymentId), eq(revisions.revision, replicas.revision)),
    )
    .where(
      and(
        eq(deployments.namespace, namespace),
        isNull(deployments.deletedAt),
        isNotNull(replicas.nodeId),
        eq(replicas.desired, 'running'),
        or(
          inArray(replicas.phase, ['Scheduled', 'Pending']),
          like(replicas.message, 'CreateContainerConfigError:%'),
        ),
        or(...refs.map((ref) => sql`${revisions.template} @> ${JSON.stringify(ref)}::jsonb`)),
      ),
    );
  const ids = rows.flatMap((r) => (r.nodeId ? [r.nodeId] : []));
  await bumpAssignments(tx, ids);
  return ids;
}
