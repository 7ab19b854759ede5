import { z } from 'zod';
import { JobSpecFields } from '../job.ts';
import { Labels } from '../names.ts';
import { ApiVersion, ObjectMeta, Timestamp } from './meta.ts';

/** Jobs as the API returns them: batch/v1's spec and status. */

export const JobCondition = z
  .object({
    /** Complete or Failed once finished (reasons BackoffLimitExceeded, DeadlineExceeded); Suspended. */
    type: z.enum(['Complete', 'Failed', 'Suspended']),
    status: z.enum(['True', 'False']),
    reason: z.string(),
    message: z.string(),
    lastProbeTime: Timestamp,
    lastTransitionTime: Timestamp,
  })
  .meta({ id: 'JobCondition' });

export const JobStatus = z
  .object({
    startTime: Timestamp.optional(),
    completionTime: Timestamp.optional(),
    /** Pods running or waiting for a place. */
    active: z.int(),
    ready: z.int(),
    /** Pods told to stop, not yet gone. */
    terminating: z.int(),
    succeeded: z.int(),
    failed: z.int(),
    /** Indexed Jobs: the indexes that succeeded, as intervals ("0-2,5"). */
    completedIndexes: z.string().optional(),
    conditions: z.array(JobCondition),
  })
  .meta({ id: 'JobStatus' });

export const Job = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('Job'),
    metadata: ObjectMeta,
    /** As applied, with defaults, and the selector of its pods (which Berth sets, as Kubernetes does). */
    spec: JobSpecFields.extend({ selector: z.object({ matchLabels: Labels }) }),
    status: JobStatus,
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof Job>;

export const JobList = z.object({ items: z.array(Job) }).meta({ id: 'JobList' });
export type JobList = z.infer<typeof JobList>;
