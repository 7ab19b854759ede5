import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageReport } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimAgent, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * Usage through the agent route and back out as metrics.k8s.io, in-process on the real Postgres
 * server with simulated agents that report samples: what `kubectl top` reads (the real kubectl and
 * berth-agent sampling Docker drive it in test/e2e/kubectl-top.test.ts).
 */

const METRICS = '/apis/metrics.k8s.io/v1beta1';
const SAMPLED = '2026-12-06T00:00:15.000Z';

let t: TestPlane;
let fleet: SimFleet;
let deployer: string;
let viewer: string;

/** sim-1's containers use 12m and 64Mi each, sim-2's 30m and 100Ki; `quiet` is never sampled. */
function usageOf(agent: SimAgent): UsageReport {
  const first = agent.name === 'sim-1';
  return {
    node: {
      timestamp: SAMPLED,
      windowSeconds: 15,
      cpuNanoCores: first ? 1_500_000_000 : 250_000_000,
      memoryBytes: first ? 2 * 1024 ** 3 : 1024 ** 3,
    },
    replicas: agent
      .running()
      .filter((a) => a.deployment !== 'quiet')
      .map((a) => ({
        id: a.id,
        timestamp: SAMPLED,
        windowSeconds: 15.25,
        containers: a.containers.map((c) => ({
          name: c.name,
          cpuNanoCores: first ? 12_000_000 : 30_000_000,
          memoryBytes: first ? 64 * 1024 ** 2 : 100 * 1024,
        })),
      })),
  };
}

async function get(path: string, token: string = ADMIN_TOKEN) {
  const res = await t.plane.app.request(path, {
    headers: { accept: 'application/json', authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as any };
}

const names = (items: { metadata: { name: string } }[]) => items.map((i) => i.metadata.name).sort();

/** The pods of a namespace as the face names them, once all `count` run. */
async function podsOf(namespace: string, count: number): Promise<string[]> {
  return eventually(
    async () => {
      const { body } = await get(`/api/v1/namespaces/${namespace}/pods`);
      const running = body.items.filter((p: any) => p.status.phase === 'Running');
      return running.length === count ? names(running) : undefined;
    },
    60_000,
    `${count} running pods in ${namespace}`,
  );
}

beforeAll(async () => {
  t = await startTestPlane('postgres', {
    BERTH_BACKGROUND: '1',
    BERTH_RECONCILE_INTERVAL_MS: '200',
    // A node that stops reporting is NotReady after 3 s (the last test).
    BERTH_NODE_GRACE_SECONDS: '3',
  });
  fleet = await startSimAgents({
    server: t.server,
    adminToken: ADMIN_TOKEN,
    count: 2,
    fetch: t.fetch,
    options: { heartbeatMs: 200, usage: usageOf },
  });
  const put = async (ns: string, name: string, replicas: number) =>
    expect(
      (
        await t.call(
          'PUT',
          `/v1/namespaces/${ns}/deployments/${name}`,
          deploymentBody({ replicas, labels: { app: name } }),
        )
      ).status,
    ).toBe(201);
  await put('default', 'web', 3);
  await put('default', 'quiet', 1);
  await put('team-a', 'worker', 1);
  deployer = (await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['team-a'] }))
    .body.token;
  viewer = (await t.call('POST', '/v1/tokens', { name: 'eyes', role: 'viewer', namespaces: ['team-a'] })).body
    .token;
});

afterAll(async () => {
  await fleet?.stop();
  await t?.close();
});

