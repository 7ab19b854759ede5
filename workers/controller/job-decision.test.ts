import { describe, expect, it } from 'vitest';
import { JobSpec } from '../../common/job.ts';
import type { replicas } from '../../db/schema/index.ts';
import type { JobRow } from '../kinds/job.ts';
import { decideJob } from './job-decision.ts';

type ReplicaRow = typeof replicas.$inferSelect;
const NOW = new Date('2026-12-05T12:00:00Z');
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);

function job(spec: Record<string, unknown> = {}, over: Partial<JobRow> = {}): JobRow {
  return {
    id: 'j1',
    kind: 'Job',
    ownerCronJobId: null,
    namespace: 'shop',
    name: 'migrate',
    labels: {},
    annotations: {},
    managedFields: [],
    spec: JobSpec.parse({
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: 'm:1' }] } },
      ...spec,
    }),
    generation: 1,
    resourceVersion: 1,
    status: null,
    createdAt: at(-60),
    updatedAt: at(-60),
    deletedAt: null,
    reconcileAt: NOW,
    progressAt: at(-60),
    ...over,
  };
}

let seq = 0;
function pod(phase: ReplicaRow['phase'], over: Partial<ReplicaRow> = {}): ReplicaRow {
  const failed = phase === 'Failed';
  return {
    id: `p${++seq}`,
    deploymentId: 'j1',
    namespace: 'shop',
    deploymentName: 'migrate',
    revision: 1,
    nodeId: 'n1',
    desired: 'running',
    phase,
    ready: phase === 'Running',
    readySince: null,
    message: null,
    restartCount: 0,
    hostPorts: [],
    containers: failed
      ? [{ name: 'm', state: 'terminated', exitCode: 1, restartCount: 0, hostPorts: [] }]
      : [],
    requestCpuMillis: 0,
    requestMemoryBytes: 0,
    requestHostPorts: [],
    requestScalars: null,
    createdAt: at(-30),
    updatedAt: at(-30),
    stoppedAt: null,
    serviceEnv: null,
    draining: false,
    defaultMemoryLimitBytes: null,
    configMapData: null,
    completionIndex: null,
    finishedAt: null,
    ...over,
  };
}

const decide = (j: JobRow, pods: ReplicaRow[], now = NOW) =>
  decideJob({ now, job: j, revision: 1, replicas: pods });

