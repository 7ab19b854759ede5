import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { namespaces } from '../../db/schema/index.ts';
import { conflict, DomainError, forbidden, notFound } from '../errors.ts';
import { finishNamespaceDeletions, type NamespaceRow, NamespaceTerminating } from '../store/namespaces.ts';
import { deleteConfigMap, listConfigMaps } from './config-maps.ts';
import { deleteCronJob, listCronJobs } from './cron-jobs.ts';
import { deleteDeployment, listDeployments } from './deployments.ts';
import { deleteIngress, listIngresses } from './ingresses.ts';
import { deleteJob, listJobs } from './jobs.ts';
import { deleteClaim, listClaims } from './persistent-volume-claims.ts';
import { deletePolicy } from './policies.ts';
import { deleteSecret, listSecrets } from './secrets.ts';
import { deleteServiceAccount, listServiceAccounts } from './service-accounts.ts';
import { deleteService, listServices } from './services.ts';

export { type NamespaceRow, NamespaceTerminating };

/** Kubernetes refuses to delete it too: tokens, manifests and the CLI fall back to it. */
export const DEFAULT_NAMESPACE = 'default';

/** Namespaces with their metadata and lifecycle (the Kubernetes face shows them as Namespaces). */
export async function listNamespaceRows(db: Database): Promise<NamespaceRow[]> {
  return db.select().from(namespaces).orderBy(asc(namespaces.name));
}

export async function getNamespace(db: Database, name: string): Promise<NamespaceRow> {
  const [row] = await db.select().from(namespaces).where(eq(namespaces.name, name));
  if (!row) throw notFound(`namespace "${name}"`);
  return row;
}

/** What an admin sets on a namespace: the rest (its objects) comes with use. */
export interface NamespaceInput {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * Create a namespace with its labels and annotations (`kubectl create namespace`), or, with
 * `createOnly` false, set them on one that exists (apply, label, annotate). One being deleted
 * cannot be created again until it has gone.
 */
export async function writeNamespace(
  db: Database,
  name: string,
  input: NamespaceInput,
  options: { createOnly: boolean; dryRun: boolean },
): Promise<{ row: NamespaceRow; created: boolean }> {
  const run = async (tx: Database) => {
    const [existing] = await tx.select().from(namespaces).where(eq(namespaces.name, name)).for('update');
    if (existing && options.createOnly)
      throw conflict(
        existing.terminatingAt
          ? `namespace "${name}" already exists and is being deleted: it can be created again once it has gone`
          : `namespace "${name}" already exists`,
      );
    if (existing) {
      const same =
        JSON.stringify(sorted(existing.labels)) === JSON.stringify(sorted(input.labels)) &&
        JSON.stringify(sorted(existing.annotations)) === JSON.stringify(sorted(input.annotations));
      if (same || options.dryRun) return { row: { ...existing, ...input }, created: false };
      const [row] = await tx.update(namespaces).set(input).where(eq(namespaces.name, name)).returning();
      return { row: row!, created: false };
    }
    if (options.dryRun)
      return { row: { name, ...input, terminatingAt: null, createdAt: new Date() }, created: true };
    const [row] = await tx
      .insert(namespaces)
      .values({ name, ...input })
      .returning();
    return { row: row!, created: true };
  };
  return db.transaction(run);
}

const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort());

/** What deleting a namespace set going: the workloads whose replicas the controller now stops, the agents to wake. */
export interface NamespaceDeletion {
  /** The namespace while its last objects go; undefined once it has gone. */
  row: NamespaceRow | undefined;
  stopping: string[];
  wakeNodes: string[];
}

/**
 * Delete a namespace as Kubernetes does: it turns Terminating (no new objects), every object in
 * it is deleted through its own delete verb (a Deployment's or Job's replicas are stopped by the
 * controller, a claim in use goes Terminating until its volume is released), its policy goes, and
 * the namespace itself goes with its last object (finishNamespaceDeletions). Tokens naming it are
 * left as they are. Deleting a Terminating namespace again deletes what is left again.
 */
export async function deleteNamespace(db: Database, name: string, now: Date): Promise<NamespaceDeletion> {
  if (name === DEFAULT_NAMESPACE) throw forbidden(`namespace "${name}" may not be deleted`);
  const [row] = await db
    .update(namespaces)
    .set({ terminatingAt: sql`coalesce(${namespaces.terminatingAt}, ${now})` })
    .where(eq(namespaces.name, name))
    .returning();
  if (!row) throw notFound(`namespace "${name}"`);
  const stopping: string[] = [];
  const wakeNodes: string[] = [];
  // CronJobs first: they take their Jobs with them, and make none after.
  for (const c of await listCronJobs(db, name))
    stopping.push(...((await gone(deleteCronJob(db, name, c.name, now)))?.jobIds ?? []));
  for (const d of await listDeployments(db, name)) {
    const deleted = await gone(deleteDeployment(db, name, d.name, now));
    if (deleted) stopping.push(deleted.id);
  }
  for (const j of await listJobs(db, name)) {
    const deleted = await gone(deleteJob(db, name, j.name, now));
    if (deleted) stopping.push(deleted.id);
  }
  for (const s of await listServices(db, name)) await gone(deleteService(db, name, s.name));
  for (const i of await listIngresses(db, name)) await gone(deleteIngress(db, name, i.name));
  for (const m of await listConfigMaps(db, name)) await gone(deleteConfigMap(db, name, m.name));
  for (const s of await listSecrets(db, name)) await gone(deleteSecret(db, name, s.name));
  for (const a of await listServiceAccounts(db, name)) await gone(deleteServiceAccount(db, name, a.name));
  for (const c of await listClaims(db, name))
    wakeNodes.push(...((await gone(deleteClaim(db, name, c.name, now)))?.wakeNodes ?? []));
  await gone(deletePolicy(db, name));
  const finished = await finishNamespaceDeletions(db, name);
  return { row: finished.length ? undefined : row, stopping, wakeNodes };
}

/** An object another delete took first is already what this one wants. */
async function gone<T>(deleting: Promise<T>): Promise<T | undefined> {
  try {
    return await deleting;
  } catch (e) {
    if (e instanceof DomainError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}
