import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';
import { humanDuration } from './job-view.ts';
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
const LIST = `${NS}/jobs`;

const condition = (type: string, reason: string, message: string, status = 'True') => ({
  type,
  status,
  reason,
  message,
  lastProbeTime: '2025-01-01T00:08:00Z',
  lastTransitionTime: '2025-01-01T00:08:00Z',
});

/** A Job as the server sends one; the clock of captureIo reads 2025-01-01T00:10:00Z. */
function job(name: string, spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', labels: { team: 'data' }, createdAt: '2025-01-01T00:04:00Z' },
    spec: {
      template: {
        metadata: { labels: { 'job-name': name } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'work', image: 'busybox:1', command: ['sh', '-c', 'echo hi'] }],
        },
      },
      completions: 3,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      selector: { matchLabels: { 'batch.kubernetes.io/job-name': name } },
      ...spec,
    },
    status: {
      startTime: '2025-01-01T00:05:00Z',
      active: 1,
      ready: 1,
      terminating: 0,
      succeeded: 2,
      failed: 0,
      conditions: [],
      ...status,
    },
  };
}

const running = job('pi');
const queue = job(
  'queue',
  { completions: undefined, parallelism: 3 },
  {
    startTime: '2025-01-01T00:00:00Z',
    completionTime: '2025-01-01T00:02:30Z',
    active: 0,
    ready: 0,
    succeeded: 1,
    conditions: [condition('Complete', 'Completed', 'Job completed')],
  },
);
const single = job('once', { completions: undefined }, { succeeded: 0 });
const broken = job(
  'broken',
  { completions: 1, backoffLimit: 1 },
  {
    active: 0,
    ready: 0,
    succeeded: 0,
    failed: 2,
    conditions: [condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')],
  },
);
const paused = job(
  'paused',
  { suspend: true },
  {
    startTime: undefined,
    active: 0,
    ready: 0,
    succeeded: 0,
    conditions: [condition('Suspended', 'JobSuspended', 'Job suspended')],
  },
);

const pod = (id: string, fields: Record<string, unknown> = {}) => ({
  id,
  namespace: 'default',
  deployment: 'pi',
  job: 'pi',
  node: 'n1',
  phase: 'Succeeded',
  ready: false,
  restartCount: 0,
  createdAt: '2025-01-01T00:05:00Z',
  ...fields,
});

describe('berth get jobs', () => {
  it("prints kubectl's status, completions, duration and age; -o wide adds containers, images, selector", async () => {
    stub.on('GET', LIST, { body: { items: [running, queue, single, broken, paused] } });
    expect(await berth('get', 'jobs')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'NAME     STATUS      COMPLETIONS   DURATION   AGE',
        'pi       Running     2/3           5m         6m',
        'queue    Complete    1/1 of 3      2m30s      6m',
        'once     Running     0/1           5m         6m',
        'broken   Failed      0/1           5m         6m',
        'paused   Suspended   0/3           <none>     6m',
        '',
      ].join('\n'),
    );

    io = freshIo();
    expect(await berth('get', 'job', '-o', 'wide')).toBe(EXIT.OK);
    const wide = io.output().split('\n');
    expect(wide[0]).toMatch(
      /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/,
    );
    expect(wide[1]).toMatch(
      /^pi\s+Running\s+2\/3\s+5m\s+6m\s+work\s+busybox:1\s+batch\.kubernetes\.io\/job-name=pi$/,
    );
  });

  it('reads one by name (-o name, json), filters with -l, and says when there is none', async () => {
    stub.on('GET', `${LIST}/pi`, { body: running });
    expect(await berth('get', 'job/pi', '-o', 'name')).toBe(EXIT.OK);
    expect(io.output()).toBe('job/pi\n');
    io = freshIo();
    expect(await berth('get', 'jobs', 'pi', '-o', 'json')).toBe(EXIT.OK);
    expect(JSON.parse(io.output())).toEqual(running);

    stub.on('GET', LIST, { body: { items: [] } });
    expect(await berth('get', 'jobs', '-l', 'team=data')).toBe(EXIT.OK);
    expect(stub.sent('GET', LIST).at(-1)?.query.get('labelSelector')).toBe('team=data');
    expect(io.errors()).toBe('No jobs found in namespace default.\n');
  });

  it('lists jobs beside deployments (get jobs,deployments)', async () => {
    stub.on('GET', LIST, { body: { items: [queue] } });
    stub.on('GET', `${NS}/deployments`, {
      body: {
        items: [{ metadata: { name: 'web', createdAt: '2025-01-01T00:00:00Z' }, spec: { replicas: 1 } }],
      },
    });
    expect(await berth('get', 'jobs,deployments')).toBe(EXIT.OK);
    const out = io.output();
    expect(out).toMatch(/^job\/queue\s+Complete\s+1\/1 of 3\s+2m30s\s+6m$/m);
    expect(out).toMatch(/^deployment\/web\s+0\/1/m);
  });

  it("writes durations as kubectl's human durations", () => {
    expect(
      [0, 119, 120, 185, 600, 10_799, 10_800, 18_060, 28_800, 172_800, 183_600, 691_200, 63_158_400].map(
        (s) => humanDuration(s * 1000),
      ),
    ).toEqual(['0s', '119s', '2m', '3m5s', '10m', '179m', '3h', '5h1m', '8h', '2d', '2d3h', '8d', '2y1d']);
  });
});

