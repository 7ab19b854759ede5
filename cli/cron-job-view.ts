import { formatAge, formatLabels } from './format.ts';
import type { CronJob, Labels } from './resources.ts';
import type { Cell } from './table.ts';

/**
 * How `berth get cronjobs` shows a CronJob, column for column as kubectl 1.32 prints one: the
 * schedule and its time zone, whether it is suspended, how many of its Jobs run, and when it last
 * made one.
 */

const templateContainers = (c: CronJob) => c.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];

export const cronJobContainers = (c: CronJob) =>
  templateContainers(c)
    .map((x) => x.name)
    .join(',');
export const cronJobImages = (c: CronJob) =>
  templateContainers(c)
    .map((x) => x.image)
    .join(',');

/**
 * The job template's selector. Berth gives each Job its own and keeps none in the template, so
 * this is kubectl's <none> unless a server ever sends one.
 */
const templateSelector = (c: CronJob) =>
  (c.spec?.jobTemplate?.spec as { selector?: { matchLabels?: Labels } } | undefined)?.selector;

/** kubectl writes the spec's boolean as Go prints it. */
export const cronJobSuspended = (c: CronJob) => (c.spec?.suspend ? 'True' : 'False');

/** The table view `berth get cronjobs` prints (the shape of get.ts's views). */
export const cronJobView = {
  kind: 'cronjob',
  headers: ['name', 'schedule', 'timezone', 'suspend', 'active', 'last schedule', 'age'],
  wide: ['containers', 'images', 'selector'],
  row: (c: CronJob, now: Date): Cell[] => [
    c.metadata?.name,
    c.spec?.schedule,
    c.spec?.timeZone,
    cronJobSuspended(c),
    (c.status?.active ?? []).length,
    c.status?.lastScheduleTime ? formatAge(c.status.lastScheduleTime, now) : undefined,
    formatAge(c.metadata?.createdAt, now),
  ],
  wideRow: (c: CronJob): Cell[] => [
    cronJobContainers(c),
    cronJobImages(c),
    formatLabels(templateSelector(c)?.matchLabels),
  ],
  name: (c: CronJob) => c.metadata?.name ?? '',
};
