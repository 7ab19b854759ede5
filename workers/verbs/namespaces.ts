import { asc } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { namespaces } from '../../db/schema/index.ts';

export async function listNamespaces(db: Database): Promise<string[]> {
  const rows = await db.select({ name: namespaces.name }).from(namespaces).orderBy(asc(namespaces.name));
  return rows.map((r) => r.name);
}

/** Namespaces with when each came into being (the Kubernetes face shows their age). */
export async function listNamespacesCreated(db: Database): Promise<{ name: string; createdAt: Date }[]> {
  return db
    .select({ name: namespaces.name, createdAt: namespaces.createdAt })
    .from(namespaces)
    .orderBy(asc(namespaces.name));
}
