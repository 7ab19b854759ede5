import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { CronJobInput, CronJobStatus } from '../../common/cron-job.ts';
import { finishedCondition } from '../../common/job.ts';
import type { Database } from '../../db/database.ts';
import { deployments } from '../../db/schema/index.ts';
import { type CronJobRow, cronJobKind, toCronJobObject } from '../kinds/cron-job.ts';
import { asJobRow } from '../kinds/job.ts';
import { recordEvents } from '../store/events.ts';
import {
  applyObject,
  deleteObject,
  getObject,
  listObjects,
  type WriteOptions,
  type Written,
} from '../store/objects.ts';

export type { CronJobObject, CronJobRow } from '../kinds/cron-job.ts';

export function applyCronJob(
  db: Database,
  args: { namespace: string; name: string; input: CronJobInput },
  write: WriteOptions,
): Promise<Written<CronJobRow>> {
  const meta = args.input.metadata;
  return applyObject(
    db,
    cronJobKind,
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: meta,
      resourceVersion: meta.resourceVersion,
    },
    { spec: args.input.spec, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
  );
}

export const getCronJob = (db: Database, namespace: string, name: string) =>
  getObject(db, cronJobKind, namespace, name);

export const listCronJobs = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, cronJobKind, namespace, labelSelector);

/**
 * Delete a CronJob and, as Kubernetes' garbage collector does, the Jobs it made (their pods are
 * stopped by the controller), in one transaction.
 */
export async function deleteCronJob(db: Database, namespace: string, name: string, now: Date) {
  return db.transaction(async (tx) => {
    const row = await deleteObject(tx, cronJobKind, namespace, name);
    const jobs = await tx
      .update(deployments)
      .set({
        deletedAt: now,
        reconcileAt: now,
        updatedAt: now,
        resourceVersion: sql`${deployments.resourceVersion} + 1`,
      })
      .where(and(eq(deployments.ownerCronJobId, row.id), isNull(deployments.deletedAt)))
      .returning({ id: deployments.id });
    await recordEvents(
      tx,
      [
        {
          namespace,
          objectKind: 'cronjob',
          objectName: name,
          type: 'Normal',
          reason: 'Deleted',
          message: `cronjob deleted with its ${jobs.length} job${jobs.length === 1 ? '' : 's'}`,
        },
      ],
      now,
    );
    return { row, jobIds: jobs.map((j) => j.id) };
  });
}

/**
 * The CronJobs as the API shows them: `active` and `lastSuccessfulTime` are read from the Jobs
 * they made (one query for the lot), so they are never behind the Jobs themselves.
 */
export async function cronJobObjects(db: Database, rows: CronJobRow[]) {
  if (rows.length === 0) return [];
  const jobs = await db
    .select()
    .from(deployments)
    .where(
      and(
        inArray(
          deployments.ownerCronJobId,
          rows.map((r) => r.id),
        ),
        isNull(deployments.deletedAt),
      ),
    );
  const statusOf = new Map<string, Omit<CronJobStatus, 'lastScheduleTime'>>();
  for (const r of rows) statusOf.set(r.id, { active: [] });
  for (const raw of jobs) {
    const job = asJobRow(raw);
    const status = statusOf.get(job.ownerCronJobId!)!;
    const finished = finishedCondition(job.status);
    if (!finished) status.active.push({ name: job.name, namespace: job.namespace, uid: job.id });
    else if (finished.type === 'Complete' && job.status?.completionTime) {
      if (!status.lastSuccessfulTime || job.status.completionTime > status.lastSuccessfulTime)
        status.lastSuccessfulTime = job.status.completionTime;
    }
  }
  return rows.map((r) => toCronJobObject(r, statusOf.get(r.id)!));
}
