import { sql } from 'drizzle-orm';
import type { JobInput } from '../../common/job.ts';
import type { Database } from '../../db/database.ts';
import { deployments } from '../../db/schema/index.ts';
import { invalid, notFound } from '../errors.ts';
import { type JobRow, jobKind } from '../kinds/job.ts';
import { recordEvents } from '../store/events.ts';
import {
  applyObject,
  getObject,
  listObjects,
  type WriteOptions,
  type Written,
  whereName,
} from '../store/objects.ts';

export { type JobObject, type JobRow, toJobObject } from '../kinds/job.ts';

/** Create or replace a Job; after creation only parallelism, suspend, the deadline and the TTL may change. */
export function applyJob(
  db: Database,
  args: { namespace: string; name: string; input: JobInput; createOnly?: boolean },
  write: WriteOptions,
): Promise<Written<JobRow>> {
  const meta = args.input.metadata;
  const { selector, ...spec } = args.input.spec;
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    if (value !== args.name)
      throw invalid([
        {
          path: `spec.selector.matchLabels.${key}`,
          message: `must be "${args.name}" (Berth selects a Job's own pods)`,
        },
      ]);
  return applyObject(
    db,
    jobKind,
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: meta,
      resourceVersion: meta.resourceVersion,
      ...(args.createOnly ? { createOnly: true } : {}),
    },
    { spec, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
  );
}

export const getJob = (db: Database, namespace: string, name: string) =>
  getObject(db, jobKind, namespace, name);

export const listJobs = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, jobKind, namespace, labelSelector);

/**
 * Delete a Job: it leaves the API at once; the controller stops its pods (their finished
 * containers go with them) and then removes the row, as for a deployment.
 */
export async function deleteJob(db: Database, namespace: string, name: string, now: Date): Promise<JobRow> {
  const [row] = await db
    .update(deployments)
    .set({
      deletedAt: now,
      reconcileAt: now,
      updatedAt: now,
      resourceVersion: sql`${deployments.resourceVersion} + 1`,
    })
    .where(whereName(jobKind, namespace, name))
    .returning();
  if (!row) throw notFound(`job "${namespace}/${name}"`);
  await recordEvents(
    db,
    [
      {
        namespace,
        objectKind: 'job',
        objectName: name,
        type: 'Normal',
        reason: 'Deleted',
        message: 'job deleted; its pods are being stopped',
      },
    ],
    now,
  );
  return row as unknown as JobRow;
}
