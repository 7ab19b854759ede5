import { scheduledJobName } from '../../common/cron-job.ts';
import { decideCronRun } from '../../common/cron-schedule.ts';
import { finishedCondition } from '../../common/job.ts';
import type { CronJobRow } from '../kinds/cron-job.ts';
import type { JobRow } from '../kinds/job.ts';
import type { EventInput } from '../store/events.ts';

export interface CronJobDecisionInput {
  now: Date;
  cronJob: CronJobRow;
  /** The Jobs it made that are not deleted. */
  jobs: JobRow[];
}

export interface CronJobDecision {
  /** The one Job to make now, for this scheduled time. */
  create?: { name: string; scheduledTime: Date };
  /** Its Jobs to delete: the running ones Replace replaces, the finished ones past the history limits. */
  deleteJobs: string[];
  /** Scheduled times up to here are handled (run, skipped or missed). */
  handledUntil: Date | null;
  lastScheduleTime: Date | null;
  /** When to look again; null while suspended or when the schedule cannot be read. */
  nextRunAt: Date | null;
  events: EventInput[];
}

/** While a Job runs, its CronJob is looked at this often, so its history is pruned soon after it ends. */
const ACTIVE_RECHECK_MS = 30_000;

/**
 * What Kubernetes' CronJob controller does at one look, from plain rows: the latest due time since
 * the last handled one (common/cron-schedule.ts) runs once, within startingDeadlineSeconds, with
 * one catch-up however many times an outage missed (and a warning past 100); Forbid skips it while
 * a Job runs, Replace deletes the running ones first; finished Jobs beyond the history limits go.
 * Pure: the controller takes the CronJob's lock, and writes the Job and `handledUntil` together.
 */
export function decideCronJob(input: CronJobDecisionInput): CronJobDecision {
  const { now, cronJob } = input;
  const spec = cronJob.spec;
  const event = (type: 'Normal' | 'Warning', reason: string, message: string): EventInput => ({
    namespace: cronJob.namespace,
    objectKind: 'cronjob',
    objectName: cronJob.name,
    type,
    reason,
    message,
  });
  const out: CronJobDecision = {
    deleteJobs: prunedHistory(input),
    handledUntil: cronJob.handledUntil,
    lastScheduleTime: cronJob.lastScheduleTime,
    nextRunAt: null,
    events: [],
  };
  if (spec.suspend) return out;

  const active = input.jobs.filter((j) => !finishedCondition(j.status));
  const run = decideCronRun({
    schedule: spec.schedule,
    ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
    earliest: cronJob.handledUntil ?? cronJob.createdAt,
    now,
    ...(spec.startingDeadlineSeconds !== undefined
      ? { startingDeadlineSeconds: spec.startingDeadlineSeconds }
      : {}),
  });
  switch (run.kind) {
    case 'invalid':
      out.events.push(event('Warning', 'InvalidSchedule', run.message));
      return out;
    case 'none':
      out.nextRunAt = run.next;
      break;
    case 'missedDeadline':
      out.events.push(
        event(
          'Warning',
          'MissSchedule',
          `missed the scheduled time ${run.time.toISOString()} by more than startingDeadlineSeconds (${spec.startingDeadlineSeconds}s)`,
        ),
      );
      out.handledUntil = run.time;
      out.nextRunAt = run.next;
      break;
    case 'run': {
      out.handledUntil = run.time;
      out.nextRunAt = run.next;
      if (run.tooManyMissed)
        out.events.push(
          event(
            'Warning',
            'TooManyMissedTimes',
            'too many missed start times (more than 100): only the latest runs; set or decrease startingDeadlineSeconds or check the clock',
          ),
        );
      if (spec.concurrencyPolicy === 'Forbid' && active.length) {
        out.events.push(
          event(
            'Normal',
            'JobAlreadyActive',
            `skipped the run of ${run.time.toISOString()}: ${active.map((j) => j.name).join(', ')} still running (concurrencyPolicy Forbid)`,
          ),
        );
        break;
      }
      if (spec.concurrencyPolicy === 'Replace' && active.length) {
        out.deleteJobs.push(...active.map((j) => j.id));
        out.events.push(
          event(
            'Normal',
            'SuccessfulDelete',
            `replaced ${active.map((j) => j.name).join(', ')} (concurrencyPolicy Replace)`,
          ),
        );
      }
      const name = scheduledJobName(cronJob.name, run.time);
      out.create = { name, scheduledTime: run.time };
      out.lastScheduleTime = run.time;
      out.events.push(event('Normal', 'SuccessfulCreate', `created job ${name}`));
      break;
    }
  }
  const stillActive = active.some((j) => !out.deleteJobs.includes(j.id)) || out.create !== undefined;
  if (stillActive && out.nextRunAt)
    out.nextRunAt = new Date(Math.min(out.nextRunAt.getTime(), now.getTime() + ACTIVE_RECHECK_MS));
  return out;
}

/** Finished Jobs past successfulJobsHistoryLimit and failedJobsHistoryLimit, oldest first. */
function prunedHistory(input: CronJobDecisionInput): string[] {
  const { spec } = input.cronJob;
  const finishedAt = (j: JobRow) => finishedCondition(j.status)?.lastTransitionTime ?? '';
  const ended = (type: 'Complete' | 'Failed') =>
    input.jobs
      .filter((j) => finishedCondition(j.status)?.type === type)
      .sort(
        (a, b) => finishedAt(b).localeCompare(finishedAt(a)) || b.createdAt.getTime() - a.createdAt.getTime(),
      );
  return [
    ...ended('Complete').slice(spec.successfulJobsHistoryLimit),
    ...ended('Failed').slice(spec.failedJobsHistoryLimit),
  ].map((j) => j.id);
}
