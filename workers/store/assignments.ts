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
export async function bumpSecretWaiters(tx: Database, namespace: string, name: string): Promise<string[]> {
  const waiting = await bumpWaiters(tx, namespace, [
    { spec: { containers: [{ env: [{ valueFrom: { secretKeyRef: { name } } }] }] } },
    { spec: { containers: [{ envFrom: [{ secretRef: { name } }] }] } },
    { spec: { initContainers: [{ env: [{ valueFrom: { secretKeyRef: { name } } }] }] } },
    { spec: { initContainers: [{ envFrom: [{ secretRef: { name } }] }] } },
    { spec: { imagePullSecrets: [{ name }] } },
  ]);
  return union(waiting, await bumpVolumeUsers(tx, namespace, { secret: { secretName: name } }));
}

/** A ConfigMap was written: as bumpSecretWaiters, for the replicas whose env reads it. */
export async function bumpConfigMapWaiters(tx: Database, namespace: string, name: string): Promise<string[]> {
  const waiting = await bumpWaiters(tx, namespace, [
    { spec: { containers: [{ env: [{ valueFrom: { configMapKeyRef: { name } } }] }] } },
    { spec: { containers: [{ envFrom: [{ configMapRef: { name } }] }] } },
    { spec: { initContainers: [{ env: [{ valueFrom: { configMapKeyRef: { name } } }] }] } },
    { spec: { initContainers: [{ envFrom: [{ configMapRef: { name } }] }] } },
  ]);
  return union(waiting, await bumpVolumeUsers(tx, namespace, { configMap: { name } }));
}

/**
 * A ServiceAccount was created: as bumpSecretWaiters, for the replicas whose pod names it (they
 * waited, Pending, for it to exist).
 */
export function bumpServiceAccountWaiters(tx: Database, namespace: string, name: string): Promise<string[]> {
  return bumpWaiters(tx, namespace, [{ spec: { serviceAccountName: name } }]);
}

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];

/**
 * A ConfigMap or Secret a volume mounts was written: bump the nodes of every replica of
 * `namespace` placed to run whose template mounts it, started or not, since a volume's files
 * follow the object in running replicas too (the agent swaps them in place).
 */
async function bumpVolumeUsers(tx: Database, namespace: string, source: object): Promise<string[]> {
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
        sql`${revisions.template} @> ${JSON.stringify({ spec: { volumes: [source] } })}::jsonb`,
      ),
    );
  const ids = rows.flatMap((r) => (r.nodeId ? [r.nodeId] : []));
  await bumpAssignments(tx, ids);
  return ids;
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
