import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../db/rows.ts';
import {
  ADMIN_TOKEN,
  DATABASE_KINDS,
  deploymentBody,
  startTestPlane,
  type TestPlane,
} from '../support/plane.ts';
import { eventually, type SimFleet, sleep, startSimAgents } from '../support/sim-agents.ts';

const NS = '/v1/namespaces/default';

describe.each(DATABASE_KINDS)('controller with simulated agents on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet | undefined;
  beforeAll(async () => {
    t = await startTestPlane(kind, {
      // Three heartbeats (one a second): with one, a heartbeat late on a loaded machine made a node
      // unready for the moment a test placed its replicas.
      BERTH_NODE_GRACE_SECONDS: '3',
      BERTH_NODE_LOST_SECONDS: '1',
      BERTH_BACKGROUND: '1',
      BERTH_RECONCILE_INTERVAL_MS: '200',
    });
    // The simulated agents share one client address, and those of deleted nodes keep polling with
    // refused credentials: on a fast machine that passes the failure limiter's 20 a minute, which
    // would answer this file's own credential checks 429. Those checks come from addresses of their own.
    t.plane.deps.clientAddress = (c) => c.req.header('x-test-client') ?? 'simulated-agents';
  });
  afterEach(async () => {
    // Each test brings its own nodes: forget the previous test's, so nothing lands on a dead one.
    await fleet?.stop();
    for (const a of fleet?.agents ?? []) await t.call('DELETE', `/v1/nodes/${a.name}`);
    fleet = undefined;
  });
  afterAll(async () => {
    await t?.close();
  });

  const agents = async (count: number, prefix: string, options = {}) => {
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count,
      fetch: t.fetch,
      prefix,
      options,
    });
    return fleet;
  };
  const get = async (name: string) => (await t.call('GET', `${NS}/deployments/${name}`)).body;
  const replicas = async (name: string) =>
    (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as {
      id: string;
      node: string | null;
      phase: string;
      ready: boolean;
      revision: number;
      desired: string;
      message: string | null;
    }[];
  const events = async (name: string) =>
    (await t.call('GET', `${NS}/events?object=deployment/${name}`)).body.items as {
      reason: string;
      message: string;
    }[];
  const complete = (name: string, replicasWanted: number, timeout = 40_000) =>
    eventually(
      async () => {
        const d = await get(name);
        const progressing = d.status.conditions.find((c: any) => c.type === 'Progressing');
        return d.status.readyReplicas === replicasWanted &&
          d.status.updatedReplicas === replicasWanted &&
          d.status.replicas === replicasWanted &&
          progressing?.reason === 'NewRevisionAvailable'
          ? d
          : undefined;
      },
      timeout,
      `${name} to be complete with ${replicasWanted} replicas`,
    );

  it('places replicas spread across nodes and reports status and conditions', async () => {
    await agents(3, 'spread');
    const put = await t.call('PUT', `${NS}/deployments/spread`, deploymentBody({ replicas: 3 }));
    expect(put.status).toBe(201);
    const d = await complete('spread', 3);
    expect(d.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
      revision: 1,
    });
    expect(d.status.conditions.find((c: any) => c.type === 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
    });
    const list = await replicas('spread');
    expect(new Set(list.map((r) => r.node)).size).toBe(3);
    expect(list.every((r) => r.phase === 'Running' && r.ready)).toBe(true);
    const reasons = (await events('spread')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['ScalingReplicaSet', 'Scheduled', 'RolloutComplete']));
  });

  it('scales up and down', async () => {
    await agents(2, 'scale');
    await t.call('PUT', `${NS}/deployments/scaler`, deploymentBody({ replicas: 2 }));
    await complete('scaler', 2);
    await t.call('PUT', `${NS}/deployments/scaler/scale`, { replicas: 5 });
    await complete('scaler', 5);
    await t.call('PUT', `${NS}/deployments/scaler/scale`, { replicas: 1 });
    await complete('scaler', 1);
    await eventually(
      async () => (await replicas('scaler')).length === 1,
      40_000,
      'stopped replicas to go away',
    );
  });

  it('rolls out a new template within maxSurge/maxUnavailable, counting only ready replicas', async () => {
    const f = await agents(3, 'roll', { readyAfterMs: 150 });
    await t.call(
      'PUT',
      `${NS}/deployments/roller`,
      deploymentBody({
        replicas: 4,
        spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
      }),
    );
    await complete('roller', 4);
    await t.call(
      'PUT',
      `${NS}/deployments/roller`,
      deploymentBody({
        replicas: 4,
        image: 'registry.example.com/web:2',
        spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
      }),
    );
    let maxAlive = 0;
    let minReady = Number.POSITIVE_INFINITY;
    // A bound, not a speed check: four surge steps on a loaded machine took over 15 s.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const list = (await replicas('roller')).filter((r) => r.desired === 'running');
      maxAlive = Math.max(maxAlive, list.length);
      minReady = Math.min(minReady, list.filter((r) => r.ready).length);
      const d = await get('roller');
      const done = d.status.revision === 2 && d.status.updatedReplicas === 4 && d.status.readyReplicas === 4;
      if (done && d.status.replicas === 4) break;
      if (Date.now() > deadline) throw new Error(`rollout did not finish: ${JSON.stringify(d.status)}`);
      await sleep(20);
    }
    expect(maxAlive).toBeLessThanOrEqual(5);
    expect(minReady).toBeGreaterThanOrEqual(4);
    const d = await complete('roller', 4);
    expect(d.status.revision).toBe(2);
    expect(
      f.agents
        .flatMap((a) => a.running())
        .filter((a) => a.deployment === 'roller')
        .every((a) => a.revision === 2),
    ).toBe(true);
  });

  it('rolls back to the previous revision, reusing it', async () => {
    await agents(2, 'rb');
    await t.call('PUT', `${NS}/deployments/rb`, deploymentBody({ replicas: 2, image: 'img:1' }));
    await complete('rb', 2);
    await t.call('PUT', `${NS}/deployments/rb`, deploymentBody({ replicas: 2, image: 'img:2' }));
    await eventually(async () => (await get('rb')).status.revision === 2 && (await complete('rb', 2)));
    const back = await t.call('POST', `${NS}/deployments/rb/rollback`);
    expect(back.status).toBe(200);
    const d = await eventually(async () => {
      const x = await get('rb');
      return x.status.revision === 1 && x.status.updatedReplicas === 2 && x.status.readyReplicas === 2
        ? x
        : undefined;
    });
    expect(d.spec.template.spec.containers[0].image).toBe('img:1');
    const revisions = (await t.call('GET', `${NS}/deployments/rb/revisions`)).body.items.map(
      (r: any) => r.revision,
    );
    expect(revisions).toEqual([2, 1]);
  });

  it('marks a stuck rollout ProgressDeadlineExceeded and auto-rolls back to the last available revision', async () => {
    await agents(2, 'deadline', {
      observe: (a: { containers: { image: string }[] }) =>
        a.containers[0]!.image.endsWith(':broken')
          ? { phase: 'Failed', ready: false, message: 'pull access denied' }
          : undefined,
    });
    const spec = { progressDeadlineSeconds: 1, autoRollback: true };
    await t.call('PUT', `${NS}/deployments/stuck`, deploymentBody({ replicas: 2, image: 'app:good', spec }));
    await complete('stuck', 2);
    await t.call(
      'PUT',
      `${NS}/deployments/stuck`,
      deploymentBody({ replicas: 2, image: 'app:broken', spec }),
    );
    await sleep(1200);
    await t.plane.reconciler.tick();
    const rolledBack = await eventually(async () => {
      await t.plane.reconciler.tick();
      const reasons = (await events('stuck')).map((e) => e.reason);
      return reasons.includes('ProgressDeadlineExceeded') && reasons.includes('RolledBack')
        ? reasons
        : undefined;
    }, 40_000);
    expect(rolledBack).toContain('RolledBack');
    const d = await complete('stuck', 2);
    expect(d.spec.template.spec.containers[0].image).toBe('app:good');
    expect(d.status.revision).toBe(1);
  });

  it('reports ProgressDeadlineExceeded without autoRollback', async () => {
    await agents(1, 'pde', { observe: () => ({ phase: 'Starting', ready: false }) });
    await t.call(
      'PUT',
      `${NS}/deployments/pde`,
      deploymentBody({ replicas: 1, spec: { progressDeadlineSeconds: 1 } }),
    );
    await sleep(1200);
    const d = await eventually(async () => {
      await t.plane.reconciler.tick();
      const x = await get('pde');
      return x.status.conditions.find((c: any) => c.reason === 'ProgressDeadlineExceeded') ? x : undefined;
    });
    expect(d.status.conditions.find((c: any) => c.type === 'Progressing')).toMatchObject({ status: 'False' });
  });

  it('keeps a replica Pending with a FailedScheduling reason until a matching node appears', async () => {
    await agents(2, 'sel');
    await t.call(
      'PUT',
      `${NS}/deployments/picky`,
      deploymentBody({
        replicas: 1,
        spec: {
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { nodeSelector: { region: 'eu' }, containers: [{ name: 'web', image: 'x:1' }] },
          },
        },
      }),
    );
    const pending = await eventually(async () => {
      const list = await replicas('picky');
      return list.length === 1 && list[0]!.phase === 'Pending' && list[0]!.message ? list[0] : undefined;
    });
    expect(pending!.message).toMatch(/^0\/\d+ nodes available: .*nodeSelector/);
    const failed = (await events('picky')).find((e) => e.reason === 'FailedScheduling');
    expect(failed?.message).toContain('nodeSelector');
    const eu = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'eu',
      options: { labels: { region: 'eu' } },
    });
    try {
      await complete('picky', 1);
      expect((await replicas('picky'))[0]!.node).toBe('eu-1');
    } finally {
      await eu.stop();
    }
  });

  it('does not over-commit node memory', async () => {
    await agents(2, 'mem', { capacity: { cpu: 4, memoryBytes: 1024 ** 3 } });
    const spec = {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'x:1', resources: { requests: { memory: '400Mi' } } }] },
      },
    };
    await t.call('PUT', `${NS}/deployments/hungry`, deploymentBody({ replicas: 5, spec }));
    await eventually(
      async () => (await replicas('hungry')).filter((r) => r.node?.startsWith('mem')).length === 4,
    );
    const list = await replicas('hungry');
    const perNode = new Map<string, number>();
    for (const r of list) if (r.node) perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
    expect([...perNode.values()].every((n) => n <= 2)).toBe(true);
    const waiting = list.find((r) => r.node === null);
    expect(waiting?.message).toMatch(/insufficient memory/);
  });

  it("keeps each node's allocation ledger equal to its running replicas' requests through every kind of write", async () => {
    // Placement reads allocations from a ledger the replicas' triggers keep (db/schema/allocations.ts).
    // In any snapshot, totals plus unfolded changes must equal the sum placement used to compute.
    const mismatches = async () =>
      rowsOf(
        await t.plane.deps.db.execute(sql`
          with ledger as (
            select node_id, sum(cpu_millis) as cpu, sum(memory_bytes) as memory, sum(replicas) as count from (
              select node_id, cpu_millis, memory_bytes, replicas from node_allocations
              union all select node_id, cpu_millis, memory_bytes, replicas from allocation_changes) as l
            group by node_id),
          held as (
            select node_id, sum(request_cpu_millis) as cpu, sum(request_memory_bytes) as memory, count(*) as count
            from replicas where node_id is not null and desired = 'running' group by node_id)
          select coalesce(ledger.node_id, held.node_id) as node_id,
                 coalesce(ledger.cpu, 0)::text as ledger_cpu, coalesce(held.cpu, 0)::text as held_cpu,
                 coalesce(ledger.memory, 0)::text as ledger_memory, coalesce(held.memory, 0)::text as held_memory
          from ledger full join held on ledger.node_id = held.node_id
          where coalesce(ledger.cpu, 0) <> coalesce(held.cpu, 0)
             or coalesce(ledger.memory, 0) <> coalesce(held.memory, 0)
             or coalesce(ledger.count, 0) <> coalesce(held.count, 0)`),
      );
    const held = async () =>
      rowsOf<{ cpu: string | null }>(
        await t.plane.deps.db.execute(sql`
          select sum(request_cpu_millis)::text as cpu from replicas
          where deployment_name = 'ledger' and node_id is not null and desired = 'running'`),
      )[0]!.cpu;
    const f = await agents(3, 'ledger');
    const template = (image: string, cpu: string) => ({
      template: {
        metadata: { labels: { app: 'ledger' } },
        spec: { containers: [{ name: 'web', image, resources: { requests: { cpu, memory: '32Mi' } } }] },
      },
    });
    const put = (replicasWanted: number, image: string, cpu: string) =>
      t.call(
        'PUT',
        `${NS}/deployments/ledger`,
        deploymentBody({ replicas: replicasWanted, spec: template(image, cpu) }),
      );

    await put(4, 'x:1', '100m');
    await complete('ledger', 4);
    expect(await held()).toBe('400');
    expect(await mismatches()).toEqual([]);
    // The node list reads the same ledger. Background reconciles move other tests' replicas, so
    // the two reads agree once nothing moves between them.
    const listedCounts = async () =>
      ((await t.call('GET', '/v1/nodes')).body.items as { name: string; allocated: { replicas: number } }[])
        .map((n) => `${n.name}=${n.allocated.replicas}`)
        .sort();
    const heldCounts = async () =>
      rowsOf<{ name: string; count: string }>(
        await t.plane.deps.db.execute(sql`
          select n.name, count(r.id)::text as count from nodes n
          left join replicas r on r.node_id = n.id and r.desired = 'running' group by n.name`),
      )
        .map((n) => `${n.name}=${n.count}`)
        .sort();
    await eventually(
      async () => JSON.stringify(await listedCounts()) === JSON.stringify(await heldCounts()),
      5000,
      'the node list to count what each node holds',
    );

    await put(4, 'x:2', '150m'); // a rolling update: new replicas placed, old ones stopped, then removed
    await complete('ledger', 4);
    expect(await mismatches()).toEqual([]);

    await put(2, 'x:2', '150m');
    await complete('ledger', 2);
    expect(await held()).toBe('300');
    expect(await mismatches()).toEqual([]);

    expect((await t.call('POST', `/v1/nodes/${f.agents[0]!.name}/drain`)).status).toBe(200);
    await complete('ledger', 2);
    expect(await mismatches()).toEqual([]);

    // A node row removed under its replicas: the foreign key sets their node to null.
    const [onNode] = (await replicas('ledger')).filter((r) => r.node && r.desired === 'running');
    // Its agent's status reports lock the same replica rows in another order: Postgres may break
    // the deadlock by failing this side, and a plain SQL client retries (eventually does).
    await eventually(
      () => t.plane.deps.db.execute(sql`delete from nodes where name = ${onNode!.node}`).then(() => true),
      5000,
      'the node row deleted',
    );
    expect(await mismatches()).toEqual([]);
    await eventually(async () => (await held()) === '300', 40_000, 'the orphaned replica placed again');
    expect(await mismatches()).toEqual([]);

    // A node forgotten through the API: its replicas are deleted while still desired running.
    const [running] = (await replicas('ledger')).filter((r) => r.node && r.desired === 'running');
    expect((await t.call('DELETE', `/v1/nodes/${running!.node}`)).status).toBe(204);
    expect(await mismatches()).toEqual([]);

    await t.call('DELETE', `${NS}/deployments/ledger`);
    await eventually(async () => (await replicas('ledger')).length === 0, 40_000, 'replicas to be removed');
    expect(await held()).toBe(null);
    expect(await mismatches()).toEqual([]);
  });

  it('replaces replicas of a lost node and stops only the replaced ones when it returns', async () => {
    const f = await agents(3, 'loss');
    await t.call('PUT', `${NS}/deployments/survivor`, deploymentBody({ replicas: 3 }));
    await complete('survivor', 3);
    const victim = f.agents[0]!;
    const before = (await replicas('survivor')).filter((r) => r.node === victim.name).map((r) => r.id);
    expect(before.length).toBe(1);
    victim.cutNetwork();
    const replaced = await eventually(
      async () => {
        await t.plane.reconciler.tick();
        const list = await replicas('survivor');
        const live = list.filter((r) => r.node !== victim.name && r.ready);
        // The lost replica is told to stop by the reconcile after its replacement is placed, and
        // the replacement may report ready before that one runs: wait for both.
        const lostStillWanted = list.some((r) => r.node === victim.name && r.desired === 'running');
        return live.length === 3 && !lostStillWanted ? list : undefined;
      },
      40_000,
      'replacement of the lost replica',
    );
    expect(replaced.filter((r) => r.node === victim.name && r.desired === 'running')).toHaveLength(0);
    const nodes = (await t.call('GET', '/v1/nodes')).body.items;
    expect(nodes.find((n: any) => n.name === victim.name).status).toBe('NotReady');
    victim.heal();
    await eventually(
      async () => {
        await t.plane.reconciler.tick();
        return (
          victim.running().length === 0 &&
          victim.assignments.every((a) => !before.includes(a.id) || a.desired === 'stopped')
        );
      },
      40_000,
      'the returning node to drop the replaced replica',
    );
    await complete('survivor', 3);
  });

  it('cordons, uncordons and drains within maxUnavailable', async () => {
    const f = await agents(3, 'drain');
    await t.call(
      'PUT',
      `${NS}/deployments/drained`,
      deploymentBody({
        replicas: 3,
        spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
      }),
    );
    await complete('drained', 3);
    const target = f.agents[0]!.name;
    const cordoned = await t.call('POST', `/v1/nodes/${target}/cordon`);
    expect(cordoned.body.unschedulable).toBe(true);
    expect((await t.call('POST', `/v1/nodes/${target}/uncordon`)).body.unschedulable).toBe(false);
    const drained = await t.call('POST', `/v1/nodes/${target}/drain`);
    expect(drained.status).toBe(200);
    await eventually(
      async () => {
        const list = (await replicas('drained')).filter((r) => r.desired === 'running');
        return list.length === 3 && list.every((r) => r.node !== target && r.ready);
      },
      40_000,
      'drain to move the replica',
    );
    expect((await t.call('GET', `/v1/nodes/${target}`)).body.unschedulable).toBe(true);
    expect((await t.call('POST', '/v1/nodes/nope/drain')).status).toBe(404);
  });

  it('serves assignments with ETag, 304 and a long-poll that wakes on change', async () => {
    // The simulated agent keeps heartbeating; this test polls beside it with the same credential.
    const f = await agents(1, 'poll');
    const agent = f.agents[0]!;
    const auth = { authorization: `Bearer ${agent.token}` };
    const first = await t.plane.app.request('/v1/agent/assignments', { headers: auth });
    expect(first.status).toBe(200);
    let etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"a\d+\.n\d+"$/);
    // 304 for the current version. The cluster's service map is part of it, and other nodes'
    // comings and goings (the previous tests') may move it: then ask again with the new one.
    let again = await t.plane.app.request('/v1/agent/assignments', {
      headers: { ...auth, 'if-none-match': etag },
    });
    for (let i = 0; i < 5 && again.status === 200; i++) {
      etag = again.headers.get('etag')!;
      again = await t.plane.app.request('/v1/agent/assignments', {
        headers: { ...auth, 'if-none-match': etag },
      });
    }
    expect(again.status).toBe(304);
    // Long-poll from the current version; the deployment is pinned to this node, so its
    // placement must wake the poll at once (other changes may wake it first: poll again).
    const started = Date.now();
    let current = etag;
    const polling = (async () => {
      for (;;) {
        const res = await t.plane.app.request('/v1/agent/assignments?wait=10', {
          headers: { ...auth, 'if-none-match': current },
        });
        if (res.status !== 200) continue;
        current = res.headers.get('etag')!;
        const body = await res.json();
        const found = body.replicas.filter((r: { deployment: string }) => r.deployment === 'wake');
        if (found.length) return found;
      }
    })();
    await sleep(200);
    const pinned = deploymentBody({ replicas: 1 });
    (pinned.spec.template.spec as Record<string, unknown>).nodeSelector = { 'berth.dev/node': agent.name };
    await t.call('PUT', `${NS}/deployments/wake`, pinned);
    const wake = await polling;
    // The change arrives through the poll. Here a poll waits at most a heartbeat (1 s), so this
    // bound only catches a change that never wakes anyone; wake-up latency is for benchmarks.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(wake[0].containers[0]).toMatchObject({
      image: 'registry.example.com/web:1',
      imagePullPolicy: 'IfNotPresent',
    });
  });

  // A second connection holds the lock: real Postgres only (PGlite serves one connection).
  if (kind === 'postgres') {
    it('answers a poll while a reconcile holds its node row, and records the heartbeat once it is free', async () => {
      const f = await agents(1, 'beat');
      const agent = f.agents[0]!;
      const auth = { authorization: `Bearer ${agent.token}` };
      const etag = (await t.plane.app.request('/v1/agent/assignments', { headers: auth })).headers.get(
        'etag',
      )!;
      const heartbeat = async () =>
        (await t.call('GET', `/v1/nodes/${agent.name}`)).body.lastHeartbeat as string;
      // What a reconcile placing replicas on this node holds until it commits.
      const other = new pg.Client({ connectionString: t.databaseUrl });
      await other.connect();
      try {
        await other.query('begin');
        await other.query('select 1 from nodes where name = $1 for update', [agent.name]);
        const before = await heartbeat();
        await sleep(300); // past the heartbeat's resolution (a tenth of the 1 s grace period)
        const poll = t.plane.app.request('/v1/agent/assignments', {
          headers: { ...auth, 'if-none-match': etag },
        });
        const answered = await Promise.race([
          Promise.resolve(poll).then((r) => r.status),
          sleep(5000).then(() => 'waiting'),
        ]);
        // 304, or 200 if the node's set changed meanwhile: either way answered, not waiting.
        expect([200, 304]).toContain(answered);
        expect(await heartbeat()).toBe(before);
        await other.query('commit');
        await eventually(async () => (await heartbeat()) > before, 5000, 'heartbeat recorded');
      } finally {
        await other.end();
      }
    });

    it('answers a status report while a reconcile holds its deployment, and still acts on it', async () => {
      let ready = true;
      const f = await agents(1, 'woken', { observe: () => ({ phase: 'Running' as const, ready }) });
      await t.call('PUT', `${NS}/deployments/woken`, deploymentBody({ replicas: 1 }));
      await complete('woken', 1);
      // What a reconcile of this deployment holds until it commits.
      const other = new pg.Client({ connectionString: t.databaseUrl });
      await other.connect();
      try {
        await other.query('begin');
        await other.query("select 1 from deployments where name = 'woken' for update");
        ready = false;
        const answered = await Promise.race([
          f.agents[0]!.report().then(() => 'answered'),
          sleep(5000).then(() => 'waiting'),
        ]);
        expect(answered).toBe('answered');
        expect((await get('woken')).status.readyReplicas).toBe(1);
        await other.query('commit');
        // The wake-up the report left is not lost with the lock: the controller acts on it.
        await eventually(
          async () => (await get('woken')).status.readyReplicas === 0,
          5000,
          'the report acted on',
        );
      } finally {
        await other.end();
      }
    });
  }

  it('keeps node credentials to their own node', async () => {
    const f = await agents(2, 'iso');
    await t.call('PUT', `${NS}/deployments/iso`, deploymentBody({ replicas: 2 }));
    await complete('iso', 2);
    for (const agent of f.agents) {
      const res = await t.plane.app.request('/v1/agent/assignments', {
        headers: { authorization: `Bearer ${agent.token}` },
      });
      const body = await res.json();
      const mine = (await replicas('iso')).filter((r) => r.node === agent.name).map((r) => r.id);
      expect(
        body.replicas
          .filter((r: any) => r.deployment === 'iso')
          .map((r: any) => r.id)
          .sort(),
      ).toEqual(mine.sort());
    }
    const [a, b] = f.agents;
    // Node A reporting B's replica changes nothing.
    const bReplica = (await replicas('iso')).find((r) => r.node === b!.name)!;
    await t.plane.app.request('/v1/agent/status', {
      method: 'POST',
      headers: { authorization: `Bearer ${a!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        replicas: [{ id: bReplica.id, phase: 'Failed', ready: false, message: 'forged' }],
      }),
    });
    expect((await replicas('iso')).find((r) => r.id === bReplica.id)).toMatchObject({
      phase: 'Running',
      ready: true,
    });
    const asNode = await t.call('GET', `${NS}/deployments`, undefined, a!.token);
    expect(asNode.status).toBe(403);
    const asAdmin = await t.call('GET', '/v1/agent/assignments');
    expect(asAdmin.status).toBe(403);
    expect((await t.call('DELETE', `/v1/nodes/${a!.name}`)).status).toBe(204);
    const afterDelete = await t.plane.app.request('/v1/agent/assignments', {
      headers: { authorization: `Bearer ${a!.token}`, 'x-test-client': 'after-delete' },
    });
    expect(afterDelete.status).toBe(401);
  });

  it('re-issues the credential of a known name only after an admin reset', async () => {
    const f = await agents(1, 'again');
    await f.stop();
    const old = f.agents[0]!.token;
    const register = async () =>
      t.call(
        'POST',
        '/v1/agent/register',
        {
          joinToken: (await t.call('POST', '/v1/join-tokens', {})).body.token,
          name: 'again-1',
          capacity: { cpu: 1, memoryBytes: 2 ** 30 },
          address: '10.1.1.1',
        },
        null,
      );
    expect((await register()).status).toBe(409);
    expect(
      (
        await t.plane.app.request('/v1/agent/assignments', {
          headers: { authorization: `Bearer ${old}`, 'x-test-client': `old-credential-${Math.random()}` },
        })
      ).status,
    ).toBe(200);
    expect((await t.call('POST', '/v1/nodes/again-1/reset')).status).toBe(200);
    const res = await register();
    expect(res.status).toBe(200);
    expect(res.body.nodeId).toBe(f.agents[0]!.nodeId);
    expect(
      (
        await t.plane.app.request('/v1/agent/assignments', {
          headers: { authorization: `Bearer ${old}`, 'x-test-client': `old-credential-${Math.random()}` },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await t.plane.app.request('/v1/agent/assignments', {
          headers: { authorization: `Bearer ${res.body.nodeToken}` },
        })
      ).status,
    ).toBe(200);
  });

  it('deletes a deployment: agents are told to stop, then it is gone', async () => {
    const f = await agents(2, 'del');
    await t.call('PUT', `${NS}/deployments/doomed`, deploymentBody({ replicas: 2 }));
    await complete('doomed', 2);
    await t.call('DELETE', `${NS}/deployments/doomed`);
    await eventually(async () =>
      f.agents.every((a) => a.assignments.every((x) => x.deployment !== 'doomed' || x.desired === 'stopped')),
    );
    await eventually(async () => (await replicas('doomed')).length === 0, 40_000, 'replicas to be removed');
  });

  it('fetches replica logs through the agent', async () => {
    await agents(1, 'logs');
    await t.call('PUT', `${NS}/deployments/talker`, deploymentBody({ replicas: 1 }));
    await complete('talker', 1);
    const [r] = await replicas('talker');
    const logs = await t.call('GET', `${NS}/replicas/${r!.id}/logs?tail=10`);
    expect(logs.status).toBe(200);
    expect(logs.body.lines[0]).toContain(r!.id);
  });
});
