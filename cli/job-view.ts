import { formatAge, formatLabels } from './format.ts';
import type { Job, JobCondition } from './resources.ts';
import type { Cell } from './table.ts';

/**
 * How `berth get jobs` shows a Job, column for column as kubectl 1.32 prints one: STATUS derived
 * from the conditions, COMPLETIONS as succeeded out of wanted, DURATION from start to completion
 * (or to now while it runs).
 */

/** Whether the Job has this condition with status True (a False one does not count, as in kubectl). */
export function hasCondition(job: Job, type: NonNullable<JobCondition['type']>): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** kubectl's order: a finished Job is Complete or Failed whatever else it says; then Suspended; else Running. */
export function jobStatus(job: Job): 'Complete' | 'Failed' | 'Suspended' | 'Running' {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  return 'Running';
}

/**
 * "2/3": succeeded out of completions. A Job without completions (a work queue) is done when one
 * pod succeeds: "0/1", or "0/1 of 3" when it runs more than one pod at a time.
 */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 1;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** kubectl's human duration: 45s, 3m20s, 25m, 5h10m, 12h, 3d4h, 20d, 2y30d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  // A clock a second or so behind the server's is "now", not an error.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 ? `${minutes}m${seconds % 60}s` : `${minutes}m`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 ? `${days}d${hours % 24}h` : `${days}d`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 ? `${years}y${days % 365}d` : `${years}y`;
  return `${years}y`;
}

/** From start to completion, or to now while it runs; none before it started. */
export function jobDuration(job: Job, now: Date): string | undefined {
  const start = job.status?.startTime;
  if (!start) return undefined;
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now.getTime();
  const ms = end - Date.parse(start);
  return Number.isFinite(ms) ? humanDuration(ms) : undefined;
}

export const jobContainers = (job: Job) =>
  (job.spec?.template?.spec?.containers ?? []).map((c) => c.name).join(',');
export const jobImages = (job: Job) =>
  (job.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',');

/** The table view `berth get jobs` prints (the shape of get.ts's views). */
export const jobView = {
  kind: 'job',
  headers: ['name', 'status', 'completions', 'duration', 'age'],
  wide: ['containers', 'images', 'selector'],
  row: (job: Job, now: Date): Cell[] => [
    job.metadata?.name,
    jobStatus(job),
    jobCompletions(job),
    jobDuration(job, now),
    formatAge(job.metadata?.createdAt, now),
  ],
  wideRow: (job: Job): Cell[] => [
    jobContainers(job),
    jobImages(job),
    formatLabels(job.spec?.selector?.matchLabels),
  ],
  name: (job: Job) => job.metadata?.name ?? '',
};
