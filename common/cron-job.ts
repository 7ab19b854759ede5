import { z } from 'zod';
import { scheduleIssues } from './cron-schedule.ts';
import { ObjectMetaInput } from './deployment.ts';
import { JobSpec, JobSpecFields } from './job.ts';
import { Labels } from './names.ts';

/**
 * The CronJob as users write it: batch/v1's shape, also accepted as berth.dev/v1. Each scheduled
 * time makes at most one Job from `jobTemplate` (common/cron-schedule.ts decides when), whatever
 * number of control-plane copies and triggers run: the controller takes the CronJob's row lock and
 * records the time it handled in the same transaction as the Job it makes.
 */

/** The label on every Job a CronJob makes, naming it (its run history is listed by it). */
export const CRON_JOB_LABEL = 'berth.dev/cronjob';
/** Kubernetes' annotations on a CronJob's Jobs: the time it was scheduled for, or a run by hand. */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
export const INSTANTIATE_ANNOTATION = 'cronjob.kubernetes.io/instantiate';

const JobTemplateMetadata = z.strictObject({
  labels: Labels.optional(),
  annotations: z.record(z.string().max(253), z.string().max(65536)).optional(),
});

const cronJobFields = {
  schedule: z.string().min(1).max(256),
  timeZone: z.string().min(1).max(64).optional(),
  concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Allow'),
  startingDeadlineSeconds: z.int().min(0).max(31_536_000).optional(),
  suspend: z.boolean().default(false),
  successfulJobsHistoryLimit: z.int().min(0).max(100).default(3),
  failedJobsHistoryLimit: z.int().min(0).max(100).default(1),
};

export const CronJobSpec = z
  .strictObject({
    ...cronJobFields,
    jobTemplate: z.strictObject({ metadata: JobTemplateMetadata.optional(), spec: JobSpec }),
  })
  .check((ctx) => {
    for (const { path, message } of scheduleIssues(ctx.value.schedule, ctx.value.timeZone))
      ctx.issues.push({ code: 'custom', input: ctx.value, path, message });
  });
export type CronJobSpec = z.infer<typeof CronJobSpec>;

/** The spec as stored and returned (no refused fields to carry). */
export const CronJobSpecFields = z.strictObject({
  ...cronJobFields,
  jobTemplate: z.strictObject({ metadata: JobTemplateMetadata.optional(), spec: JobSpecFields }),
});

export const CronJobInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('CronJob').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: CronJobSpec,
  status: z.unknown().optional(),
});
export type CronJobInput = z.infer<typeof CronJobInput>;

/** Kubernetes' CronJobStatus. */
export interface CronJobStatus {
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
  /** Its Jobs that have not finished. */
  active: { name: string; namespace: string; uid: string }[];
}

/** The name of the Job for a scheduled time, as Kubernetes names it: minutes since the epoch. */
export function scheduledJobName(cronJob: string, time: Date): string {
  return `${cronJob}-${Math.floor(time.getTime() / 60_000)}`;
}
