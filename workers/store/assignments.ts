import { inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { nodes } from '../../db/schema/index.ts';

/** Bump the assignment version (the ETag) of nodes whose desired set changed. */
export async function bumpAssignments(tx: Database, nodeIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(nodeIds)];
  if (ids.length === 0) return;
  await tx
    .update(nodes)
    .set({ assignmentVersion: sql`${nodes.assignmentVersion} + 1` })
    .where(inArray(nodes.id, ids));
}
