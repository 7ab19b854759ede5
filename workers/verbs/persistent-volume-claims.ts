import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PodSpec } from '../../common/deployment.ts';
import {
  claimSpecOf,
  claimVolumeName,
  type PersistentVolumeClaimInput,
} from '../../common/persistent-volume-claim.ts';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { claimVolumeRemovals, persistentVolumeClaims } from '../../db/schema/index.ts';
import { notFound } from '../errors.ts';
import { type ClaimRow, persistentVolumeClaimKind, toClaimObject } from '../kinds/persistent-volume-claim.ts';
import { claimInUse, finishClaimDeletions, removeClaim, usesClaim } from '../store/claim-deletions.ts';
import {
  applyObject,
  getObject,
  listObjects,
  maybeDryRun,
  type WriteOptions,
  type Written,
} from '../store/objects.ts';
import { volumeObjectNames } from './pod-volumes.ts';

export { finishClaimDeletions, toClaimObject };

/**
 * PersistentVolumeClaims: the verbs of the API, and what the agents' side needs of them (the
 * volume a replica mounts, the volumes a node must remove). Binding is placement's
 * (workers/controller/claim-placement.ts); deleting is Kubernetes' pvc-protection: a claim that
 * replicas use stays, Terminating, until the last of them is gone; then its node's agent is told
 * to remove the volume, and the word stays in the database until the agent says it is done.
 */

/** A claim written, and the deployments whose replicas waited for it (reconcile them after commit). */
export interface ClaimWritten extends Written<ClaimRow> {
  wakeDeployments: string[];
}

export async function applyClaim(
  db: Database,
  args: { namespace: string; name: string; input: PersistentVolumeClaimInput },
  write: WriteOptions,
): Promise<ClaimWritten> {
  const { input } = args;
  return maybeDryRun(db, write.dryRun ?? false, (work) =>
    work.transaction(async (tx) => {
      const written = await applyObject(
        tx,
        persistentVolumeClaimKind,
        {
          ...write,
          dryRun: false,
          namespace: args.namespace,
          name: args.name,
          metadata: input.metadata,
          resourceVersion: input.metadata.resourceVersion,
        },
        {
          spec: claimSpecOf(input.spec),
          labels: input.metadata.labels ?? {},
          annotations: input.metadata.annotations ?? {},
        },
      );
      // Replicas waiting Pending for this claim (`persistentvolumeclaim "x" not found`) start now.
      const wakeDeployments = written.created ? await wakeClaimWaiters(tx, args.namespace, args.name) : [];
      return { ...written, wakeDeployments };
    }),
  );
}

/** Wake the deployments of `namespace` with replicas waiting for a place whose template mounts the claim. */
async function wakeClaimWaiters(tx: Database, namespace: string, name: string): Promise<string[]> {
  const woken = await tx.execute(sql`
    insert into deployment_wakeups (deployment_id)
    select distinct r.deployment_id from replicas r
    join revisions v on v.deployment_id = r.deployment_id and v.revision = r.revision
    where r.namespace = ${namespace} and r.node_id is null and r.desired = 'running'
      and v.template @> ${usesClaim(name)}::jsonb
    returning deployment_id`);
  return rowsOf<{ deployment_id: string }>(woken).map((r) => r.deployment_id);
}

export const getClaim = (db: Database, namespace: string, name: string) =>
  getObject(db, persistentVolumeClaimKind, namespace, name);

export const listClaims = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, persistentVolumeClaimKind, namespace, labelSelector);

/**
 * DELETE: a claim no replica uses goes at once; one in use turns Terminating (deletionTimestamp)
 * and goes with its last replica (finishClaimDeletions). Returns the claim as it is after the call
 * and the nodes whose agents must be woken (to remove the volume).
 */
