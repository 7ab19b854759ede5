import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import { HTTPD_1 } from './support/agent-harness.ts';
import { type KubectlCluster, startKubectlCluster } from './support/kubectl-cluster.ts';
import { KUBECTL } from './support/kubectl-front.ts';

/**
 * The real kubectl (v1.32) reading logs and revisions of pods that run on a real agent and Docker
 * Engine: `get rs`, `rollout history`, `rollout undo` (`--dry-run=client` prints what it
 * reads from the ReplicaSets; the undo itself is a JSON patch), `logs` of a pod and of a deployment, `-c`,
 * `--tail`, `--timestamps`, and `logs -f` seeing new lines until it is stopped.
 */
const NS = '/v1/namespaces/default';

let cluster: KubectlCluster;
let db: KubectlCluster['db'];
let server: ServerProcess;
let dir: string;
let front: KubectlCluster['front'];
let node: string;

/** A container that writes `tick N` every second. */
const ticker = (name: string, env: { name: string; value: string }[] = []) => ({
  name,
  image: HTTPD_1,
  command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'],
  // Published (nothing listens): the Service's endpoint is this port on the node.
  ports: [{ containerPort: 8080 }],
  env,
});
const sayer = (name: string) => ({
  name,
  image: HTTPD_1,
  command: ['sh', '-c', `echo "${name} says hi"; exec sleep 3600`],
});
const deployment = (app: string, containers: unknown[]) => ({
  spec: {
    replicas: 1,
    template: {
      metadata: { labels: { app } },
      spec: { terminationGracePeriodSeconds: 1, drainDelaySeconds: 0, containers },
    },
  },
});

const ready = (name: string, revision: number) =>
  eventually(
    async () => {
      const d = (await server.call('GET', `${NS}/deployments/${name}`)).body;
      const items = (await server.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as {
        id: string;
        revision: number;
        ready: boolean;
      }[];
      return d.status?.revision === revision &&
        d.status.readyReplicas === 1 &&
        items.length === 1 &&
        items[0]!.revision === revision &&
        items[0]!.ready
        ? items[0]!.id
        : undefined;
    },
    60_000,
    `${name} at revision ${revision}, ready`,
  );

async function assignmentVersion(): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query('select assignment_version from nodes where name = $1', [node]);
    return Number(rows[0].assignment_version);
  } finally {
    await client.end();
  }
}

