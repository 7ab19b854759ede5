import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { kubeChanges, kubeClock, kubeVersions } from '../../db/schema/index.ts';
import type { KubeObject } from './objects.ts';

/**
 * The Kubernetes face's resourceVersions: one cluster-wide clock every served write takes at
 * commit (migration 0023), so a list's resourceVersion is a point a watch starts from and each
 * object's is the clock value of its last change. Berth's own per-object `/v1` resourceVersion is
 * kept beside it (`kube_versions.berth_version`), so a write naming the one is checked as `/v1`
 * checks the other (berthResourceVersion).
 */

/** The clock's value now (every change up to it is committed) and how far the log is trimmed. */
export async function readClock(db: Database): Promise<{ rv: number; prunedThrough: number }> {
  const [row] = await db
    .select({ rv: kubeClock.rv, prunedThrough: kubeClock.prunedThrough })
    .from(kubeClock)
    .where(eq(kubeClock.id, 1));
  return row ?? { rv: 1, prunedThrough: 0 };
}

/** Sets each object's metadata.resourceVersion to its clock value (objects of one resource). */
export async function stampVersions(db: Database, plural: string, objects: KubeObject[]): Promise<void> {
  if (objects.length === 0) return;
  const rows = await db
    .select({ namespace: kubeVersions.namespace, name: kubeVersions.name, rv: kubeVersions.rv })
    .from(kubeVersions)
    .where(
      and(
        eq(kubeVersions.resource, plural),
        inArray(kubeVersions.name, [...new Set(objects.map((o) => o.metadata.name))]),
      ),
    );
  const rv = new Map(rows.map((r) => [`${r.namespace}/${r.name}`, r.rv]));
  // An object the log has no value for yet (its write is committing now) shows the clock's first value.
  for (const o of objects)
    o.metadata.resourceVersion = String(rv.get(`${o.metadata.namespace ?? ''}/${o.metadata.name}`) ?? 1);
}

/**
 * The `/v1` resourceVersion to check a write against, for a write that names the face's
 * resourceVersion `kubeRv`: the Berth version the object had at that clock value, or undefined
 * when the object has changed since (a 409 Conflict) or has no Berth version of its own.
 */
export async function berthResourceVersion(
  db: Database,
  plural: string,
  namespace: string | undefined,
  name: string,
  kubeRv: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ rv: kubeVersions.rv, berthVersion: kubeVersions.berthVersion })
    .from(kubeVersions)
    .where(
      and(
        eq(kubeVersions.resource, plural),
        eq(kubeVersions.namespace, namespace ?? ''),
        eq(kubeVersions.name, name),
      ),
    );
  if (!row || String(row.rv) !== kubeRv) return undefined;
  return row.berthVersion ?? undefined;
}

/** Up to `limit` changes after clock value `after` (of one resource, when named), oldest first. */
export async function readChanges(
  db: Database,
  after: number,
  limit: number,
  resource?: string,
): Promise<ChangeRow[]> {
  return db
    .select({
      rv: kubeChanges.rv,
      resource: kubeChanges.resource,
      namespace: kubeChanges.namespace,
      name: kubeChanges.name,
      type: kubeChanges.type,
      labels: kubeChanges.labels,
    })
    .from(kubeChanges)
    .where(
      resource === undefined
        ? gt(kubeChanges.rv, after)
        : and(gt(kubeChanges.rv, after), eq(kubeChanges.resource, resource)),
    )
    .orderBy(asc(kubeChanges.rv))
    .limit(limit);
}

export interface ChangeRow {
  rv: number;
  resource: string;
  namespace: string;
  name: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  labels: Record<string, string> | null;
}