describe('berth describe job', () => {
  it('shows the spec, times, pod statuses, completed indexes, template, conditions, pods and events', async () => {
    const indexed = job(
      'pi',
      { completionMode: 'Indexed', activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 60 },
      {
        completionTime: '2025-01-01T00:07:05Z',
        active: 0,
        ready: 0,
        succeeded: 3,
        failed: 1,
        completedIndexes: '0-2',
        conditions: [condition('Complete', 'Completed', 'Job completed')],
      },
    );
    stub.on('GET', `${LIST}/pi`, { body: indexed });
    stub.on('GET', `${NS}/replicas`, (req) => ({
      body: {
        items:
          req.query.get('job') === 'pi'
            ? [pod('pi-c', { completionIndex: 1 }), pod('pi-a', { completionIndex: 0, phase: 'Failed' })]
            : [],
      },
    }));
    stub.on('GET', `${NS}/events`, (req) => ({
      body: {
        items:
          req.query.get('object') === 'job/pi'
            ? [
                {
                  type: 'Normal',
                  reason: 'SuccessfulCreate',
                  message: 'created 3 pods',
                  createdAt: '2025-01-01T00:05:00Z',
                },
              ]
            : [],
      },
    }));
    expect(await berth('describe', 'job', 'pi')).toBe(EXIT.OK);
    const text = io.output();
    expect(text).toMatch(/^Name:\s+pi$/m);
    expect(text).toMatch(/^Namespace:\s+default$/m);
    expect(text).toMatch(/^Selector:\s+batch\.kubernetes\.io\/job-name=pi$/m);
    expect(text).toMatch(/^Labels:\s+team=data$/m);
    expect(text).toMatch(/^Parallelism:\s+1$/m);
    expect(text).toMatch(/^Completions:\s+3$/m);
    expect(text).toMatch(/^Completion Mode:\s+Indexed$/m);
    expect(text).toMatch(/^Backoff Limit:\s+6$/m);
    expect(text).toMatch(/^Active Deadline Seconds:\s+600s$/m);
    expect(text).toMatch(/^TTL Seconds After Finished:\s+60s$/m);
    expect(text).toMatch(/^Start Time:\s+2025-01-01T00:05:00Z \(5m ago\)$/m);
    expect(text).toMatch(/^Completed At:\s+2025-01-01T00:07:05Z \(2m ago\)$/m);
    expect(text).toMatch(/^Duration:\s+2m5s$/m);
    expect(text).toMatch(/^Pods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 1 Failed$/m);
    expect(text).toMatch(/^Completed Indexes:\s+0-2$/m);
    expect(text).toMatch(/^ {3}work:\n {6}Image:\s+busybox:1\n {6}Command:\s+sh -c echo hi$/m);
    expect(text).toMatch(/^ {2}Complete\s+True\s+Completed\s+Job completed$/m);
    // By completion index: index 0 first, though created as the second.
    expect(text).toMatch(
      /^ {2}NAME\s+INDEX\s+NODE\s+PHASE.*\n {2}pi-a\s+0\s+n1\s+Failed.*\n {2}pi-c\s+1\s+n1\s+Succeeded/m,
    );
    expect(text).toMatch(/^ {2}5m\s+Normal\s+SuccessfulCreate\s+created 3 pods$/m);
  });

  it('leaves out what a Job does not set: no deadline, TTL, completion time or indexes', async () => {
    stub.on('GET', `${LIST}/once`, { body: single });
    stub.on('GET', `${NS}/replicas`, { body: { items: [] } });
    stub.on('GET', `${NS}/events`, { body: { items: [] } });
    expect(await berth('describe', 'job/once')).toBe(EXIT.OK);
    const text = io.output();
    expect(text).toMatch(/^Completions:\s+<unset>$/m);
    expect(text).not.toMatch(/Active Deadline|TTL Seconds|Completed At|Duration|Completed Indexes/);
    expect(text).toMatch(/^Pods Statuses:\s+1 Active \(1 Ready\) \/ 0 Succeeded \/ 0 Failed$/m);
  });
});