async function ok(args: string[]): Promise<string> {
  const r = await front.kubectl(args);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}\n${server.output().slice(-2000)}`).toBe(0);
  return r.stdout;
}

let solo: string;
let duo: string;

beforeAll(async () => {
  cluster = await startKubectlCluster('klogs', { registrationMs: 30000 });
  ({ db, server, node, dir, front } = cluster);
  // Two revisions of `solo`; `duo` runs two containers.
  expect(
    (await server.call('PUT', `${NS}/deployments/solo`, deployment('solo', [ticker('app')]))).status,
  ).toBe(201);
  expect(
    (await server.call('PUT', `${NS}/deployments/duo`, deployment('duo', [sayer('main'), sayer('side')])))
      .status,
  ).toBe(201);
  await ready('solo', 1);
  const v2 = deployment('solo', [ticker('app', [{ name: 'VERSION', value: '2' }])]);
  expect((await server.call('PUT', `${NS}/deployments/solo`, v2)).status).toBe(200);
  [solo, duo] = await Promise.all([ready('solo', 2), ready('duo', 1)]);
}, 300_000);

afterAll(async () => {
  await cluster?.close();
});

describe(`kubectl (${KUBECTL}) reading revisions and logs`, () => {
  it('lists ReplicaSets with Kubernetes columns, one per revision', async () => {
    const out = await ok(['get', 'rs', '-o', 'wide', '-l', 'app=solo']);
    const [header, ...rows] = out.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'NAME',
      'DESIRED',
      'CURRENT',
      'READY',
      'AGE',
      'CONTAINERS',
      'IMAGES',
      'SELECTOR',
    ]);
    const cells = rows.map((r) => r.split(/\s+/));
    expect(cells.map((c) => c.slice(1, 4).join(' ')).sort()).toEqual(['0 0 0', '1 1 1']);
    for (const c of cells) {
      expect(c[0]).toMatch(/^solo-[bcdfghjklmnpqrstvwxz2456789]+$/);
      expect(c[7]).toBe(`app=solo,pod-template-hash=${c[0]!.slice('solo-'.length)}`);
    }
  });

  it('shows the rollout history and each revision’s template', async () => {
    const history = await ok(['rollout', 'history', 'deploy/solo']);
    expect(history).toContain('deployment.apps/solo');
    expect(history.split('\n').map((l) => l.trim().split(/\s+/))).toEqual(
      expect.arrayContaining([
        ['REVISION', 'CHANGE-CAUSE'],
        ['1', '<none>'],
        ['2', '<none>'],
      ]),
    );
    const second = await ok(['rollout', 'history', 'deploy/solo', '--revision=2']);
    expect(second).toContain('deployment.apps/solo with revision #2');
    expect(second).toMatch(/pod-template-hash=/);
    expect(second).toMatch(/VERSION:\s+2/);
    const first = await ok(['rollout', 'history', 'deploy/solo', '--revision=1']);
    expect(first).not.toContain('VERSION');
    // undo reads the ReplicaSets client-side; --dry-run=client prints the template it would restore.
    const undo = await ok(['rollout', 'undo', 'deploy/solo', '--to-revision=1', '--dry-run=client']);
    expect(undo).toContain('Pod Template');
    expect(undo).not.toContain('VERSION');
    // describe finds the Deployment's ReplicaSets as kubectl does (selector, then owner uid).
    const current = (
      await ok([
        'get',
        'rs',
        '-l',
        'app=solo',
        '-o',
        'name',
        '--sort-by=.metadata.annotations.deployment\\.kubernetes\\.io/revision',
      ])
    )
      .trim()
      .split('\n')
      .at(-1)!
      .replace('replicaset.apps/', '');
    const described = await ok(['describe', 'deploy', 'solo']);
    expect(described).toMatch(new RegExp(`NewReplicaSet:\\s+${current} \\(1/1 replicas created\\)`));
    expect(described).toMatch(/OldReplicaSets:\s+solo-\w+ \(0\/0 replicas created\)/);
    const missing = await front.kubectl(['rollout', 'history', 'deploy/solo', '--revision=7']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('unable to find the specified revision');
  });

  it('reads the logs of a pod and of a deployment, with --tail and --timestamps', async () => {
    expect(await ok(['logs', `pod/${solo}`])).toMatch(/^tick 1\ntick 2\n/);
    const tail = await ok(['logs', 'deploy/solo', '--tail=1']);
    expect(tail).toMatch(/^tick \d+\n$/);
    const stamped = await ok(['logs', solo, '--tail=2', '--timestamps']);
    expect(stamped).toMatch(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z tick \d+\n){2}$/);
    expect(await ok(['logs', solo, '--since=1h', '--tail=1'])).toMatch(/^tick \d+\n$/);
  });

  it('reads one container of several with -c, and names them when none is given', async () => {
    expect(await ok(['logs', duo, '-c', 'side'])).toBe('side says hi\n');
    const defaulted = await front.kubectl(['logs', duo]);
    expect(defaulted.stdout).toBe('main says hi\n');
    expect(defaulted.stderr).toContain('Defaulted container "main" out of: main, side');
    const wrong = await front.kubectl(['logs', duo, '-c', 'nope']);
    expect(wrong.stderr).toContain(`container nope is not valid for pod ${duo}`);
    // A client that does not default (kubectl does) gets Kubernetes' message.
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods/${duo}/log`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toBe(
      `a container name must be specified for pod ${duo}, choose one of: [main side]`,
    );
  });

  it('gets the remaining read kinds: secrets without values, service accounts, endpoints, events', async () => {
    expect((await server.call('PUT', `${NS}/secrets/db`, { data: { password: 'hunter2' } })).status).toBe(
      201,
    );
    expect((await server.call('PUT', `${NS}/serviceaccounts/api`, {})).status).toBe(201);
    const svc = { spec: { selector: { app: 'solo' }, ports: [{ port: 80, targetPort: 8080 }] } };
    expect((await server.call('PUT', `${NS}/services/solo`, svc)).status).toBe(201);
    const out = await ok(['get', 'secrets,serviceaccounts,endpoints', '-o', 'wide']);
    expect(out).toMatch(/secret\/db\s+Opaque\s+1\s/);
    expect(out).toMatch(/serviceaccount\/api\s+0\s/);
    expect(out).toMatch(/endpoints\/solo\s+127\.0\.0\.1:\d+\s/);
    expect(await ok(['get', 'secret', 'db', '-o', 'yaml'])).not.toContain('hunter2');
    const events = await ok(['get', 'events']);
    expect(events.split('\n')[0]!.split(/\s{2,}/)).toEqual([
      'LAST SEEN',
      'TYPE',
      'REASON',
      'OBJECT',
      'MESSAGE',
    ]);
    expect(events).toMatch(/deployment\/solo/);
  });

  it('follows a pod’s logs: new lines arrive until kubectl is stopped', async () => {
    const atStart = await assignmentVersion();
    const follower = spawn(KUBECTL, ['logs', '-f', solo, '--tail=1', '--timestamps'], {
      env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: front.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const seen: { n: number; lagMs: number }[] = [];
    let err = '';
    follower.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    let buffered = '';
    follower.stdout.on('data', (b: Buffer) => {
      buffered += b.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        const m = /^(\S+) tick (\d+)$/.exec(line);
        if (m) seen.push({ n: Number(m[2]), lagMs: Date.now() - Date.parse(m[1]!) });
      }
    });
    const exited = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    try {
      // The first line is the tail; then at least three more, in order, none twice.
      await eventually(async () => seen.length >= 4, 20_000, `four lines from kubectl logs -f (${err})`);
      const numbers = seen.map((s) => s.n);
      for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1]! + 1);
      const lags = seen.slice(1).map((s) => s.lagMs);
      console.info(`kubectl logs -f: line lag ${Math.min(...lags)}-${Math.max(...lags)} ms`);
      expect(await assignmentVersion()).toBeGreaterThan(atStart + 2);
    } finally {
      follower.kill('SIGTERM');
    }
    await exited;
    // Each round of a follow is a log request delivered with the node's assignments (its version
    // grows): once kubectl is gone, the rounds stop (the one in flight may still end).
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(2000);
    const before = await assignmentVersion();
    await sleep(2500);
    expect(await assignmentVersion()).toBe(before);
  });

  it('rolls back with rollout undo: the template of revision 1 is current again', async () => {
    const undo = await ok(['rollout', 'undo', 'deploy/solo', '--to-revision=1']);
    expect(undo).toContain('deployment.apps/solo rolled back');
    // Berth takes the template back as revision 1 (Kubernetes would number it 3), once reconciled.
    const d = await eventually(
      async () => {
        const r = await server.call('GET', `${NS}/deployments/solo`);
        return r.body.status?.revision !== 2 ? r : undefined;
      },
      30_000,
      'the rollback reconciled',
    );
    expect(d.body.status.revision).toBe(1);
    const env = (d.body.spec.template.spec.containers[0].env ?? []) as { name: string }[];
    expect(env.map((e) => e.name)).not.toContain('VERSION');
  });
});