export async function deleteClaim(
  db: Database,
  namespace: string,
  name: string,
  now: Date,
): Promise<{ row: ClaimRow; wakeNodes: string[] }> {
  return db.transaction(async (tx) => {
    const [claim] = await tx
      .select()
      .from(persistentVolumeClaims)
      .where(and(eq(persistentVolumeClaims.namespace, namespace), eq(persistentVolumeClaims.name, name)))
      .for('update');
    if (!claim) throw notFound(`persistentvolumeclaim "${namespace}/${name}"`);
    if (claim.nodeName !== null && (await claimInUse(tx, claim))) {
      if (claim.deletingAt) return { row: claim, wakeNodes: [] };
      const [row] = await tx
        .update(persistentVolumeClaims)
        .set({ deletingAt: now, updatedAt: now, resourceVersion: claim.resourceVersion + 1 })
        .where(eq(persistentVolumeClaims.id, claim.id))
        .returning();
      return { row: row!, wakeNodes: [] };
    }
    return {
      row: { ...claim, deletingAt: claim.deletingAt ?? now },
      wakeNodes: await removeClaim(tx, claim),
    };
  });
}

/**
 * What an apply warns of a pod that mounts claims its namespace lacks (or is deleting): its
 * replicas wait Pending until the claim exists. Judged after every document is written.
 */
export async function missingClaimWarnings(
  db: Database,
  namespace: string,
  pod: Pick<PodSpec, 'volumes'>,
): Promise<string[]> {
  const names = volumeObjectNames(pod).claims;
  if (names.length === 0) return [];
  const rows = await db
    .select({ name: persistentVolumeClaims.name, deletingAt: persistentVolumeClaims.deletingAt })
    .from(persistentVolumeClaims)
    .where(and(eq(persistentVolumeClaims.namespace, namespace), inArray(persistentVolumeClaims.name, names)));
  const found = new Map(rows.map((r) => [r.name, r]));
  return names.flatMap((name) => {
    const claim = found.get(name);
    if (!claim)
      return [`persistentvolumeclaim "${name}" not found: its replicas stay Pending until it exists`];
    if (claim.deletingAt)
      return [`persistentvolumeclaim "${name}" is being deleted: new replicas that use it stay Pending`];
    return [];
  });
}

/** A claim as a replica's assignment names its volume. */
export interface ResolvedClaim {
  uid: string;
  namespace: string;
  name: string;
}

/**
 * The claims of `namespace` named, bound to `nodeName`: only those may be mounted there (a claim
 * bound elsewhere, or deleted, is a reason the pod cannot start).
 */
export async function resolveClaims(
  db: Database,
  namespace: string,
  names: string[],
  nodeName: string,
): Promise<Map<string, ResolvedClaim>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ id: persistentVolumeClaims.id, name: persistentVolumeClaims.name })
    .from(persistentVolumeClaims)
    .where(
      and(
        eq(persistentVolumeClaims.namespace, namespace),
        inArray(persistentVolumeClaims.name, names),
        eq(persistentVolumeClaims.nodeName, nodeName),
      ),
    );
  return new Map(rows.map((r) => [r.name, { uid: r.id, namespace, name: r.name }]));
}

/** The volumes of deleted claims the node's agent must remove (AssignmentsResponse.releasedClaims). */
export async function claimRemovalsFor(
  db: Database,
  nodeName: string,
): Promise<{ uid: string; namespace: string; name: string; volume: string }[]> {
  const rows = await db.select().from(claimVolumeRemovals).where(eq(claimVolumeRemovals.nodeName, nodeName));
  return rows.map((r) => ({
    uid: r.claimId,
    namespace: r.namespace,
    name: r.name,
    volume: claimVolumeName(r.claimId),
  }));
}

/** The agent removed these claims' volumes: the word is done. Only the node's own removals. */
export async function confirmClaimRemovals(db: Database, nodeName: string, uids: string[]): Promise<void> {
  const valid = uids.filter((u) => /^[0-9a-f-]{36}$/.test(u));
  if (valid.length === 0) return;
  await db
    .delete(claimVolumeRemovals)
    .where(and(eq(claimVolumeRemovals.nodeName, nodeName), inArray(claimVolumeRemovals.claimId, valid)));
}
