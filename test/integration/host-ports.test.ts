import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  DATABASE_KINDS,
  deploymentBody,
  startTestPlane,
  type TestPlane,
} from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

const NS = '/v1/namespaces/default';
const PORT_TAKEN =
  "0/1 nodes available: 1 node(s) didn't have free ports for the requested pod ports (8080/TCP)";

interface ReplicaView {
  id: string;
  node: string | null;
  phase: string;
  desired: string;
  message: string | null;
}

/** A deployment whose one container publishes container port 80 on port 8080 of its node. */
const onPort8080 = (replicas: number) =>
  deploymentBody({
    replicas,
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'web', image: 'x:1', ports: [{ containerPort: 80, hostPort: 8080 }] }],
        },
      },
    },
  });

describe.each(DATABASE_KINDS)('host ports with simulated agents on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet | undefined;
  beforeAll(async () => {
    // A generous grace: the agent below goes silent on purpose and its node must stay Ready meanwhile.
    t = await startTestPlane(kind, {
      BERTH_NODE_GRACE_SECONDS: '60',
      BERTH_NODE_LOST_SECONDS: '60',
      BERTH_BACKGROUND: '1',
      BERTH_RECONCILE_INTERVAL_MS: '200',
    });
  });
  afterEach(async () => {
    await fleet?.stop();
    for (const a of fleet?.agents ?? []) await t.call('DELETE', `/v1/nodes/${a.name}`);
    fleet = undefined;
  });
  afterAll(async () => {
    await t?.close();
  });

  const replicas = async (name: string) =>
    (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as ReplicaView[];
  const events = async (name: string) =>
    (await t.call('GET', `${NS}/events?object=deployment/${name}`)).body.items as {
      reason: string;
      message: string;
    }[];
  const running = (name: string, node: string, timeoutMs: number) =>
    eventually(
      async () => {
        const list = await replicas(name);
        return list.length === 1 && list[0]!.node === node && list[0]!.phase === 'Running'
          ? list[0]
          : undefined;
      },
      timeoutMs,
      `${name} to run on ${node}`,
    );

  it('keeps a second replica wanting a taken host port Pending until the first is gone', async () => {
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'hp',
    });
    const [agent] = fleet.agents;
    const started = Date.now();
    expect((await t.call('PUT', `${NS}/deployments/first`, onPort8080(1))).status).toBe(201);
    await running('first', 'hp-1', 20_000);
    // Every later wait is a multiple of what this first rollout took on this machine, right now.
    const wait = Math.max(10_000, 20 * (Date.now() - started));

    expect((await t.call('PUT', `${NS}/deployments/second`, onPort8080(1))).status).toBe(201);
    const pending = await eventually(
      async () => {
        const list = await replicas('second');
        return list.length === 1 && list[0]!.message ? list[0] : undefined;
      },
      wait,
      'second to wait with a reason',
    );
    expect(pending).toMatchObject({ node: null, phase: 'Pending', message: PORT_TAKEN });
    const failed = (await events('second')).filter((e) => e.reason === 'FailedScheduling');
    expect(failed.map((e) => e.message)).toEqual([`1 replica could not be placed: ${PORT_TAKEN}`]);
    expect(await replicas('first')).toEqual([expect.objectContaining({ node: 'hp-1', phase: 'Running' })]);

    // While the first replica stops, its container still holds the port: it counts until its agent
    // confirms it gone. The agent hears nothing meanwhile, so the replica stays Terminating.
    agent!.cutNetwork();
    expect((await t.call('DELETE', `${NS}/deployments/first`)).status).toBeLessThan(300);
    await eventually(
      async () => (await replicas('first'))[0]?.desired === 'stopped',
      wait,
      'first to be stopping',
    );
    // A new replica of `second` proves placement ran while the first is Terminating.
    await t.call('PUT', `${NS}/deployments/second/scale`, { replicas: 2 });
    const both = await eventually(
      async () => {
        const list = await replicas('second');
        return list.length === 2 && list.every((r) => r.message) ? list : undefined;
      },
      wait,
      'two replicas of second, both waiting',
    );
    expect(both.map((r) => [r.node, r.message])).toEqual([
      [null, PORT_TAKEN],
      [null, PORT_TAKEN],
    ]);
    expect(await replicas('first')).toEqual([expect.objectContaining({ node: 'hp-1', desired: 'stopped' })]);
    await t.call('PUT', `${NS}/deployments/second/scale`, { replicas: 1 });

    // The agent confirms the first replica gone: the port is free and the second takes it.
    agent!.heal();
    await eventually(async () => (await replicas('first')).length === 0, wait, 'first to be gone');
    const placed = await running('second', 'hp-1', wait);
    expect(placed.message).toBeNull();
    expect((await events('second')).map((e) => e.reason)).toContain('Scheduled');
  });
});
