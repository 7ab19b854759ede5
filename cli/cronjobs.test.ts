import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CronJobInput } from '../common/cron-job.ts';
import { JobInput } from '../common/job.ts';
import { EXIT } from './exit-codes.ts';
import { run } from './main.ts';
import { type CapturedIo, captureIo, problem, StubServer } from './testing/stub-server.ts';

let stub: StubServer;
let io: CapturedIo;

function freshIo(): CapturedIo {
  const captured = captureIo();
  captured.env.BERTH_SERVER = stub.url;
  captured.env.BERTH_TOKEN = 'tok';
  return captured;
}

beforeEach(async () => {
  stub = await new StubServer().start();
  io = freshIo();
});
afterEach(() => stub.stop());

const berth = (...argv: string[]) => run(argv, io);
const NS = '/v1/namespaces/default';
const LIST = `${NS}/cronjobs`;
const JOBS = `${NS}/jobs`;

/** A CronJob as the server sends one; the clock of captureIo reads 2025-01-01T00:10:00Z. */
function cronJob(name: string, spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'CronJob',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: { team: 'data' },
      resourceVersion: '7',
      generation: 2,
      createdAt: '2025-01-01T00:04:00Z',
      updatedAt: '2025-01-01T00:04:00Z',
    },
    spec: {
      schedule: '*/5 * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { app: 'report' }, annotations: { owner: 'data-team' } },
        spec: {
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'report', image: 'busybox:1', command: ['sh', '-c', 'echo report'] }],
            },
          },
          parallelism: 1,
          backoffLimit: 6,
          completionMode: 'NonIndexed',
          suspend: false,
        },
      },
      ...spec,
    },
    status: { active: [], ...status },
  };
}

const nightly = cronJob(
  'nightly',
  { schedule: '0 3 * * *', timeZone: 'Europe/Paris', startingDeadlineSeconds: 300 },
  {
    lastScheduleTime: '2025-01-01T00:05:00Z',
    lastSuccessfulTime: '2025-01-01T00:06:30Z',
    active: [{ name: 'nightly-29000000', namespace: 'default', uid: 'u1' }],
  },
);
const paused = cronJob('paused', { suspend: true });

/** A Job as the server sends one (the shape cli/jobs.test.ts uses). */
function job(name: string, created: string, status: Record<string, unknown>) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', labels: { 'berth.dev/cronjob': 'nightly' }, createdAt: created },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'busybox:1' }] } },
      completions: 1,
      parallelism: 1,
    },
    status: { active: 0, ready: 0, succeeded: 0, failed: 0, conditions: [], ...status },
  };
}

describe('berth get cronjobs', () => {
  it("prints kubectl's schedule, time zone, suspend, active, last schedule and age; -o wide adds containers, images, selector", async () => {
    stub.on('GET', LIST, { body: { items: [nightly, paused] } });
    expect(await berth('get', 'cronjobs')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'NAME      SCHEDULE      TIMEZONE       SUSPEND   ACTIVE   LAST SCHEDULE   AGE',
        'nightly   0 3 * * *     Europe/Paris   False     1        5m              6m',
        'paused    */5 * * * *   <none>         True      0        <none>          6m',
        '',
      ].join('\n'),
    );

    io = freshIo();
    expect(await berth('get', 'cj', '-o', 'wide')).toBe(EXIT.OK);
    const wide = io.output().split('\n');
    expect(wide[0]).toMatch(
      /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/,
    );
    expect(wide[1]).toMatch(
      /^nightly\s+0 3 \* \* \*\s+Europe\/Paris\s+False\s+1\s+5m\s+6m\s+report\s+busybox:1\s+<none>$/,
    );
  });

  it('reads one by name under each alias (-o name, json), filters with -l, and says when there is none', async () => {
    stub.on('GET', `${LIST}/nightly`, { body: nightly });
    expect(await berth('get', 'cronjob/nightly', '-o', 'name')).toBe(EXIT.OK);
    expect(io.output()).toBe('cronjob/nightly\n');
    io = freshIo();
    expect(await berth('get', 'cronjob.batch', 'nightly', '-o', 'json')).toBe(EXIT.OK);
    expect(JSON.parse(io.output())).toEqual(nightly);
    io = freshIo();
    expect(await berth('get', 'cronjobs', 'nightly', '-o', 'yaml')).toBe(EXIT.OK);
    expect(io.output()).toMatch(/^ {2}schedule: 0 3 \* \* \*$/m);

    stub.on('GET', LIST, { body: { items: [] } });
    io = freshIo();
    expect(await berth('get', 'cronjobs', '-l', 'team=data')).toBe(EXIT.OK);
    expect(stub.sent('GET', LIST).at(-1)?.query.get('labelSelector')).toBe('team=data');
    expect(io.errors()).toBe('No cronjobs found in namespace default.\n');

    stub.on('GET', `${LIST}/gone`, problem(404, 'NOT_FOUND', 'cronjob "default/gone" not found'));
    expect(await berth('get', 'cj', 'gone')).toBe(EXIT.NOT_FOUND);
  });

  it('lists cronjobs beside jobs (get cronjobs,jobs), and their events with --for', async () => {
    stub.on('GET', LIST, { body: { items: [nightly] } });
    stub.on('GET', JOBS, {
      body: { items: [job('nightly-29000000', '2025-01-01T00:05:00Z', { active: 1 })] },
    });
    expect(await berth('get', 'cronjobs,jobs')).toBe(EXIT.OK);
    const out = io.output();
    expect(out).toMatch(/^cronjob\/nightly\s+0 3 \* \* \*\s+Europe\/Paris\s+False\s+1\s+5m\s+6m$/m);
    expect(out).toMatch(/^job\/nightly-29000000\s+Running\s+0\/1/m);

    stub.on('GET', `${NS}/events`, { body: { items: [] } });
    expect(await berth('get', 'events', '--for', 'cronjob/nightly')).toBe(EXIT.OK);
    expect(stub.sent('GET', `${NS}/events`)[0]?.query.get('object')).toBe('cronjob/nightly');
  });
});

