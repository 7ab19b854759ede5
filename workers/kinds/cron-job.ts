import type { CronJobSpec, CronJobStatus } from '../../common/cron-job.ts';
import { refusedHostPaths } from '../../common/host-path.ts';
import { refusedSecurity } from '../../common/security-context.ts';
import { cronJobs } from '../../db/schema/index.ts';
import { invalid } from '../errors.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';
import { loadPolicy } from '../store/policies.ts';
import { refusedHostPorts } from './deployment.ts';

export type CronJobRow = typeof cronJobs.$inferSelect;

/**
 * Kubernetes' limit: a CronJob's Jobs are named `<name>-<minutes since the epoch>` (11 more
 * characters), and a Job's name must stay a 63-character label.
 */
const MAX_NAME = 52;

/**
 * CronJobs in the object store. Its Jobs' pods are judged by the namespace's policy when the
 * CronJob is written (the Jobs the controller makes later are made from this template); a spec
 * change (a new schedule, a resume) makes the controller look at it at once.
 */
export const cronJobKind: ObjectKind<CronJobRow, CronJobSpec> = {
  noun: 'cronjob',
  table: cronJobs,
  generation: true,
  stateOf: (row) => ({ spec: row.spec, labels: row.labels, annotations: row.annotations }),
  // A selector in the job template is its Jobs' own, which Berth sets on each: not kept.
  prepare: (next) => {
    const { selector: _selector, ...job } = next.spec.jobTemplate.spec;
    return { ...next, spec: { ...next.spec, jobTemplate: { ...next.spec.jobTemplate, spec: job } } };
  },
  admit: async (tx, next, write) => {
    if (write.name.length > MAX_NAME)
      throw invalid([
        {
          path: 'metadata.name',
          message: `must be at most ${MAX_NAME} characters (its Jobs are named after it, with 11 more)`,
        },
      ]);
    if (!write.specChanged) return;
    const policy = await loadPolicy(tx, write.namespace);
    const job = next.spec.jobTemplate.spec;
    const refused = [
      ...(write.admission.admin ? [] : refusedHostPorts(job, policy, write.namespace)),
      ...refusedSecurity(job.template.spec, policy, write.namespace),
      ...refusedHostPaths(job.template.spec, policy.allowedHostPaths, write.namespace),
    ].map((e) => ({ ...e, path: e.path.replace(/^spec\./, 'spec.jobTemplate.spec.') }));
    if (refused.length) throw invalid(refused);
  },
  columns: (next, { existing, specChanged, now }) => ({
    spec: next.spec,
    ...(!existing || specChanged ? { nextRunAt: now } : {}),
  }),
};

export function toCronJobObject(row: CronJobRow, status: Omit<CronJobStatus, 'lastScheduleTime'>) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'CronJob' as const,
    metadata: objectMetadata(row),
    spec: row.spec,
    status: {
      ...(row.lastScheduleTime ? { lastScheduleTime: row.lastScheduleTime.toISOString() } : {}),
      ...status,
    },
  };
}
export type CronJobObject = ReturnType<typeof toCronJobObject>;
