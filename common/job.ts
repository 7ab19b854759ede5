import { z } from 'zod';
import { ObjectMetaInput, PodTemplate } from './deployment.ts';

/**
 * The Job as users write it: batch/v1's shape, also accepted as berth.dev/v1. Pods run to
 * completion (restartPolicy Never or OnFailure, as Kubernetes requires of a Job), `completions`
 * of them succeed, at most `parallelism` at once, failures retried with Kubernetes' exponential
 * backoff up to `backoffLimit`. What Berth does not do is refused at its path: success and failure
 * policies, per-index backoff, a selector of one's own (the Job's pods are its own by construction).
 */

/** Labels every pod of a Job carries, as Kubernetes sets them (selectors and `kubectl logs` use them). */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
/** The environment variable and annotation an Indexed Job's pod reads its index from. */
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

const refused = (message: string) =>
  z
    .unknown()
    .refine(() => false, message)
    .optional();

/** The fields Berth runs, as stored and returned. */
export const JobSpecFields = z.strictObject({
  template: PodTemplate,
  /** Pods that must succeed; absent: the work-queue pattern (done when one has succeeded and none runs). */
  completions: z.int().min(0).max(10000).optional(),
  parallelism: z.int().min(0).max(10000).default(1),
  backoffLimit: z.int().min(0).max(10000).default(6),
  activeDeadlineSeconds: z.int().min(1).max(31_536_000).optional(),
  ttlSecondsAfterFinished: z.int().min(0).max(31_536_000).optional(),
  completionMode: z.enum(['NonIndexed', 'Indexed']).default('NonIndexed'),
  suspend: z.boolean().default(false),
});

export const JobSpec = JobSpecFields.extend({
  /**
   * Berth sets it (its pods' batch.kubernetes.io/job-name label); written back as read, it is
   * accepted when it names the Job (the write checks the name).
   */
  selector: z
    .strictObject({
      matchLabels: z.partialRecord(
        z.enum([JOB_NAME_LABEL, LEGACY_JOB_NAME_LABEL], {
          error: 'is not supported by Berth: a Job selects its own pods (label batch.kubernetes.io/job-name)',
        }),
        z.string(),
      ),
    })
    .optional(),
  manualSelector: refused('is not supported by Berth: a Job selects its own pods'),
  podFailurePolicy: refused('is not supported by Berth (failures count against backoffLimit)'),
  successPolicy: refused('is not supported by Berth (a Job succeeds when its completions have)'),
  backoffLimitPerIndex: refused('is not supported by Berth (use backoffLimit)'),
  maxFailedIndexes: refused('is not supported by Berth (use backoffLimit)'),
  podReplacementPolicy: refused(
    'is not supported by Berth (a failed pod is replaced once it has stopped, as with Failed)',
  ),
  managedBy: refused('is not supported by Berth: Berth runs its Jobs itself'),
}).check((ctx) => {
  const s = ctx.value;
  const policy = s.template.spec.restartPolicy;
  if (policy !== 'Never' && policy !== 'OnFailure')
    ctx.issues.push({
      code: 'custom',
      input: policy,
      path: ['template', 'spec', 'restartPolicy'],
      message: `must be Never or OnFailure for a Job (${policy === 'Always' ? 'Always, the default, would never finish' : policy})`,
    });
  if (s.completionMode === 'Indexed' && s.completions === undefined)
    ctx.issues.push({
      code: 'custom',
      input: s.completions,
      path: ['completions'],
      message: 'is required when completionMode is Indexed',
    });
});
export type JobSpec = z.infer<typeof JobSpec>;

/** The parts of a Job's spec Kubernetes lets a write change; everything else is fixed at creation. */
export const MUTABLE_JOB_FIELDS = [
  'parallelism',
  'suspend',
  'activeDeadlineSeconds',
  'ttlSecondsAfterFinished',
];

export const JobInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('Job').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: JobSpec,
  status: z.unknown().optional(),
});
export type JobInput = z.infer<typeof JobInput>;

export interface JobCondition {
  type: 'Complete' | 'Failed' | 'Suspended';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastProbeTime: string;
  lastTransitionTime: string;
}

/** Kubernetes' JobStatus, as Berth reports it. */
export interface JobStatus {
  startTime?: string;
  completionTime?: string;
  /** Pods running or waiting to run. */
  active: number;
  /** Active pods that are ready. */
  ready: number;
  /** Pods told to stop and not yet gone. */
  terminating: number;
  succeeded: number;
  failed: number;
  /** Indexed Jobs: the indexes that have succeeded, as Kubernetes writes them ("0-2,5"). */
  completedIndexes?: string;
  conditions: JobCondition[];
}

/** Kubernetes' interval form of a set of indexes: [0,1,2,5] → "0-2,5". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The inverse of formatIndexes (an absent or empty list is no index). */
export function parseIndexes(text: string | undefined): number[] {
  if (!text) return [];
  return text.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    if (to === undefined) return [from!];
    return Array.from({ length: to - from! + 1 }, (_, i) => from! + i);
  });
}

/** The Job's terminal condition, if it has finished. */
export function finishedCondition(status: Pick<JobStatus, 'conditions'> | null | undefined) {
  return status?.conditions.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}
