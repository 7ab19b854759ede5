import { eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { events, namespaces } from '../../db/schema/index.ts';
import { DomainError } from '../errors.ts';

/**
 * A namespace's lifecycle:
 *
 *   (none) ──first write, or an admin's create──► Active ──delete──► Terminating ──last object gone──► (none)
 *
 * Terminating refuses new objects (as Kubernetes' NamespaceLifecycle admission does); writes to
 * objects that are still there pass, so the delete of each can finish.
 */

export type NamespaceRow = typeof namespaces.$inferSelect;

/** A create refused because its namespace is being deleted; the Kubernetes face words it as Kubernetes. */
export class NamespaceTerminating extends DomainError {
  constructor(readonly namespace: string) {
    super('FORBIDDEN', `namespace "${namespace}" is being terminated: no new objects can be created in it`);
  }
}

/**
 * Namespaces spring into being on first write (API.md). The row is read FOR SHARE: a delete that
 * marks it Terminating waits for this write to commit (and then deletes what it created), or this
 * write sees the mark and is refused; an object never slips in behind the delete.
 */
export async function ensureNamespace(db: Database, name: string): Promise<void> {
  const [row] = await db
    .select({ terminatingAt: namespaces.terminatingAt })
    .from(namespaces)
    .where(eq(namespaces.name, name))
    .for('share');
  if (row?.terminatingAt) throw new NamespaceTerminating(name);
  if (!row) await db.insert(namespaces).values({ name }).onConflictDoNothing();
}

/** The tables whose rows are a namespace's objects: it is gone once none holds one. */
const CONTENTS = [
  'deployments',
  'replicas',
  'services',
  'ingresses',
  'config_maps',
  'secrets',
  'cron_jobs',
  'persistent_volume_claims',
  'service_accounts',
  'namespace_policies',
] as const;

/**
 * Terminating namespaces whose last object has gone (a deployment's row goes once its replicas
 * are stopped; a claim's once its volume is released) go now, with their events. Level-triggered
 * and cheap when nothing is terminating (an index of the few that are): the controller's tick
 * runs it, and so does each step that may remove a last object. Returns the namespaces removed.
 */
export async function finishNamespaceDeletions(db: Database, only?: string): Promise<string[]> {
  const terminating = only
    ? [{ name: only }]
    : await db.select({ name: namespaces.name }).from(namespaces).where(isNotNull(namespaces.terminatingAt));
  const removed: string[] = [];
  for (const { name } of terminating) {
    const gone = await db.transaction(async (tx) => {
      const [row] = await tx
        .select({ terminatingAt: namespaces.terminatingAt })
        .from(namespaces)
        .where(eq(namespaces.name, name))
        .for('update');
      if (!row?.terminatingAt) return false;
      const remaining = sql.join(
        CONTENTS.map((table) => sql`select 1 from ${sql.identifier(table)} where namespace = ${name}`),
        sql` union all `,
      );
      if (
        rowsOf(await tx.execute(sql`select exists (${remaining}) as left`)).some(
          (r) => (r as { left: boolean }).left,
        )
      )
        return false;
      await tx.delete(events).where(eq(events.namespace, name));
      await tx.delete(namespaces).where(eq(namespaces.name, name));
      return true;
    });
    if (gone) removed.push(name);
  }
  return removed;
}
