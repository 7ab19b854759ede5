import { formatToleration } from './describe-node.ts';
import { formatAge, formatLabels } from './format.ts';
import { jobView } from './job-view.ts';
import type { CronJob, Event, Job } from './resources.ts';
import { type Cell, renderFields, renderTable } from './table.ts';

const RECENT_EVENTS = 15;

const when = (at: string | undefined, now: Date) => (at ? `${at} (${formatAge(at, now)} ago)` : '<unset>');

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Oldest first, as events are: the newest run is the last line. */
function byCreation(jobs: Job[]): Job[] {
  const created = (j: Job) => Date.parse(j.metadata?.createdAt ?? '') || 0;
  return [...jobs].sort((a, b) => created(a) - created(b));
}

/**
 * `berth describe cronjob NAME`: kubectl's fields for a CronJob (schedule, policy, limits, the
 * job template, last schedule, active Jobs), then the Jobs it made that are still kept (found by
 * their `berth.dev/cronjob` label) with their status as `get jobs` shows it, and its recent events.
 */
export function describeCronJob(cronJob: CronJob, jobs: Job[], events: Event[], now: Date): string {
  const meta = cronJob.metadata ?? {};
  const spec = cronJob.spec ?? {};
  const status = cronJob.status ?? {};
  const fields: [string, Cell][] = [
    ['Name', meta.name],
    ['Namespace', meta.namespace],
    ['Labels', formatLabels(meta.labels)],
    ['Annotations', formatLabels(meta.annotations)],
    ['Created', meta.createdAt ? when(meta.createdAt, now) : undefined],
    ['Schedule', spec.schedule],
    ['Time Zone', spec.timeZone ?? '<unset>'],
    ['Concurrency Policy', spec.concurrencyPolicy ?? 'Allow'],
    ['Suspend', spec.suspend ? 'true' : 'false'],
    ['Successful Job History Limit', spec.successfulJobsHistoryLimit ?? 3],
    ['Failed Job History Limit', spec.failedJobsHistoryLimit ?? 1],
    [
      'Starting Deadline Seconds',
      spec.startingDeadlineSeconds === undefined ? '<unset>' : `${spec.startingDeadlineSeconds}s`,
    ],
    ['Last Schedule Time', when(status.lastScheduleTime, now)],
    ['Last Successful Time', when(status.lastSuccessfulTime, now)],
    ['Active Jobs', (status.active ?? []).map((a) => a.name).join(', ')],
  ];

  const out: string[] = [renderFields(fields)];
  const template = spec.jobTemplate;
  const job = template?.spec ?? {};
  const pod = job.template;
  out.push('Job Template:');
  const jobFields: [string, Cell][] = [['Labels', formatLabels(template?.metadata?.labels)]];
  const annotations = template?.metadata?.annotations;
  if (annotations && Object.keys(annotations).length)
    jobFields.push(['Annotations', formatLabels(annotations)]);
  jobFields.push(
    ['Parallelism', job.parallelism ?? 1],
    ['Completions', job.completions ?? '<unset>'],
    ['Completion Mode', job.completionMode ?? 'NonIndexed'],
    ['Backoff Limit', job.backoffLimit ?? 6],
  );
  if (job.activeDeadlineSeconds !== undefined)
    jobFields.push(['Active Deadline Seconds', `${job.activeDeadlineSeconds}s`]);
  if (job.ttlSecondsAfterFinished !== undefined)
    jobFields.push(['TTL Seconds After Finished', `${job.ttlSecondsAfterFinished}s`]);
  jobFields.push(
    ['Restart Policy', pod?.spec?.restartPolicy],
    ['Pod Labels', formatLabels(pod?.metadata?.labels)],
  );
  const nodeSelector = pod?.spec?.nodeSelector;
  if (nodeSelector && Object.keys(nodeSelector).length)
    jobFields.push(['Node Selector', formatLabels(nodeSelector)]);
  const tolerations = pod?.spec?.tolerations;
  if (tolerations?.length) jobFields.push(['Tolerations', tolerations.map(formatToleration).join(', ')]);
  out.push(renderFields(jobFields, '  ').trimEnd());
  out.push('  Containers:');
  for (const c of pod?.spec?.containers ?? []) {
    const container: [string, Cell][] = [['Image', c.image]];
    if (c.command?.length) container.push(['Command', c.command.join(' ')]);
    if (c.args?.length) container.push(['Args', c.args.join(' ')]);
    out.push(`   ${c.name}:\n${renderFields(container, '      ').trimEnd()}`);
  }

  out.push('Jobs:');
  out.push(
    jobs.length
      ? indent(
          renderTable(
            jobView.headers,
            byCreation(jobs).map((j) => jobView.row(j, now)),
          ),
        )
      : '  <none>',
  );
  const recent = events.slice(-RECENT_EVENTS);
  out.push('Events:');
  out.push(
    recent.length
      ? indent(
          renderTable(
            ['age', 'type', 'reason', 'message'],
            recent.map((e) => [formatAge(e.createdAt, now), e.type, e.reason, e.message]),
          ),
        )
      : '  <none>',
  );
  return `${out.map((s) => s.trimEnd()).join('\n')}\n`;
}
