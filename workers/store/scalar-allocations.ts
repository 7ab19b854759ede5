import { and, isNotNull, sql } from 'drizzle-orm';
import { EPHEMERAL_STORAGE, type Scalars } from '../../common/extended-resources.ts';
import type { Database } from '../../db/database.ts';
import { type nodes, replicas } from '../../db/schema/index.ts';

/**
 * What replicas hold of each node's ephemeral-storage and extended resources
 * (common/extended-resources.ts). Few replicas ask for any, so this is a sum over them (the partial
 * index replicas_scalars) rather than a ledger kept on every replica write. Placement reads it
 * under its advisory lock, after the placements before it have committed, so two control-plane
 * copies never hand out the same device. Every replica row on a node counts, stopping ones too:
 * its containers hold the device until its agent confirms them gone, and then the row goes.
 */
export async function scalarsInUse(db: Database, nodeId?: string): Promise<Map<string, Scalars>> {
  const rows = await db
    .select({ nodeId: replicas.nodeId, scalars: replicas.requestScalars })
    .from(replicas)
    .where(
      and(
        isNotNull(replicas.nodeId),
        sql`${replicas.requestScalars} is not null`,
        nodeId ? sql`${replicas.nodeId} = ${nodeId}` : undefined,
      ),
    );
  const out = new Map<string, Scalars>();
  for (const { nodeId: id, scalars } of rows) {
    const sums = out.get(id!) ?? {};
    out.set(id!, sums);
    for (const [name, amount] of Object.entries(scalars ?? {})) sums[name] = (sums[name] ?? 0) + amount;
  }
  return out;
}

/** What a node offers: its advertised extended resources and its allocatable ephemeral storage. */
export function offeredScalars(
  n: Pick<typeof nodes.$inferSelect, 'extendedResources' | 'allocatableEphemeralStorageBytes'>,
): Scalars {
  const out: Scalars = { ...n.extendedResources };
  if (n.allocatableEphemeralStorageBytes > 0) out[EPHEMERAL_STORAGE] = n.allocatableEphemeralStorageBytes;
  return out;
}