describe('berth describe cronjob', () => {
  it('shows the schedule, policies, limits, template, times, active Jobs, its Jobs and events', async () => {
    stub.on('GET', `${LIST}/nightly`, { body: nightly });
    stub.on('GET', JOBS, (req) => ({
      body: {
        items:
          req.query.get('labelSelector') === 'berth.dev/cronjob=nightly'
            ? [
                job('nightly-29000000', '2025-01-01T00:05:00Z', {
                  startTime: '2025-01-01T00:05:00Z',
                  active: 1,
                }),
                job('nightly-28999000', '2024-12-31T07:20:00Z', {
                  startTime: '2024-12-31T07:20:00Z',
                  completionTime: '2024-12-31T07:21:05Z',
                  succeeded: 1,
                  conditions: [{ type: 'Complete', status: 'True', reason: 'Completed', message: 'done' }],
                }),
              ]
            : [],
      },
    }));
    stub.on('GET', `${NS}/events`, (req) => ({
      body: {
        items:
          req.query.get('object') === 'cronjob/nightly'
            ? [
                {
                  type: 'Normal',
                  reason: 'SuccessfulCreate',
                  message: 'Created job nightly-29000000',
                  createdAt: '2025-01-01T00:05:00Z',
                },
              ]
            : [],
      },
    }));
    expect(await berth('describe', 'cronjob', 'nightly')).toBe(EXIT.OK);
    const text = io.output();
    expect(text).toMatch(/^Name:\s+nightly$/m);
    expect(text).toMatch(/^Namespace:\s+default$/m);
    expect(text).toMatch(/^Labels:\s+team=data$/m);
    expect(text).toMatch(/^Schedule:\s+0 3 \* \* \*$/m);
    expect(text).toMatch(/^Time Zone:\s+Europe\/Paris$/m);
    expect(text).toMatch(/^Concurrency Policy:\s+Allow$/m);
    expect(text).toMatch(/^Suspend:\s+false$/m);
    expect(text).toMatch(/^Successful Job History Limit:\s+3$/m);
    expect(text).toMatch(/^Failed Job History Limit:\s+1$/m);
    expect(text).toMatch(/^Starting Deadline Seconds:\s+300s$/m);
    expect(text).toMatch(/^Last Schedule Time:\s+2025-01-01T00:05:00Z \(5m ago\)$/m);
    expect(text).toMatch(/^Last Successful Time:\s+2025-01-01T00:06:30Z \(3m ago\)$/m);
    expect(text).toMatch(/^Active Jobs:\s+nightly-29000000$/m);
    expect(text).toMatch(/^Job Template:\n {2}Labels:\s+app=report\n {2}Annotations:\s+owner=data-team$/m);
    expect(text).toMatch(/^ {2}Backoff Limit:\s+6$/m);
    expect(text).toMatch(/^ {2}Restart Policy:\s+Never$/m);
    expect(text).toMatch(/^ {3}report:\n {6}Image:\s+busybox:1\n {6}Command:\s+sh -c echo report$/m);
    // Oldest first, each as `get jobs` shows it.
    expect(text).toMatch(
      /^Jobs:\n {2}NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n {2}nightly-28999000\s+Complete\s+1\/1\s+65s\s+16h\n {2}nightly-29000000\s+Running\s+0\/1\s+5m\s+5m$/m,
    );
    expect(text).toMatch(
      /^Events:\n {2}AGE.*\n {2}5m\s+Normal\s+SuccessfulCreate\s+Created job nightly-29000000$/m,
    );
  });

  it('says what a CronJob leaves unset: no time zone, deadline, schedule yet, Jobs or events', async () => {
    stub.on('GET', `${LIST}/paused`, { body: paused });
    stub.on('GET', JOBS, { body: { items: [] } });
    stub.on('GET', `${NS}/events`, { body: { items: [] } });
    expect(await berth('describe', 'cj/paused')).toBe(EXIT.OK);
    const text = io.output();
    expect(text).toMatch(/^Time Zone:\s+<unset>$/m);
    expect(text).toMatch(/^Suspend:\s+true$/m);
    expect(text).toMatch(/^Starting Deadline Seconds:\s+<unset>$/m);
    expect(text).toMatch(/^Last Schedule Time:\s+<unset>$/m);
    expect(text).toMatch(/^Active Jobs:\s+<none>$/m);
    expect(text).toMatch(/^Jobs:\n {2}<none>$/m);
    expect(text).toMatch(/^Events:\n {2}<none>$/m);
  });
});

