import { ApiError, type BerthClient } from './client.ts';
import type { CronJob } from './resources.ts';

/**
 * `berth suspend|resume cronjob/NAME`: read the CronJob, set `spec.suspend`, write it back with
 * the resourceVersion just read, so a concurrent edit is never undone: that write is a 409, and the
 * change is made again once on what is there now.
 */

const ATTEMPTS = 2;

/** The CronJob as read, with only `spec.suspend` changed; its metadata as the write takes it. */
export function withSuspend(cronJob: CronJob, suspend: boolean) {
  const meta = cronJob.metadata ?? {};
  return {
    kind: 'CronJob',
    metadata: {
      labels: meta.labels,
      annotations: meta.annotations,
      resourceVersion: meta.resourceVersion,
    },
    spec: { ...cronJob.spec, suspend },
  };
}

/** `changed`, or `unchanged` when it already was in that state (nothing written). */
export async function setCronJobSuspend(
  client: BerthClient,
  ns: string,
  name: string,
  suspend: boolean,
): Promise<'changed' | 'unchanged'> {
  for (let attempt = 1; ; attempt++) {
    const current = await client.getObject<CronJob>(ns, 'cronjobs', name);
    if ((current.spec?.suspend ?? false) === suspend) return 'unchanged';
    try {
      await client.putObject(ns, 'cronjobs', name, withSuspend(current, suspend));
      return 'changed';
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409) || attempt >= ATTEMPTS) throw err;
    }
  }
}
