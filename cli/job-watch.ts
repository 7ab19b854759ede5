import { ApiError, type BerthClient } from './client.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { hasLogs, jobPodLogLines, sortJobPods } from './job-pods.ts';
import { endingFromEvents, judgeJob } from './job-wait.ts';
import type { Job, JobCondition } from './resources.ts';

/** How many failed pods, and how many of each one's last lines, a failure shows. */
const FAILED_PODS_SHOWN = 3;
const FAILED_LOG_LINES = 10;

/**
 * The last lines of a Job's failed pods (the most recent ones), best effort: the failure is the
 * news, its lines the help.
 */
export async function failedPodLines(client: BerthClient, ns: string, name: string): Promise<string[]> {
  try {
    const failed = sortJobPods(await client.listJobPods(ns, name)).filter(
      (p) => p.phase === 'Failed' && hasLogs(p),
    );
    return await jobPodLogLines(client, ns, failed.slice(-FAILED_PODS_SHOWN), FAILED_LOG_LINES, 'always');
  } catch {
    return [];
  }
}

/**
 * The Job now; a Job seen before that is gone (its TTL after finishing passed) is judged by the
 * events its ending left. One never seen is not found, as in kubectl.
 */
export async function lookAtJob(
  client: BerthClient,
  ns: string,
  name: string,
  seen: Job | undefined,
): Promise<Job> {
  try {
    return await client.getObject<Job>(ns, 'jobs', name);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && seen)) throw err;
    const ending = endingFromEvents(await client.listEvents(ns, `job/${name}`), seen.metadata?.createdAt);
    if (!ending) throw new CliError(`job/${name} was deleted while waiting`, EXIT.NOT_FOUND);
    return { ...seen, status: { ...seen.status, conditions: [ending] } };
  }
}

export type JobRunResult =
  | { state: 'complete'; job: Job }
  | { state: 'failed'; job: Job; condition: JobCondition; lines: string[] }
  | { state: 'timeout'; job: Job | undefined };

/**
 * Watch one Job until it completes, fails (with its failed pods' last lines) or the time is up:
 * what the Action does with a Job it runs before a rollout.
 */
export async function watchJob(
  client: BerthClient,
  ns: string,
  name: string,
  opts: {
    timeoutMs: number;
    intervalMs: number;
    sleep: (ms: number) => Promise<void>;
    now: () => number;
    onProgress?: (job: Job) => void;
  },
): Promise<JobRunResult> {
  const started = opts.now();
  let seen: Job | undefined;
  for (;;) {
    seen = await lookAtJob(client, ns, name, seen);
    opts.onProgress?.(seen);
    const look = judgeJob(seen, { type: 'Complete', status: 'True' });
    if (look.state === 'met') return { state: 'complete', job: seen };
    if (look.state === 'unreachable')
      return {
        state: 'failed',
        job: seen,
        condition: look.condition,
        lines: await failedPodLines(client, ns, name),
      };
    const left = opts.timeoutMs - (opts.now() - started);
    if (left <= 0) return { state: 'timeout', job: seen };
    await opts.sleep(Math.min(opts.intervalMs, left));
  }
}