describe('berth create job --from=cronjob/NAME', () => {
  it("PUTs a Job from the template, labelled with its CronJob and annotated as run by hand, as kubectl's", async () => {
    stub.on('GET', `${LIST}/nightly`, { body: nightly });
    stub.on('GET', `${JOBS}/by-hand`, problem(404, 'NOT_FOUND', 'job "default/by-hand" not found'));
    stub.on('PUT', `${JOBS}/by-hand`, (req) => ({ status: 201, body: req.json }));
    expect(await berth('create', 'job', 'by-hand', '--from=cronjob/nightly')).toBe(EXIT.OK);
    expect(io.output()).toBe('job.batch/by-hand created\n');
    const sent = stub.sent('PUT', `${JOBS}/by-hand`)[0]?.json;
    expect(sent).toEqual({
      metadata: {
        labels: { app: 'report', 'berth.dev/cronjob': 'nightly' },
        annotations: { owner: 'data-team', 'cronjob.kubernetes.io/instantiate': 'manual' },
      },
      spec: nightly.spec.jobTemplate.spec,
    });
    // What the server takes as a Job.
    expect(JobInput.safeParse(sent).success).toBe(true);

    io = freshIo();
    expect(await berth('create', 'job', 'by-hand', '--from', 'cj/nightly')).toBe(EXIT.OK);
  });

  it('refuses a name already taken (nothing written), a missing CronJob, and a Job without --from', async () => {
    stub.on('GET', `${LIST}/nightly`, { body: nightly });
    stub.on('GET', `${JOBS}/taken`, { body: job('taken', '2025-01-01T00:00:00Z', {}) });
    expect(await berth('create', 'job', 'taken', '--from=cronjob/nightly')).toBe(EXIT.FAILURE);
    expect(io.errors()).toContain('error: job "taken" already exists in namespace default');

    stub.on('GET', `${LIST}/gone`, problem(404, 'NOT_FOUND', 'cronjob "default/gone" not found'));
    expect(await berth('create', 'job', 'x', '--from=cronjob/gone')).toBe(EXIT.NOT_FOUND);

    expect(await berth('create', 'job', 'x')).toBe(EXIT.USAGE);
    expect(await berth('create', 'job', 'x', '--from=deployment/web')).toBe(EXIT.USAGE);
    expect(await berth('create', 'job', 'x', '--from=cronjob/nightly', '--from-literal', 'a=b')).toBe(
      EXIT.USAGE,
    );
    expect(await berth('create', 'configmap', 'x', '--from=cronjob/nightly')).toBe(EXIT.USAGE);
    expect(stub.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });
});

describe('berth suspend|resume cronjob', () => {
  it('sets spec.suspend with the resourceVersion it read, changing nothing else', async () => {
    stub.on('GET', `${LIST}/nightly`, { body: nightly });
    stub.on('PUT', `${LIST}/nightly`, (req) => ({ body: req.json }));
    expect(await berth('suspend', 'cronjob/nightly')).toBe(EXIT.OK);
    expect(io.output()).toBe('cronjob.batch/nightly suspended\n');
    const sent = stub.sent('PUT', `${LIST}/nightly`)[0]?.json;
    expect(sent).toEqual({
      kind: 'CronJob',
      metadata: { labels: { team: 'data' }, resourceVersion: '7' },
      spec: { ...nightly.spec, suspend: true },
    });
    // What the server takes as a CronJob.
    expect(CronJobInput.safeParse(sent).success).toBe(true);

    io = freshIo();
    stub.on('GET', `${LIST}/paused`, { body: paused });
    stub.on('PUT', `${LIST}/paused`, (req) => ({ body: req.json }));
    expect(await berth('resume', 'cronjob', 'paused')).toBe(EXIT.OK);
    expect(io.output()).toBe('cronjob.batch/paused resumed\n');
    expect(stub.sent('PUT', `${LIST}/paused`)[0]?.json).toMatchObject({ spec: { suspend: false } });
  });

  it('says so when it already is in that state, and writes nothing', async () => {
    stub.on('GET', `${LIST}/nightly`, { body: nightly });
    stub.on('GET', `${LIST}/paused`, { body: paused });
    expect(await berth('resume', 'cj/nightly')).toBe(EXIT.OK);
    expect(await berth('suspend', 'cronjob.batch/paused')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      'cronjob.batch/nightly is not suspended\ncronjob.batch/paused is already suspended\n',
    );
    expect(stub.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('reads again and retries once on a 409; a second 409 is an error', async () => {
    // A concurrent edit between the read and the write: the second read has it.
    const edited = { ...nightly, metadata: { ...nightly.metadata, resourceVersion: '8' } };
    let reads = 0;
    stub.on('GET', `${LIST}/nightly`, () => ({ body: reads++ === 0 ? nightly : edited }));
    stub.on('PUT', `${LIST}/nightly`, (req) =>
      (req.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion === '8'
        ? { body: req.json }
        : problem(409, 'CONFLICT', 'cronjob "default/nightly" was changed (resourceVersion 8)'),
    );
    expect(await berth('suspend', 'cronjob/nightly')).toBe(EXIT.OK);
    expect(io.output()).toBe('cronjob.batch/nightly suspended\n');
    expect(stub.sent('PUT', `${LIST}/nightly`)).toHaveLength(2);

    // Someone else suspended it meanwhile: nothing more to do.
    io = freshIo();
    reads = 0;
    stub.on('GET', `${LIST}/nightly`, () => ({ body: reads++ === 0 ? nightly : paused }));
    stub.on('PUT', `${LIST}/nightly`, problem(409, 'CONFLICT', 'changed'));
    expect(await berth('suspend', 'cronjob/nightly')).toBe(EXIT.OK);
    expect(io.output()).toBe('cronjob.batch/nightly is already suspended\n');

    io = freshIo();
    stub.on('GET', `${LIST}/nightly`, { body: nightly });
    const before = stub.sent('PUT', `${LIST}/nightly`).length;
    expect(await berth('suspend', 'cronjob/nightly')).toBe(EXIT.FAILURE);
    expect(stub.sent('PUT', `${LIST}/nightly`).length - before).toBe(2);
    expect(io.errors()).toContain('changed');
  });

  it('refuses other kinds and a missing name; a missing CronJob is exit 4', async () => {
    expect(await berth('suspend', 'deployment/web')).toBe(EXIT.USAGE);
    expect(await berth('resume', 'cronjob')).toBe(EXIT.USAGE);
    expect(await berth('suspend')).toBe(EXIT.USAGE);
    expect(stub.requests).toEqual([]);
    stub.on('GET', `${LIST}/gone`, problem(404, 'NOT_FOUND', 'cronjob "default/gone" not found'));
    expect(await berth('suspend', 'cronjob/gone')).toBe(EXIT.NOT_FOUND);
  });
});

describe('berth delete cronjob', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cronjobs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('deletes by name, several at once, and the CronJobs a manifest names', async () => {
    stub.on('DELETE', /^\/v1\/namespaces\/\w+\/cronjobs\/\w+$/, { body: nightly });
    expect(await berth('delete', 'cronjob', 'nightly', 'paused')).toBe(EXIT.OK);
    expect(io.output()).toBe('cronjob/nightly deleted\ncronjob/paused deleted\n');

    const file = join(dir, 'cron.yaml');
    await writeFile(
      file,
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report, namespace: shop}\nspec:\n  schedule: "@daily"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: r, image: busybox:1}]\n',
    );
    io = freshIo();
    expect(await berth('delete', '-f', file)).toBe(EXIT.OK);
    expect(io.output()).toBe('cronjob/report deleted\n');
    expect(stub.sent('DELETE', '/v1/namespaces/shop/cronjobs/report')).toHaveLength(1);

    stub.on('DELETE', `${LIST}/gone`, problem(404, 'NOT_FOUND', 'cronjob "default/gone" not found'));
    expect(await berth('delete', 'cj/gone')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toContain('cronjob/gone not found');
  });
});