describe('metrics.k8s.io', () => {
  it('is discovered where kubectl top looks: /apis, at v1beta1', async () => {
    const groups = (await get('/apis')).body.groups as {
      name: string;
      preferredVersion: { version: string };
    }[];
    expect(groups.find((g) => g.name === 'metrics.k8s.io')?.preferredVersion.version).toBe('v1beta1');
    const resources = (await get(METRICS)).body.resources as { name: string; kind: string }[];
    expect(resources.map((r) => [r.name, r.kind])).toEqual([
      ['pods', 'PodMetrics'],
      ['nodes', 'NodeMetrics'],
    ]);
  });

  it('asks agents for samples with their assignments', async () => {
    const agent = fleet.agents[0]!;
    const res = await t.plane.app.request('/v1/agent/assignments', {
      headers: { authorization: `Bearer ${agent.token}` },
    });
    expect(res.headers.get('x-usage-interval')).toBe('15');
    // On a 304 too: an agent resuming with its saved ETag learns it as well. (Pods are still being
    // placed: the node's version may move between two reads.)
    const unchanged = await eventually(
      async () => {
        const first = await t.plane.app.request('/v1/agent/assignments', {
          headers: { authorization: `Bearer ${agent.token}` },
        });
        await first.body?.cancel();
        const again = await t.plane.app.request('/v1/agent/assignments', {
          headers: { authorization: `Bearer ${agent.token}`, 'if-none-match': first.headers.get('etag')! },
        });
        return again.status === 304 ? again : undefined;
      },
      30_000,
      'an unchanged answer',
    );
    expect(unchanged.headers.get('x-usage-interval')).toBe('15');
  });

  it('serves the reported usage as PodMetrics named as the pods, and leaves out pods without a sample', async () => {
    const pods = await podsOf('default', 4);
    const metrics = await eventually(
      async () => {
        const { body } = await get(`${METRICS}/namespaces/default/pods`);
        return body.items.length === 3 ? body : undefined;
      },
      30_000,
      'the samples of web',
    );
    expect(metrics).toMatchObject({ apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetricsList' });
    const quiet = pods.filter((p) => p.startsWith('quiet'));
    expect(quiet).toHaveLength(1);
    expect(names(metrics.items)).toEqual(pods.filter((p) => !quiet.includes(p)));
    for (const item of metrics.items) {
      expect(item).toMatchObject({
        kind: 'PodMetrics',
        metadata: { namespace: 'default', labels: { app: 'web' } },
        timestamp: '2026-12-06T00:00:15Z',
        window: '15.25s',
      });
      expect([
        [{ name: 'web', usage: { cpu: '12m', memory: '64Mi' } }],
        [{ name: 'web', usage: { cpu: '30m', memory: '100Ki' } }],
      ]).toContainEqual(item.containers);
    }

    const one = await get(`${METRICS}/namespaces/default/pods/${metrics.items[0].metadata.name}`);
    expect(one.body).toMatchObject({
      kind: 'PodMetrics',
      metadata: { name: metrics.items[0].metadata.name },
    });
    const missing = await get(`${METRICS}/namespaces/default/pods/${quiet[0]}`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe(`pods.metrics.k8s.io "${quiet[0]}" not found`);

    expect(
      names((await get(`${METRICS}/namespaces/default/pods?labelSelector=app%3Dweb`)).body.items),
    ).toEqual(names(metrics.items));
    expect((await get(`${METRICS}/namespaces/default/pods?labelSelector=app%3Dnone`)).body.items).toEqual([]);

    // The same samples on /v1's replicas, for the dashboard: only where one arrived.
    const replicas = (await t.call('GET', '/v1/namespaces/default/replicas')).body.items as {
      id: string;
      usage?: { windowSeconds: number; containers: { name: string; cpuNanoCores: number }[] };
    }[];
    expect(replicas.find((r) => r.id === quiet[0])?.usage).toBeUndefined();
    const sampled = replicas.find((r) => r.id === metrics.items[0].metadata.name);
    expect(sampled?.usage).toMatchObject({ windowSeconds: 15.25, containers: [{ name: 'web' }] });
  });

  it('serves NodeMetrics for each node that sent a sample', async () => {
    const { body } = await eventually(
      async () => {
        const r = await get(`${METRICS}/nodes`);
        return r.body.items.length === 2 ? r : undefined;
      },
      30_000,
      'both nodes sampled',
    );
    expect(body.kind).toBe('NodeMetricsList');
    expect(body.items.map((n: any) => [n.metadata.name, n.usage, n.window])).toEqual([
      ['sim-1', { cpu: '1500m', memory: '2Gi' }, '15s'],
      ['sim-2', { cpu: '250m', memory: '1Gi' }, '15s'],
    ]);
    expect((await get(`${METRICS}/nodes/sim-2`)).body.usage.cpu).toBe('250m');
    expect((await get(`${METRICS}/nodes/nowhere`)).status).toBe(404);
    // Narrowed as nodes are: by label.
    expect(
      names((await get(`${METRICS}/nodes?labelSelector=kubernetes.io%2Fhostname%3Dsim-1`)).body.items),
    ).toEqual(['sim-1']);
  });

  it('keeps each namespace to the tokens that may read its pods', async () => {
    const [worker] = await podsOf('team-a', 1);
    await eventually(
      async () => (await get(`${METRICS}/namespaces/team-a/pods`)).body.items.length === 1,
      30_000,
      'the sample of worker',
    );
    for (const token of [deployer, viewer]) {
      const own = await get(`${METRICS}/namespaces/team-a/pods`, token);
      expect(own.status).toBe(200);
      expect(names(own.body.items)).toEqual([worker]);
      const other = await get(`${METRICS}/namespaces/default/pods`, token);
      expect(other.status).toBe(403);
      expect(other.body).toMatchObject({
        reason: 'Forbidden',
        details: { group: 'metrics.k8s.io', kind: 'pods' },
      });
      expect((await get(`${METRICS}/namespaces/default/pods/${worker}`, token)).status).toBe(403);
      // Every namespace at once (-A) needs a token for every namespace.
      expect((await get(`${METRICS}/pods`, token)).status).toBe(403);
      // Nodes: as `kubectl get nodes` is allowed to them.
      expect((await get(`${METRICS}/nodes`, token)).status).toBe((await get('/api/v1/nodes', token)).status);
    }
    const all = await get(`${METRICS}/pods`);
    expect(all.status).toBe(200);
    expect(new Set(all.body.items.map((i: any) => i.metadata.namespace))).toEqual(
      new Set(['default', 'team-a']),
    );
    // A node credential reads nothing here.
    expect((await get(`${METRICS}/nodes`, fleet.agents[0]!.token)).status).toBe(403);
  });

  it("ignores an agent's word about another node's replicas", async () => {
    const owner = fleet.agents[0]!;
    const [victim] = owner.running().filter((a) => a.deployment === 'web');
    expect(victim).toBeDefined();
    // Silent meanwhile, so that no report of its own could hide a sample written for it.
    await owner.stop();
    const rogue = fleet.agents[1]!;
    const res = await t.plane.app.request('/v1/agent/status', {
      method: 'POST',
      headers: { authorization: `Bearer ${rogue.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        replicas: rogue.running().map((a) => ({ id: a.id, phase: 'Running', ready: true })),
        usage: {
          replicas: [
            {
              id: victim!.id,
              timestamp: SAMPLED,
              windowSeconds: 1,
              containers: [{ name: 'web', cpuNanoCores: 4e12, memoryBytes: 1 }],
            },
          ],
        },
      }),
    });
    expect(res.status).toBe(204);
    const mine = await get(`${METRICS}/namespaces/default/pods/${victim!.id}`);
    expect(mine.body.containers).toEqual([{ name: 'web', usage: { cpu: '12m', memory: '64Mi' } }]);
    await owner.start();
  });

  it('refuses what metrics-server does not serve: a watch, a write, an unknown key in a report', async () => {
    expect((await get(`${METRICS}/namespaces/default/pods?watch=true`)).status).toBe(405);
    const del = await t.plane.app.request(`${METRICS}/nodes/sim-1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(del.status).toBe(405);
    const res = await t.plane.app.request('/v1/agent/status', {
      method: 'POST',
      headers: { authorization: `Bearer ${fleet.agents[0]!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: [], usage: { replicas: [], gpu: 1 } }),
    });
    expect(res.status).toBe(422);
  });

  it('shows nothing of a node that stopped reporting, as metrics-server shows nothing it cannot scrape', async () => {
    const gone = fleet.agents[1]!;
    const itsPods = gone.running().map((a) => a.id);
    expect(itsPods.length).toBeGreaterThan(0);
    await gone.stop();
    await eventually(
      async () => (await t.call('GET', '/v1/nodes/sim-2')).body.status === 'NotReady',
      30_000,
      'sim-2 to be NotReady',
    );
    expect(names((await get(`${METRICS}/nodes`)).body.items)).toEqual(['sim-1']);
    expect((await get(`${METRICS}/nodes/sim-2`)).status).toBe(404);
    const pods = [
      ...(await get(`${METRICS}/namespaces/default/pods`)).body.items,
      ...(await get(`${METRICS}/namespaces/team-a/pods`)).body.items,
    ].map((p: { metadata: { name: string } }) => p.metadata.name);
    expect(pods.length).toBeGreaterThan(0);
    for (const id of itsPods) expect(pods).not.toContain(id);
  });
});
