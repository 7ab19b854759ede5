import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, SimAgent, type SimFleet } from '../support/sim-agents.ts';

/**
 * Extended resources and ephemeral-storage through the API with simulated agents: what nodes
 * advertise at registration, what `GET /v1/nodes/{name}` shows of it, placement against what is
 * left (never two replicas on one device, also when deployments are written at once), the reason
 * a replica waits, and what an assignment carries to the agent.
 */

const NS = '/v1/namespaces/default';
const GI = 1024 ** 3;

describe.each(DATABASE_KINDS)('extended resources and ephemeral-storage on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet | undefined;
  beforeAll(async () => {
    t = await startTestPlane(kind, { BERTH_BACKGROUND: '1', BERTH_RECONCILE_INTERVAL_MS: '200' });
  });
  afterEach(async () => {
    await fleet?.stop();
    for (const a of fleet?.agents ?? []) await t.call('DELETE', `/v1/nodes/${a.name}`);
    fleet = undefined;
    const list = (await t.call('GET', `${NS}/deployments`)).body.items as { metadata: { name: string } }[];
    for (const d of list) await t.call('DELETE', `${NS}/deployments/${d.metadata.name}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Agents offering what each entry says. */
  const agents = async (prefix: string, offers: { extended?: Record<string, number>; disk?: number }[]) => {
    const token = (await t.call('POST', '/v1/join-tokens', { maxUses: offers.length })).body.token;
    const agents = await Promise.all(
      offers.map((o, i) =>
        new SimAgent({
          server: t.server,
          joinToken: token,
          name: `${prefix}-${i + 1}`,
          fetch: t.fetch,
          ...(o.extended ? { extendedResources: o.extended } : {}),
          ...(o.disk ? { ephemeralStorageBytes: o.disk } : {}),
        }).start(),
      ),
    );
    fleet = { agents, stop: async () => void (await Promise.all(agents.map((a) => a.stop()))) };
    return agents;
  };
  const deploy = (name: string, replicas: number, resources: Record<string, unknown>) =>
    t.call('PUT', `${NS}/deployments/${name}`, {
      apiVersion: 'berth.dev/v1',
      kind: 'Deployment',
      spec: {
        replicas,
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'work', image: 'registry.example.com/work:1', resources }] },
        },
      },
    });
  type ReplicaView = { id: string; node: string | null; ready: boolean; message: string | null };
  const replicas = async (name: string) =>
    (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as ReplicaView[];
  const settled = (name: string, placed: number, waiting = 0) =>
    eventually(
      async () => {
        const list = await replicas(name);
        const running = list.filter((r) => r.node && r.ready);
        const pending = list.filter((r) => !r.node && r.message);
        return running.length === placed && pending.length === waiting ? { running, pending } : undefined;
      },
      15_000,
      `${name}: ${placed} running, ${waiting} waiting with a reason`,
    );

  it('places GPU replicas only where devices are left, says why the rest wait, and sends the count to the agent', async () => {
    const [big] = await agents('gpu', [
      { extended: { 'nvidia.com/gpu': 2 } },
      { extended: { 'nvidia.com/gpu': 1 } },
      {},
    ]);
    const offered = (await t.call('GET', '/v1/nodes/gpu-1')).body;
    expect(offered.allocatable.extendedResources).toEqual({ 'nvidia.com/gpu': 2 });

    expect((await deploy('train', 4, { limits: { 'nvidia.com/gpu': 1 } })).status).toBeLessThan(300);
    const { running, pending } = await settled('train', 3, 1);
    expect(running.map((r) => r.node).sort()).toEqual(['gpu-1', 'gpu-1', 'gpu-2']);
    expect(pending[0]!.message).toBe('0/3 nodes available: 3 Insufficient nvidia.com/gpu');

    const used = (await t.call('GET', '/v1/nodes/gpu-1')).body;
    expect(used.allocated.extendedResources).toEqual({ 'nvidia.com/gpu': 2 });
    const assignment = big!.running()[0]!;
    expect(assignment.containers[0]!.resources.extended).toEqual({ 'nvidia.com/gpu': 1 });

    // Devices freed by a deployment scaled down go to the replica that waited for them.
    expect((await deploy('train', 2, { limits: { 'nvidia.com/gpu': 1 } })).status).toBeLessThan(300);
    expect((await deploy('infer', 1, { limits: { 'nvidia.com/gpu': 1 } })).status).toBeLessThan(300);
    await eventually(
      async () => {
        const all = [...(await replicas('train')), ...(await replicas('infer'))];
        return all.length === 3 && all.every((r) => r.node && r.ready) ? all : undefined;
      },
      15_000,
      'two train and one infer replica on the three devices',
    );
  });

  it('never hands one device to two replicas when deployments are written at once', async () => {
    await agents('race', [
      { extended: { 'example.com/dongle': 1 } },
      { extended: { 'example.com/dongle': 2 } },
    ]);
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const written = await Promise.all(
      names.map((n) => deploy(n, 1, { limits: { 'example.com/dongle': 1 } })),
    );
    expect(written.map((w) => w.status < 300)).toEqual(names.map(() => true));
    const placed = await eventually(
      async () => {
        const all = (await Promise.all(names.map(replicas))).flat();
        const placed = all.filter((r) => r.node);
        return all.length === 6 && placed.length === 3 && all.filter((r) => r.message).length === 3
          ? placed
          : undefined;
      },
      15_000,
      'three replicas placed, three waiting',
    );
    expect(placed.map((r) => r.node).sort()).toEqual(['race-1', 'race-2', 'race-2']);
  });

  it('schedules ephemeral-storage requests against the disk each node reports', async () => {
    await agents('disk', [{ disk: 10 * GI }, { disk: 10 * GI }, {}]);
    expect((await t.call('GET', '/v1/nodes/disk-1')).body.allocatable.ephemeralStorageBytes).toBe(10 * GI);
    expect((await deploy('cache', 3, { requests: { 'ephemeral-storage': '6Gi' } })).status).toBeLessThan(300);
    const { running, pending } = await settled('cache', 2, 1);
    expect(running.map((r) => r.node).sort()).toEqual(['disk-1', 'disk-2']);
    expect(pending[0]!.message).toBe('0/3 nodes available: 3 Insufficient ephemeral-storage');
  });

  it('refuses what Kubernetes refuses, at its path', async () => {
    const res = await deploy('bad', 1, {
      requests: { 'nvidia.com/gpu': 1, 'example.com/dongle': '0.5' },
      limits: { 'nvidia.com/gpu': 2, 'example.com/dongle': '0.5', 'ephemeral-storage': '1Gi' },
    });
    expect(res.status).toBe(422);
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual([
      'spec.template.spec.containers[0].resources.limits["example.com/dongle"]',
      'spec.template.spec.containers[0].resources.requests["example.com/dongle"]',
    ]);
  });
});
