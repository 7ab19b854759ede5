import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledJobName } from '../../common/cron-job.ts';
import { createLogger } from '../../common/logger.ts';
import { cronJobs, deployments, events } from '../../db/schema/index.ts';
import { runCronJobs } from '../../workers/controller/cron-jobs.ts';
import type { ControllerDeps } from '../../workers/controller/deps.ts';
import { createNodeControlPlane, type NodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import { startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * CronJobs against real Postgres with three schedulers at once: two control-plane copies' ticks and
 * a Workers-style cron trigger, on a simulated clock. Each scheduled time makes exactly one Job,
 * whatever the interleaving; Forbid skips while a Job runs, Replace replaces it, and an outage is
 * caught up with one run, not one per missed time.
 */
const NS = '/v1/namespaces/default';
const MINUTE = 60_000;

describe('CronJobs with several schedulers on one Postgres', () => {
  let t: TestPlane;
  let other: NodeControlPlane;
  let t0: number;

  beforeAll(async () => {
    t = await startTestPlane('postgres');
    other = await createNodeControlPlane({
      env: { DATABASE_URL: t.databaseUrl!, BERTH_ADMIN_TOKEN: 'second-copy-admin-token-0123456789' },
      log: createLogger('silent'),
      backgroundLoops: false,
    });
    // A whole minute two minutes ahead, plus a second: every CronJob below is created before it.
    t0 = Math.ceil(Date.now() / MINUTE) * MINUTE + 2 * MINUTE + 1000;
  });
  afterAll(async () => {
    await other?.close();
    await t?.close();
  });

  /** The three schedulers, each with its own deps (the trigger's as a Worker builds them per event). */
  const schedulers = (): ControllerDeps[] => [
    t.plane.deps,
    other.deps,
    { ...t.plane.deps, log: createLogger('silent') },
  ];
  const at = (deps: ControllerDeps, ms: number): ControllerDeps => ({ ...deps, now: () => new Date(ms) });
  /** Every scheduler at once at each instant; instants `stepMs` apart from `from` to `to`. */
  async function runAll(from: number, to: number, stepMs: number) {
    for (let ms = from; ms <= to; ms += stepMs)
      await Promise.all(schedulers().map((d, i) => runCronJobs(at(d, ms + i * 37))));
  }
  async function create(name: string, spec: Record<string, unknown> = {}) {
    const res = await t.call('PUT', `${NS}/cronjobs/${name}`, {
      spec: {
        schedule: '* * * * *',
        ...spec,
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x:1' }] } } },
        },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [row] = await t.plane.deps.db.select().from(cronJobs).where(eq(cronJobs.name, name));
    return row!;
  }
  const jobsOf = async (id: string) =>
    (
      await t.plane.deps.db
        .select({ name: deployments.name, id: deployments.id, deletedAt: deployments.deletedAt })
        .from(deployments)
        .where(eq(deployments.ownerCronJobId, id))
    ).sort((a, b) => a.name.localeCompare(b.name));
  const complete = (jobId: string) =>
    t.plane.deps.db
      .update(deployments)
      .set({
        status: {
          active: 0,
          ready: 0,
          terminating: 0,
          succeeded: 1,
          failed: 0,
          conditions: [
            {
              type: 'Complete',
              status: 'True',
              reason: 'Completed',
              message: 'Job completed',
              lastProbeTime: new Date(t0).toISOString(),
              lastTransitionTime: new Date(t0).toISOString(),
            },
          ],
        } as never,
      })
      .where(eq(deployments.id, jobId));

  it('makes exactly one Job per minute over 5 minutes with two copies and a trigger running at once', async () => {
    const cron = await create('every-minute');
    // Seven-second steps (and each scheduler 37 ms after the other): many looks per scheduled time.
    await runAll(t0, t0 + 5 * MINUTE - 2000, 7000);
    const jobs = await jobsOf(cron.id);
    const expected = [0, 1, 2, 3, 4].map((m) =>
      scheduledJobName('every-minute', new Date(t0 - 1000 + m * MINUTE)),
    );
    expect(jobs.map((j) => j.name)).toEqual(expected);
    const got = await t.call('GET', `${NS}/cronjobs/every-minute`);
    expect(got.body.status.lastScheduleTime).toBe(new Date(t0 - 1000 + 4 * MINUTE).toISOString());
    expect(got.body.status.active).toHaveLength(5);
  });

  it('skips a run while the last Job runs under Forbid, and runs again once it has finished', async () => {
    const cron = await create('forbid', { concurrencyPolicy: 'Forbid' });
    await runAll(t0, t0, 1);
    await runAll(t0 + MINUTE, t0 + MINUTE, 1);
    expect(await jobsOf(cron.id)).toHaveLength(1);
    const skipped = await t.plane.deps.db
      .select()
      .from(events)
      .where(and(eq(events.objectName, 'forbid'), eq(events.reason, 'JobAlreadyActive')));
    expect(skipped).toHaveLength(1);
    await complete((await jobsOf(cron.id))[0]!.id);
    await runAll(t0 + 2 * MINUTE, t0 + 2 * MINUTE, 1);
    expect((await jobsOf(cron.id)).map((j) => j.name)).toEqual([
      scheduledJobName('forbid', new Date(t0 - 1000)),
      scheduledJobName('forbid', new Date(t0 - 1000 + 2 * MINUTE)),
    ]);
  });

  it('deletes the running Job and makes the next under Replace', async () => {
    const cron = await create('replace', { concurrencyPolicy: 'Replace' });
    await runAll(t0, t0, 1);
    await runAll(t0 + MINUTE, t0 + MINUTE, 1);
    const jobs = await jobsOf(cron.id);
    expect(jobs.map((j) => [j.name, j.deletedAt !== null])).toEqual([
      [scheduledJobName('replace', new Date(t0 - 1000)), true],
      [scheduledJobName('replace', new Date(t0 - 1000 + MINUTE)), false],
    ]);
  });

  it('catches up a 3-minute outage with one run, not three', async () => {
    const cron = await create('outage');
    await runAll(t0, t0, 1);
    // Nothing runs for the next three scheduled times; then every scheduler comes back at once.
    await runAll(t0 + 3 * MINUTE + 10_000, t0 + 3 * MINUTE + 20_000, 5000);
    expect((await jobsOf(cron.id)).map((j) => j.name)).toEqual([
      scheduledJobName('outage', new Date(t0 - 1000)),
      scheduledJobName('outage', new Date(t0 - 1000 + 3 * MINUTE)),
    ]);
  });

  it('deletes its Jobs with it, one run by hand included', async () => {
    const cron = await create('doomed');
    await runAll(t0, t0, 1);
    // What `berth create job --from=cronjob/doomed` sends.
    const manual = await t.call('PUT', `${NS}/jobs/doomed-manual-abcde`, {
      metadata: {
        labels: { 'berth.dev/cronjob': 'doomed' },
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
      },
      spec: cron.spec.jobTemplate.spec,
    });
    expect(manual.status).toBe(201);
    expect((await jobsOf(cron.id)).map((j) => j.name)).toContain('doomed-manual-abcde');
    expect((await t.call('GET', `${NS}/cronjobs/doomed`)).body.status.active).toHaveLength(2);
    expect((await t.call('DELETE', `${NS}/cronjobs/doomed`)).status).toBe(200);
    const live = await t.plane.deps.db
      .select()
      .from(deployments)
      .where(and(eq(deployments.ownerCronJobId, cron.id), isNull(deployments.deletedAt)));
    expect(live).toEqual([]);
  });
});