describe('berth logs job/NAME', () => {
  it("prints every pod's lines, prefixed, by completion index then creation; --tail goes to each", async () => {
    stub.on('GET', `${LIST}/pi`, { body: running });
    stub.on('GET', `${NS}/replicas`, {
      body: {
        items: [
          pod('pi-b', { completionIndex: 1, createdAt: '2025-01-01T00:05:00Z' }),
          pod('pi-r', { completionIndex: 0, createdAt: '2025-01-01T00:06:00Z', phase: 'Running' }),
          pod('pi-a', { completionIndex: 0, createdAt: '2025-01-01T00:05:01Z', phase: 'Failed' }),
          pod('pi-w', { completionIndex: 2, node: null, phase: 'Pending' }),
        ],
      },
    });
    stub.on('GET', /\/replicas\/pi-\w\/logs$/, (req) => ({
      body: { replica: req.path.split('/')[5], lines: [`hello from ${req.path.split('/')[5]}`] },
    }));
    expect(await berth('logs', 'job/pi', '--tail', '5')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      '[pod/pi-a] hello from pi-a\n[pod/pi-r] hello from pi-r\n[pod/pi-b] hello from pi-b\n',
    );
    expect(stub.sent('GET', `${NS}/replicas`)[0]?.query.get('job')).toBe('pi');
    const tails = stub.requests.filter((r) => r.path.endsWith('/logs')).map((r) => r.query.get('tail'));
    expect(tails).toEqual(['5', '5', '5']);
  });

  it('prints one pod without a prefix; a Job without pods is exit 4', async () => {
    stub.on('GET', `${LIST}/pi`, { body: running });
    stub.on('GET', `${NS}/replicas`, { body: { items: [pod('pi-a')] } });
    stub.on('GET', `${NS}/replicas/pi-a/logs`, { body: { replica: 'pi-a', lines: ['3.14159'] } });
    expect(await berth('logs', 'job', 'pi')).toBe(EXIT.OK);
    expect(io.output()).toBe('3.14159\n');
    expect(stub.sent('GET', `${NS}/replicas/pi-a/logs`)[0]?.query.get('tail')).toBe('100');

    stub.on('GET', `${NS}/replicas`, { body: { items: [pod('pi-w', { node: null, phase: 'Pending' })] } });
    expect(await berth('logs', 'job/pi')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toContain('error: job/pi has no pods with logs');
  });
});

describe('berth wait --for=condition=... job/NAME', () => {
  /** Answers `states` in turn (the last one from then on), counting the looks. */
  function jobThrough(...states: unknown[]) {
    let looks = 0;
    stub.on('GET', `${LIST}/pi`, () => ({ body: states[Math.min(looks++, states.length - 1)] }));
    return () => looks;
  }
  const complete = job(
    'pi',
    {},
    { succeeded: 3, conditions: [condition('Complete', 'Completed', 'Job completed')] },
  );
  const failed = {
    ...broken,
    metadata: { ...broken.metadata, name: 'pi' },
  };

  it("polls about once a second until Complete, then prints kubectl's line and exits 0", async () => {
    delete io.env.BERTH_POLL_INTERVAL_MS;
    const looks = jobThrough(running, running, complete);
    const started = io.now().getTime();
    expect(await berth('wait', '--for=condition=complete', 'job/pi')).toBe(EXIT.OK);
    expect(io.output()).toBe('job.batch/pi condition met\n');
    expect(io.errors()).toBe('');
    expect(looks()).toBe(3);
    expect(io.now().getTime() - started).toBe(2000);
  });

  it('takes --for condition=Failed=true as a separate word, and several jobs in one call', async () => {
    jobThrough(failed);
    stub.on('GET', `${LIST}/other`, { body: { ...failed, metadata: { ...failed.metadata, name: 'other' } } });
    expect(await berth('wait', '--for', 'condition=Failed=true', 'jobs/pi', 'job.batch/other')).toBe(EXIT.OK);
    expect(io.output()).toBe('job.batch/pi condition met\njob.batch/other condition met\n');
  });

  it("fails at once when the Job fails, with the reason, the message and its failed pods' last lines", async () => {
    const looks = jobThrough(running, failed);
    stub.on('GET', `${NS}/replicas`, {
      body: {
        items: [
          pod('pi-b', { phase: 'Failed', createdAt: '2025-01-01T00:06:00Z' }),
          pod('pi-a', { phase: 'Failed', createdAt: '2025-01-01T00:05:00Z' }),
          pod('pi-ok', { phase: 'Succeeded' }),
        ],
      },
    });
    stub.on('GET', /\/replicas\/pi-\w+\/logs$/, (req) => {
      const id = req.path.split('/')[5];
      return { body: { replica: id, lines: [`${id}: starting`, `${id}: cannot open /data: no such file`] } };
    });
    const started = io.now().getTime();
    expect(await berth('wait', '--for=condition=complete', 'job/pi', '--timeout', '5m')).toBe(EXIT.FAILURE);
    expect(looks()).toBe(2);
    expect(io.now().getTime() - started).toBeLessThan(60_000);
    expect(io.output()).toBe('');
    expect(io.errors()).toBe(
      [
        'error: job/pi failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
        '  last log lines of its failed pods:',
        '  [pod/pi-a] pi-a: starting',
        '  [pod/pi-a] pi-a: cannot open /data: no such file',
        '  [pod/pi-b] pi-b: starting',
        '  [pod/pi-b] pi-b: cannot open /data: no such file',
        '',
      ].join('\n'),
    );
    const logged = stub.requests.filter((r) => r.path.endsWith('/logs'));
    expect(logged.map((r) => r.path.split('/')[5])).toEqual(['pi-a', 'pi-b']);
    expect(logged.map((r) => r.query.get('tail'))).toEqual(['10', '10']);
  });

  it('ends when the Job completes while waiting for failed', async () => {
    jobThrough(complete);
    expect(await berth('wait', '--for=condition=failed', 'job/pi')).toBe(EXIT.FAILURE);
    expect(io.errors()).toBe('error: job/pi completed, so condition Failed will not be met\n');
  });

  it('judges a Job its TTL deleted between two looks by the ending event it left', async () => {
    let looks = 0;
    stub.on('GET', `${LIST}/pi`, () =>
      looks++ === 0 ? { body: running } : problem(404, 'NOT_FOUND', 'job "default/pi" not found'),
    );
    const ended = (reason: string, createdAt: string) => ({
      type: 'Normal',
      reason,
      message: reason === 'Completed' ? 'Job completed' : 'deleted 0s after it finished',
      object: 'job/pi',
      createdAt,
    });
    stub.on('GET', `${NS}/events`, {
      body: {
        items: [ended('Completed', '2025-01-01T00:09:00Z'), ended('TTLExpired', '2025-01-01T00:09:01Z')],
      },
    });
    expect(await berth('wait', '--for=condition=complete', 'job/pi')).toBe(EXIT.OK);
    expect(io.output()).toBe('job.batch/pi condition met\n');
    expect(stub.sent('GET', `${NS}/events`)[0]?.query.get('object')).toBe('job/pi');

    // An ending older than the Job is an earlier Job's of the same name: this one was deleted unfinished.
    io = freshIo();
    looks = 0;
    stub.on('GET', `${NS}/events`, { body: { items: [ended('Completed', '2025-01-01T00:01:00Z')] } });
    expect(await berth('wait', '--for=condition=complete', 'job/pi')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toBe('error: job/pi was deleted while waiting\n');
  });

  it("times out with kubectl's message, after --timeout or 30s by default", async () => {
    io.env.BERTH_POLL_INTERVAL_MS = '1000';
    let looks = jobThrough(running);
    let started = io.now().getTime();
    expect(await berth('wait', '--for=condition=complete', 'job/pi', '--timeout', '3s')).toBe(EXIT.FAILURE);
    expect(io.errors()).toBe('error: timed out waiting for the condition on jobs/pi\n');
    expect(io.now().getTime() - started).toBe(3000);
    expect(looks()).toBe(4);

    io = freshIo();
    io.env.BERTH_POLL_INTERVAL_MS = '1000';
    looks = jobThrough(running);
    started = io.now().getTime();
    expect(await berth('wait', '--for=condition=complete', 'job/pi')).toBe(EXIT.FAILURE);
    expect(io.now().getTime() - started).toBe(30_000);
    expect(looks()).toBe(31);

    // --timeout 0 looks once.
    io = freshIo();
    looks = jobThrough(running);
    expect(await berth('wait', '--for=condition=complete', 'job/pi', '--timeout=0')).toBe(EXIT.FAILURE);
    expect(looks()).toBe(1);
  });

  it('refuses what it cannot wait for, and a missing Job is exit 4', async () => {
    expect(await berth('wait', '--for=delete', 'job/pi')).toBe(EXIT.USAGE);
    expect(await berth('wait', '--for=condition=available', 'job/pi')).toBe(EXIT.USAGE);
    expect(await berth('wait', 'job/pi')).toBe(EXIT.USAGE);
    expect(await berth('wait', '--for=condition=complete', 'deployment/web')).toBe(EXIT.USAGE);
    expect(stub.requests).toEqual([]);
    stub.on('GET', `${LIST}/gone`, problem(404, 'NOT_FOUND', 'job "default/gone" not found'));
    expect(await berth('wait', '--for=condition=complete', 'job/gone')).toBe(EXIT.NOT_FOUND);
  });
});

describe('berth delete job', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-jobs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('deletes by name, several at once, and the Jobs a manifest names', async () => {
    stub.on('DELETE', /^\/v1\/namespaces\/\w+\/jobs\/\w+$/, { body: running });
    expect(await berth('delete', 'job', 'pi', 'queue')).toBe(EXIT.OK);
    expect(io.output()).toBe('job/pi deleted\njob/queue deleted\n');

    const file = join(dir, 'job.yaml');
    await writeFile(
      file,
      'apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: shop}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox:1}]\n',
    );
    io = freshIo();
    expect(await berth('delete', '-f', file)).toBe(EXIT.OK);
    expect(io.output()).toBe('job/migrate deleted\n');
    expect(stub.sent('DELETE', '/v1/namespaces/shop/jobs/migrate')).toHaveLength(1);

    stub.on('DELETE', `${LIST}/gone`, problem(404, 'NOT_FOUND', 'job "default/gone" not found'));
    expect(await berth('delete', 'jobs/gone')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toContain('job/gone not found');
  });
});
