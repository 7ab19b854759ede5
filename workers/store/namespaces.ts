import type { Database } from '../../db/database.ts';
import { namespaces } from '../../db/schema/index.ts';

/** Namespaces spring into being on first write (API.md). */
export async function ensureNamespace(db: Database, name: string): Promise<void> {
  await db.insert(namespaces).values({ name }).onConflictDoNothing();
}