describe('decideJob', () => {
  it('starts parallelism pods, never more than the completions left', () => {
    expect(decide(job({ completions: 3, parallelism: 2 }), []).create).toEqual([{ revision: 1, count: 2 }]);
    const done = pod('Succeeded', { finishedAt: at(-5) });
    const d = decide(job({ completions: 3, parallelism: 2 }, { status: counts({ succeeded: 1 }) }), [
      done,
      pod('Running'),
    ]);
    expect(d.create).toEqual([{ revision: 1, count: 1 }]);
    expect(d.status.active).toBe(2);
  });

  it('counts a finished pod once, and completes at completions with completionTime', () => {
    const first = decide(job({ completions: 2, parallelism: 2 }), [pod('Succeeded'), pod('Running')]);
    expect(first.finish).toHaveLength(1);
    expect(first.status.succeeded).toBe(1);
    expect(first.status.conditions).toEqual([]);
    const counted = pod('Succeeded', { finishedAt: NOW });
    const second = decide(job({ completions: 2, parallelism: 2 }, { status: first.status }), [
      counted,
      pod('Succeeded'),
    ]);
    expect(second.status.succeeded).toBe(2);
    expect(second.status.conditions.map((c) => [c.type, c.reason])).toEqual([['Complete', 'Completed']]);
    expect(second.status.completionTime).toBe(NOW.toISOString());
    expect(second.create).toEqual([]);
  });

  it('fails past backoffLimit with BackoffLimitExceeded and stops what still runs', () => {
    const running = pod('Running');
    const d = decide(
      job({ backoffLimit: 1, parallelism: 2, completions: 2 }, { status: counts({ failed: 1 }) }),
      [pod('Failed', { finishedAt: at(-20) }), pod('Failed'), running],
    );
    expect(d.status.failed).toBe(2);
    expect(d.status.conditions[0]).toMatchObject({ type: 'Failed', reason: 'BackoffLimitExceeded' });
    expect(d.stop).toEqual([running.id]);
    expect(d.create).toEqual([]);
  });

  it('waits out the exponential backoff after a failure before the next pod', () => {
    const d = decide(job({ backoffLimit: 6 }, { status: counts({ failed: 2 }) }), [
      pod('Failed', { finishedAt: at(-50) }),
      pod('Failed', { finishedAt: at(-5) }),
    ]);
    expect(d.create).toEqual([]);
    expect(d.reconcileAt).toEqual(at(15)); // 20 s after the newest failure
    const later = decide(job({ backoffLimit: 6 }, { status: counts({ failed: 2 }) }), [
      pod('Failed', { finishedAt: at(-50) }),
      pod('Failed', { finishedAt: at(-21) }),
    ]);
    expect(later.create).toEqual([{ revision: 1, count: 1 }]);
  });

  it('does not count a pod whose image cannot be pulled as failed (it is retried in place)', () => {
    const pulling = pod('Failed', {
      containers: [{ name: 'm', state: 'waiting', restartCount: 0, hostPorts: [] }],
    });
    const d = decide(job(), [pulling]);
    expect(d.finish).toEqual([]);
    expect(d.status.active).toBe(1);
  });

  it('counts restarts against backoffLimit with restartPolicy OnFailure', () => {
    const spec = {
      backoffLimit: 2,
      template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'm', image: 'm:1' }] } },
    };
    expect(decide(job(spec), [pod('Running', { restartCount: 2 })]).status.conditions).toEqual([]);
    expect(decide(job(spec), [pod('Running', { restartCount: 3 })]).status.conditions[0]?.reason).toBe(
      'BackoffLimitExceeded',
    );
  });

  it('fails at activeDeadlineSeconds with DeadlineExceeded', () => {
    const running = pod('Running');
    const started = { status: counts({ startTime: at(-30).toISOString() }) };
    const before = decide(job({ activeDeadlineSeconds: 60 }, started), [running]);
    expect(before.reconcileAt!.getTime()).toBeLessThanOrEqual(at(30).getTime());
    const after = decide(job({ activeDeadlineSeconds: 20 }, started), [running]);
    expect(after.status.conditions[0]).toMatchObject({ type: 'Failed', reason: 'DeadlineExceeded' });
    expect(after.stop).toEqual([running.id]);
  });

  it('gives an Indexed Job one pod per missing index, lowest first, and completes when all succeeded', () => {
    const spec = { completions: 3, parallelism: 2, completionMode: 'Indexed' };
    expect(decide(job(spec), []).create).toEqual([{ revision: 1, count: 2, indexes: [0, 1] }]);
    const d = decide(job(spec), [
      pod('Succeeded', { completionIndex: 0 }),
      pod('Running', { completionIndex: 1 }),
    ]);
    expect(d.status.completedIndexes).toBe('0');
    expect(d.create).toEqual([{ revision: 1, count: 1, indexes: [2] }]);
    const done = decide(job(spec, { status: counts({ succeeded: 2, completedIndexes: '0,2' }) }), [
      pod('Succeeded', { completionIndex: 1 }),
    ]);
    expect(done.status.completedIndexes).toBe('0-2');
    expect(done.status.conditions[0]?.type).toBe('Complete');
  });

  it('expires a finished Job after ttlSecondsAfterFinished, stopping its pods', () => {
    const finished = counts({
      succeeded: 1,
      conditions: [
        {
          type: 'Complete',
          status: 'True',
          reason: 'Completed',
          message: 'Job completed',
          lastProbeTime: at(-10).toISOString(),
          lastTransitionTime: at(-10).toISOString(),
        },
      ],
    });
    const done = pod('Succeeded', { finishedAt: at(-10) });
    const waiting = decide(job({ ttlSecondsAfterFinished: 30 }, { status: finished }), [done]);
    expect(waiting.expire).toBe(false);
    expect(waiting.reconcileAt).toEqual(at(20));
    const expired = decide(job({ ttlSecondsAfterFinished: 5 }, { status: finished }), [done]);
    expect(expired.expire).toBe(true);
    expect(expired.stop).toEqual([done.id]);
  });

  it("stops a suspended Job's pods and starts them again on resume", () => {
    const running = pod('Running');
    const suspended = decide(job({ suspend: true }), [running]);
    expect(suspended.stop).toEqual([running.id]);
    expect(suspended.status.conditions[0]).toMatchObject({ type: 'Suspended', status: 'True' });
    const resumed = decide(job({}, { status: suspended.status }), []);
    expect(resumed.create).toEqual([{ revision: 1, count: 1 }]);
    expect(resumed.status.conditions[0]).toMatchObject({ type: 'Suspended', status: 'False' });
  });

  it('counts a pod on a lost node as failed and replaces it', () => {
    const d = decide(job(), [pod('Lost')]);
    expect(d.status.failed).toBe(1);
    expect(d.finish).toHaveLength(1);
  });
});

function counts(over: Partial<NonNullable<JobRow['status']>>): NonNullable<JobRow['status']> {
  return { active: 0, ready: 0, terminating: 0, succeeded: 0, failed: 0, conditions: [], ...over };
}
