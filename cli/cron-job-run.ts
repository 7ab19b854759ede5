import { CRON_JOB_LABEL, INSTANTIATE_ANNOTATION } from '../common/cron-job.ts';
import type { CronJob } from './resources.ts';

/**
 * `berth create job NAME --from=cronjob/CRON`, as kubectl makes it: a Job from the CronJob's
 * template, run now by hand. It carries the template's labels and annotations, the label that
 * lists it among the CronJob's Jobs (`describe cronjob` shows it), and Kubernetes' annotation
 * saying it was not made by the schedule. The API has no owner to give it, so unlike the Jobs the
 * schedule makes it outlives a deleted CronJob, and the history limits do not prune it.
 */
export function jobFromCronJob(cronJob: CronJob, cronJobName: string) {
  const template = cronJob.spec?.jobTemplate;
  return {
    metadata: {
      labels: { ...template?.metadata?.labels, [CRON_JOB_LABEL]: cronJobName },
      annotations: { ...template?.metadata?.annotations, [INSTANTIATE_ANNOTATION]: 'manual' },
    },
    spec: template?.spec,
  };
}
