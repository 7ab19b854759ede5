import { and, desc, eq, gt } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { events } from '../../db/schema/index.ts';

export async function listEvents(
  db: Database,
  namespace: string,
  filter: { objectKind?: string; objectName?: string; after?: number; limit?: number },
) {
  const where = [eq(events.namespace, namespace)];
  if (filter.objectKind) where.push(eq(events.objectKind, filter.objectKind));
  if (filter.objectName) where.push(eq(events.objectName, filter.objectName));
  if (filter.after) where.push(gt(events.id, filter.after));
  // Newest last (API.md), but only the most recent `limit`: read backwards, then reverse.
  const rows = await db
    .select()
    .from(events)
    .where(and(...where))
    .orderBy(desc(events.id))
    .limit(filter.limit ?? 200);
  rows.reverse();
  return rows.map((e) => ({
    id: e.id,
    type: e.type,
    reason: e.reason,
    message: e.message,
    object: `${e.objectKind}/${e.objectName}`,
    namespace: e.namespace,
    createdAt: e.createdAt.toISOString(),
  }));
}
