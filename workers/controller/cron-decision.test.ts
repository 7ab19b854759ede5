import { describe, expect, it } from 'vitest';
import { CronJobSpec } from '../../common/cron-job.ts';
import type { JobStatus } from '../../common/job.ts';
import type { CronJobRow } from '../kinds/cron-job.ts';
import type { JobRow } from '../kinds/job.ts';
import { decideCronJob } from './cron-decision.ts';

const NOW = new Date('2026-12-05T12:00:30Z');
const minutes = (m: number) => new Date(Date.parse('2026-12-05T12:00:00Z') + m * 60_000);

function cron(spec: Record<string, unknown> = {}, over: Partial<CronJobRow> = {}): CronJobRow {
  return {
    id: 'c1',
    namespace: 'shop',
    name: 'report',
    labels: {},
    annotations: {},
    managedFields: [],
    spec: CronJobSpec.parse({
      schedule: '* * * * *',
      jobTemplate: {
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'r', image: 'r:1' }] } } },
      },
      ...spec,
    }),
    generation: 1,
    resourceVersion: 1,
    createdAt: minutes(-10),
    updatedAt: minutes(-10),
    lastScheduleTime: null,
    handledUntil: minutes(-1),
    nextRunAt: minutes(0),
    ...over,
  };
}

function job(name: string, end?: { type: 'Complete' | 'Failed'; at: Date }): JobRow {
  const status: JobStatus = {
    active: end ? 0 : 1,
    ready: 0,
    terminating: 0,
    succeeded: 0,
    failed: 0,
    conditions: [],
  };
  if (end)
    status.conditions.push({
      type: end.type,
      status: 'True',
      reason: end.type === 'Complete' ? 'Completed' : 'BackoffLimitExceeded',
      message: '',
      lastProbeTime: end.at.toISOString(),
      lastTransitionTime: end.at.toISOString(),
    });
  return { id: name, name, createdAt: end?.at ?? NOW, status } as unknown as JobRow;
}

describe('decideCronJob', () => {
  it('makes the Job of the due time, named after it, and looks again at the next', () => {
    const d = decideCronJob({ now: NOW, cronJob: cron(), jobs: [] });
    expect(d.create).toEqual({
      name: `report-${Date.parse('2026-12-05T12:00:00Z') / 60_000}`,
      scheduledTime: minutes(0),
    });
    expect(d.handledUntil).toEqual(minutes(0));
    expect(d.lastScheduleTime).toEqual(minutes(0));
    expect(d.nextRunAt!.getTime()).toBeLessThanOrEqual(minutes(1).getTime());
  });

  it('makes nothing twice: a handled time is behind handledUntil', () => {
    const d = decideCronJob({ now: NOW, cronJob: cron({}, { handledUntil: minutes(0) }), jobs: [] });
    expect(d.create).toBeUndefined();
    expect(d.nextRunAt).toEqual(minutes(1));
  });

  it('runs only the latest of more than 100 missed times, and says so', () => {
    const d = decideCronJob({ now: NOW, cronJob: cron({}, { handledUntil: minutes(-500) }), jobs: [] });
    expect(d.create?.scheduledTime).toEqual(minutes(0));
    expect(d.events.map((e) => e.reason)).toEqual(['TooManyMissedTimes', 'SuccessfulCreate']);
  });

  it('skips a time missed by more than startingDeadlineSeconds, with an event', () => {
    const d = decideCronJob({ now: NOW, cronJob: cron({ startingDeadlineSeconds: 10 }), jobs: [] });
    expect(d.create).toBeUndefined();
    expect(d.handledUntil).toEqual(minutes(0));
    expect(d.events.map((e) => e.reason)).toEqual(['MissSchedule']);
  });

  it('does nothing while suspended, and is not looked at until resumed', () => {
    const d = decideCronJob({ now: NOW, cronJob: cron({ suspend: true }), jobs: [] });
    expect(d.create).toBeUndefined();
    expect(d.nextRunAt).toBeNull();
    expect(d.handledUntil).toEqual(minutes(-1));
  });

  it('keeps successfulJobsHistoryLimit and failedJobsHistoryLimit finished Jobs, the newest', () => {
    const jobs = [
      job('ok-1', { type: 'Complete', at: minutes(-5) }),
      job('ok-2', { type: 'Complete', at: minutes(-4) }),
      job('ok-3', { type: 'Complete', at: minutes(-3) }),
      job('ok-4', { type: 'Complete', at: minutes(-2) }),
      job('bad-1', { type: 'Failed', at: minutes(-6) }),
      job('bad-2', { type: 'Failed', at: minutes(-1) }),
      job('running'),
    ];
    const d = decideCronJob({ now: NOW, cronJob: cron({}, { handledUntil: minutes(0) }), jobs });
    expect(d.deleteJobs.sort()).toEqual(['bad-1', 'ok-1']);
  });
});
