import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { claimVolumeRemovals, nodes, persistentVolumeClaims } from '../../db/schema/index.ts';
import { bumpAssignments } from './assignments.ts';

/**
 * The end of a deleted claim (Kubernetes' pvc-protection): a claim goes once no replica placed on
 * a node mounts it, and its node is told to remove the volume (claim_volume_removals). Shared by
 * the API's DELETE, the agents' reports (a replica just went) and the controller's tick (the
 * safety net for replicas that went otherwise: a lost or deleted node).
 */

type ClaimRow = typeof persistentVolumeClaims.$inferSelect;

/** The containment a pod template has when it mounts the claim (a jsonb @> pattern). */
export const usesClaim = (name: string) =>
  JSON.stringify({ spec: { volumes: [{ persistentVolumeClaim: { claimName: name } }] } });

/**
 * Whether any replica placed on a node mounts the claim, stopping ones included: their containers
 * hold the volume until their agent confirms them gone, and then their rows go.
 */
export async function claimInUse(tx: Database, claim: ClaimRow): Promise<boolean> {
  const rows = await tx.execute(sql`
    select 1 from replicas r
    join revisions v on v.deployment_id = r.deployment_id and v.revision = r.revision
    where r.namespace = ${claim.namespace} and r.node_id is not null
      and v.template @> ${usesClaim(claim.name)}::jsonb
    limit 1`);
  return rowsOf(rows).length > 0;
}

/** The claim is deleted: its row goes, and its node (if it was ever used) is told to remove the volume. */
export async function removeClaim(tx: Database, claim: ClaimRow): Promise<string[]> {
  await tx.delete(persistentVolumeClaims).where(eq(persistentVolumeClaims.id, claim.id));
  if (claim.nodeName === null) return [];
  await tx
    .insert(claimVolumeRemovals)
    .values({ claimId: claim.id, nodeName: claim.nodeName, namespace: claim.namespace, name: claim.name })
    .onConflictDoNothing();
  const [node] = await tx.select({ id: nodes.id }).from(nodes).where(eq(nodes.name, claim.nodeName));
  if (!node) return [];
  await bumpAssignments(tx, [node.id]);
  return [node.id];
}

/**
 * Terminating claims bound to the node (every node's when none is named) that no replica uses any
 * more go now (their last replica was just confirmed gone). Level-triggered: it looks at every
 * Terminating claim, so a call that failed is made good by the next. Returns the nodes bumped.
 */
export async function finishClaimDeletions(db: Database, nodeName?: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const terminating = await tx
      .select()
      .from(persistentVolumeClaims)
      .where(
        and(
          nodeName === undefined ? undefined : eq(persistentVolumeClaims.nodeName, nodeName),
          sql`deleting_at is not null`,
        ),
      )
      .for('update', { skipLocked: true });
    const woken = new Set<string>();
    for (const claim of terminating)
      if (!(await claimInUse(tx, claim))) for (const id of await removeClaim(tx, claim)) woken.add(id);
    return [...woken];
  });
}
