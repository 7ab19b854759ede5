import { and, eq, isNull, sql } from 'drizzle-orm';
import { canonicalJson } from '../../common/canonical-json.ts';
import { CRON_JOB_LABEL } from '../../common/cron-job.ts';
import { refusedHostPaths } from '../../common/host-path.ts';
import {
  JOB_NAME_LABEL,
  type JobSpec,
  type JobStatus,
  LEGACY_JOB_NAME_LABEL,
  MUTABLE_JOB_FIELDS,
} from '../../common/job.ts';
import { refusedSecurity } from '../../common/security-context.ts';
import { deployments } from '../../db/schema/index.ts';
import { invalid } from '../errors.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';
import { loadPolicy } from '../store/policies.ts';
import { enforceQuota, refusedHostPorts } from './deployment.ts';

/**
 * A Job's row: the workloads table (db/schema/deployments.ts) read with a Job's spec and status.
 * This is the one place that gives the row that shape; everything about Jobs goes through it.
 */
export type JobRow = Omit<typeof deployments.$inferSelect, 'spec' | 'status' | 'kind'> & {
  kind: 'Job';
  spec: JobSpec;
  status: JobStatus | null;
};

export const asJobRow = (row: typeof deployments.$inferSelect): JobRow => row as unknown as JobRow;

/**
 * Jobs in the object store. Only what Kubernetes lets change after
 * creation may change (parallelism, suspend, the deadline, the TTL). A write that changes the spec
 * makes the Job due for the controller at once; DELETE marks it, the controller stops its pods.
 */
export const jobKind: ObjectKind<JobRow, JobSpec> = {
  noun: 'job',
  table: deployments,
  live: and(isNull(deployments.deletedAt), eq(deployments.kind, 'Job')),
  generation: true,
  stateOf: (row) => ({ spec: row.spec, labels: row.labels, annotations: row.annotations }),
  prepare: (next, stored) => {
    // The labels naming the Job are Berth's to set (on its pods, and shown in the template read
    // back): a template written back from a read carries them, one from a file does not; both are
    // the same template.
    const {
      [JOB_NAME_LABEL]: _name,
      [LEGACY_JOB_NAME_LABEL]: _legacy,
      ...labels
    } = next.spec.template.metadata.labels;
    const spec = {
      ...next.spec,
      template: { ...next.spec.template, metadata: { ...next.spec.template.metadata, labels } },
    };
    if (stored) refuseImmutableChanges(spec, stored.spec);
    return { ...next, spec };
  },
  admit: async (tx, next, write) => {
    if (!write.specChanged) return;
    const policy = await loadPolicy(tx, write.namespace);
    // The same limits as a Deployment's pods: a Job's pod is a pod on the node like any other.
    const spec = next.spec;
    const refused = [
      ...(write.admission.admin ? [] : refusedHostPorts(spec, policy, write.namespace)),
      ...refusedSecurity(spec.template.spec, policy, write.namespace),
      ...refusedHostPaths(spec.template.spec, policy.allowedHostPaths, write.namespace),
    ];
    if (refused.length) throw invalid(refused);
    await enforceQuota(tx, policy, spec, write);
  },
  // A Job made by hand from a CronJob (`berth create job --from=cronjob/X`, the dashboard's Run
  // now) carries its label: it is the CronJob's, as Kubernetes' owner reference makes it (counted
  // in its status and concurrency, pruned with its history, deleted with it).
  afterWrite: async (tx, row, next) => {
    const cronJob = next.labels[CRON_JOB_LABEL];
    if (!cronJob || row.ownerCronJobId) return;
    await tx.execute(sql`
      update deployments set owner_cron_job_id = c.id
      from cron_jobs c
      where deployments.id = ${row.id} and c.namespace = ${row.namespace} and c.name = ${cronJob}`);
  },
  columns: (next, { existing, specChanged, now }) => ({
    kind: 'Job',
    spec: next.spec,
    ...(!existing || specChanged ? { reconcileAt: now } : {}),
    ...(!existing ? { progressAt: now } : {}),
  }),
};

/** Kubernetes' rule: a Job's template, completions and mode are fixed once it exists. */
function refuseImmutableChanges(next: JobSpec, stored: JobSpec): void {
  const fixed = (s: JobSpec) =>
    Object.fromEntries(Object.entries(s).filter(([k]) => !MUTABLE_JOB_FIELDS.includes(k)));
  const before = fixed(stored);
  const after = fixed(next);
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => canonicalJson(before[k]) !== canonicalJson(after[k]),
  );
  if (changed.length)
    throw invalid(
      changed.sort().map((k) => ({
        path: `spec.${k}`,
        message: `is immutable once the Job exists (only ${MUTABLE_JOB_FIELDS.join(', ')} may change): delete the Job and apply it again`,
      })),
    );
}

/** The labels every pod of the Job carries, as Kubernetes sets them. */
export function jobPodLabels(name: string): Record<string, string> {
  return { [JOB_NAME_LABEL]: name, [LEGACY_JOB_NAME_LABEL]: name };
}

const EMPTY_STATUS: JobStatus = {
  active: 0,
  ready: 0,
  terminating: 0,
  succeeded: 0,
  failed: 0,
  conditions: [],
};

export function toJobObject(row: JobRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Job' as const,
    metadata: objectMetadata(row),
    // The template as its pods carry it: with the labels naming the Job, as Kubernetes stores it.
    spec: {
      ...row.spec,
      selector: { matchLabels: { [JOB_NAME_LABEL]: row.name } },
      template: {
        ...row.spec.template,
        metadata: {
          ...row.spec.template.metadata,
          labels: { ...row.spec.template.metadata.labels, ...jobPodLabels(row.name) },
        },
      },
    },
    status: row.status ?? EMPTY_STATUS,
  };
}
export type JobObject = ReturnType<typeof toJobObject>;
