import { z } from 'zod';
import { CronJobSpecFields } from '../cron-job.ts';
import { ApiVersion, ObjectMeta, Timestamp } from './meta.ts';

/** CronJobs as the API returns them: batch/v1's spec, and its status read from its Jobs. */
export const CronJobStatus = z
  .object({
    /** The scheduled time of the last Job it made. */
    lastScheduleTime: Timestamp.optional(),
    /** When the newest of its Jobs still kept (history limits) completed. */
    lastSuccessfulTime: Timestamp.optional(),
    /** Its Jobs that have not finished. */
    active: z.array(z.object({ name: z.string(), namespace: z.string(), uid: z.string() })),
  })
  .meta({ id: 'CronJobStatus' });

export const CronJob = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('CronJob'),
    metadata: ObjectMeta,
    spec: CronJobSpecFields,
    status: CronJobStatus,
  })
  .meta({ id: 'CronJob' });
export type CronJob = z.infer<typeof CronJob>;

export const CronJobList = z.object({ items: z.array(CronJob) }).meta({ id: 'CronJobList' });
export type CronJobList = z.infer<typeof CronJobList>;
