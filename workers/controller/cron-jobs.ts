import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { CRON_JOB_LABEL, SCHEDULED_TIMESTAMP_ANNOTATION } from '../../common/cron-job.ts';
import type { Database } from '../../db/database.ts';
import { retryOnConflict } from '../../db/retry.ts';
import { cronJobs, deployments } from '../../db/schema/index.ts';
import { DomainError } from '../errors.ts';
import { enforceQuota } from '../kinds/deployment.ts';
import { asJobRow } from '../kinds/job.ts';
import { type EventInput, recordEvents } from '../store/events.ts';
import { loadPolicy } from '../store/policies.ts';
import { decideCronJob } from './cron-decision.ts';
import type { ControllerDeps } from './deps.ts';

/** CronJobs looked at per transaction; a tick takes batches until none is due. */
const BATCH = 20;

/**
 * The CronJobs that are due, in batches: each batch locks its rows (FOR UPDATE SKIP LOCKED), so two
 * control-plane copies or a cron trigger beside a tick never look at one CronJob at once, and the
 * Job a scheduled time makes is written in the same transaction as the time it handled: once
 * committed, the time is behind `handled_until` for every copy. Returns the Jobs it created or
 * deleted (for the reconciler to take up at once).
 */
export async function runCronJobs(deps: ControllerDeps): Promise<string[]> {
  const touched: string[] = [];
  for (;;) {
    const now = deps.now();
    const batch = await retryOnConflict(() =>
      deps.db.transaction(async (tx) => {
        const rows = await tx
          .select()
          .from(cronJobs)
          .where(lte(cronJobs.nextRunAt, now))
          .orderBy(asc(cronJobs.nextRunAt))
          .limit(BATCH)
          .for('update', { skipLocked: true });
        if (rows.length === 0) return { count: 0, jobs: [] as string[], outcomes: [] as string[] };
        const jobRows = (
          await tx
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
            )
        ).map(asJobRow);
        const jobs: string[] = [];
        const events: EventInput[] = [];
        const outcomes: string[] = [];
        for (const cronJob of rows) {
          const own = jobRows.filter((j) => j.ownerCronJobId === cronJob.id);
          const decision = decideCronJob({ now, cronJob, jobs: own });
          events.push(...decision.events);
          if (decision.deleteJobs.length) {
            await tx
              .update(deployments)
              .set({
                deletedAt: now,
                reconcileAt: now,
                updatedAt: now,
                resourceVersion: sql`${deployments.resourceVersion} + 1`,
              })
              .where(inArray(deployments.id, decision.deleteJobs));
            jobs.push(...decision.deleteJobs);
          }
          if (decision.create) {
            const made = await createJob(tx, cronJob, decision.create, now, events);
            if (made) jobs.push(made);
            outcomes.push(made ? 'created' : 'failed');
          }
          for (const e of decision.events)
            if (e.reason === 'JobAlreadyActive') outcomes.push('skipped');
            else if (e.reason === 'MissSchedule') outcomes.push('missed');
          await tx
            .update(cronJobs)
            .set({
              handledUntil: decision.handledUntil,
              lastScheduleTime: decision.lastScheduleTime,
              nextRunAt: decision.nextRunAt,
            })
            .where(eq(cronJobs.id, cronJob.id));
        }
        await recordEvents(tx, events, now);
        return { count: rows.length, jobs, outcomes };
      }),
    );
    touched.push(...batch.jobs);
    for (const outcome of batch.outcomes)
      deps.metrics?.inc(
        'berth_cronjob_schedules_total',
        'Scheduled times of CronJobs, by what became of them (created, skipped, missed, failed)',
        { outcome },
      );
    if (batch.count < BATCH) return touched;
  }
}

/**
 * The Job of one scheduled time, from the CronJob's template. Its name is the time's (Kubernetes'
 * `<cronjob>-<minutes since the epoch>`), so a Job of that name already there means this time has
 * run. The namespace's quota binds it as a Job applied by hand: over it, the run fails with an event.
 */
async function createJob(
  tx: Database,
  cronJob: typeof cronJobs.$inferSelect,
  run: { name: string; scheduledTime: Date },
  now: Date,
  events: EventInput[],
): Promise<string | undefined> {
  const template = cronJob.spec.jobTemplate;
  try {
    await enforceQuota(tx, await loadPolicy(tx, cronJob.namespace), template.spec, {
      namespace: cronJob.namespace,
      existing: undefined,
    });
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    events.push({
      namespace: cronJob.namespace,
      objectKind: 'cronjob',
      objectName: cronJob.name,
      type: 'Warning',
      reason: 'FailedCreate',
      message: `could not create job ${run.name}: ${e.message}`,
    });
    return undefined;
  }
  const id = crypto.randomUUID();
  const inserted = await tx
    .insert(deployments)
    .values({
      id,
      kind: 'Job',
      namespace: cronJob.namespace,
      name: run.name,
      labels: { ...template.metadata?.labels, [CRON_JOB_LABEL]: cronJob.name },
      annotations: {
        ...template.metadata?.annotations,
        [SCHEDULED_TIMESTAMP_ANNOTATION]: run.scheduledTime.toISOString(),
      },
      spec: template.spec as unknown as (typeof deployments.$inferInsert)['spec'],
      generation: 1,
      resourceVersion: 1,
      createdAt: now,
      updatedAt: now,
      reconcileAt: now,
      progressAt: now,
      ownerCronJobId: cronJob.id,
    })
    .onConflictDoNothing()
    .returning({ id: deployments.id });
  return inserted[0]?.id;
}
