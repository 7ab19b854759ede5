import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * The scheduling fields of Kubernetes pod specs, through the API with simulated agents: node
 * labels as Kubernetes names them, node taints (POST /v1/nodes/{name}/taints) against
 * tolerations, required pod anti-affinity, node affinity, and the reasons a replica waits.
 */

const NS = '/v1/namespaces/default';

describe.each(DATABASE_KINDS)('scheduling fields with simulated agents on %s', (kind) => {
  let t: TestPlane;
  let fleets: SimFleet[] = [];
  beforeAll(async () => {
    t = await startTestPlane(kind, {
      BERTH_NODE_GRACE_SECONDS: '5',
      BERTH_BACKGROUND: '1',
      BERTH_RECONCILE_INTERVAL_MS: '200',
    });
  });
  afterEach(async () => {
    for (const fleet of fleets) {
      await fleet.stop();
      for (const a of fleet.agents) await t.call('DELETE', `/v1/nodes/${a.name}`);
    }
    fleets = [];
    const list = (await t.call('GET', `${NS}/deployments`)).body.items as { metadata: { name: string } }[];
    for (const d of list) await t.call('DELETE', `${NS}/deployments/${d.metadata.name}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  const agents = async (count: number, prefix: string, labels: Record<string, string> = {}) => {
    const fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count,
      fetch: t.fetch,
      prefix,
      options: { labels },
    });
    fleets.push(fleet);
    return fleet;
  };
  const deploy = (name: string, replicas: number, podSpec: Record<string, unknown>) =>
    t.call('PUT', `${NS}/deployments/${name}`, {
      apiVersion: 'berth.dev/v1',
      kind: 'Deployment',
      spec: {
        replicas,
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1' }], ...podSpec },
        },
      },
    });
  type ReplicaView = {
    id: string;
    node: string | null;
    phase: string;
    ready: boolean;
    message: string | null;
  };
  const replicas = async (name: string) =>
    (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as ReplicaView[];
  /** Waits until `placed` replicas run and the rest wait with a reason; returns both. */
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
  const taint = (node: string, change: unknown) => t.call('POST', `/v1/nodes/${node}/taints`, change);

  it('labels nodes with their host name as Kubernetes does, which a node cannot claim for itself', async () => {
    await agents(1, 'lbl', { 'kubernetes.io/hostname': 'someone-else', 'kubernetes.io/arch': 'arm64' });
    const node = (await t.call('GET', '/v1/nodes/lbl-1')).body;
    expect(node.labels).toMatchObject({
      'kubernetes.io/hostname': 'lbl-1',
      'berth.dev/node': 'lbl-1',
      'kubernetes.io/arch': 'arm64',
    });
    expect(node.taints).toEqual([]);
  });

  it('keeps replicas off tainted nodes unless they tolerate the taint, and says which taint', async () => {
    await agents(3, 'tnt');
    for (const n of ['tnt-1', 'tnt-2']) {
      const res = await taint(n, { add: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }] });
      expect(res.status).toBe(200);
      expect(res.body.taints).toEqual([{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }]);
    }
    await deploy('plain', 2, {});
    const plain = await settled('plain', 2);
    expect(plain.running.map((r) => r.node)).toEqual(['tnt-3', 'tnt-3']);

    await deploy('picky', 1, { nodeSelector: { 'kubernetes.io/hostname': 'tnt-1' } });
    const waiting = await settled('picky', 0, 1);
    expect(waiting.pending[0]!.message).toBe(
      '0/3 nodes available: 2 node(s) had untolerated taint {dedicated: batch}, 1 does not match nodeSelector',
    );
    // Taking the taint off lets the waiting replica in without any other change.
    expect((await taint('tnt-1', { remove: [{ key: 'dedicated', effect: 'NoSchedule' }] })).status).toBe(200);
    const placed = await settled('picky', 1);
    expect(placed.running[0]!.node).toBe('tnt-1');

    await deploy('batch', 2, {
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['tnt-2'] }] },
            ],
          },
        },
      },
    });
    expect((await settled('batch', 2)).running.map((r) => r.node)).toEqual(['tnt-2', 'tnt-2']);
  });

  it('refuses taints it could not honour and removals of taints the node does not have, at their paths', async () => {
    await agents(1, 'bad');
    const noExecute = await taint('bad-1', { add: [{ key: 'k', effect: 'NoExecute' }] });
    expect(noExecute.status).toBe(422);
    expect(noExecute.body.errors.map((e: { path: string }) => e.path)).toEqual(['add[0].effect']);
    const missing = await taint('bad-1', { remove: [{ key: 'nope' }] });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ path: 'remove[0]', message: 'taint "nope" not found' }]);
    expect((await taint('nowhere', { add: [{ key: 'k', effect: 'NoSchedule' }] })).status).toBe(404);
    const viewer = await t.call('POST', '/v1/tokens', {
      name: 'sched-viewer',
      role: 'viewer',
      namespaces: ['default'],
    });
    const denied = await t.call('POST', '/v1/nodes/bad-1/taints', { add: [] }, viewer.body.token);
    expect(denied.status).toBe(403);
  });

  it('never puts two replicas with required anti-affinity on one node, and says why the last one waits', async () => {
    await agents(3, 'anti');
    await deploy('spread', 4, {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'spread' } }, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      },
    });
    const { running, pending } = await settled('spread', 3, 1);
    expect(running.map((r) => r.node).sort()).toEqual(['anti-1', 'anti-2', 'anti-3']);
    expect(pending[0]!.message).toBe("0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules");
    const events = (await t.call('GET', `${NS}/events?object=deployment/spread`)).body.items as {
      reason: string;
      message: string;
    }[];
    expect(events.find((e) => e.reason === 'FailedScheduling')?.message).toContain(
      "didn't match pod anti-affinity rules",
    );
    // A fourth node takes the fourth replica.
    await agents(1, 'anti-extra');
    const after = await settled('spread', 4);
    expect(new Set(after.running.map((r) => r.node)).size).toBe(4);
  });

  it('applies a Kubernetes manifest whose cache and web replicas each take their own host, web beside cache', async () => {
    await agents(3, 'co', { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
    const manifest = readFileSync(
      new URL('../fixtures/manifests/k8s/redis-cache-affinity.yaml', import.meta.url),
      'utf8',
    );
    const res = await t.plane.app.request('/v1/apply?namespace=default', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
      body: manifest,
    });
    expect(res.status).toBe(200);
    const cache = await settled('redis-cache', 3);
    const web = await settled('web-server', 3);
    expect(cache.running.map((r) => r.node).sort()).toEqual(['co-1', 'co-2', 'co-3']);
    expect(web.running.map((r) => r.node).sort()).toEqual(['co-1', 'co-2', 'co-3']);
  });
});
