import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AssignmentsResponse, MapService } from '../../common/agent-protocol.ts';
import {
  ADMIN_TOKEN,
  DATABASE_KINDS,
  deploymentBody,
  startTestPlane,
  type TestPlane,
} from '../support/plane.ts';
import { eventually, type SimFleet, sleep, startSimAgents } from '../support/sim-agents.ts';

const NS = '/v1/namespaces/default';

/**
 * The service map agents route by (AssignmentsResponse.services): every service with its ready
 * endpoints, the same for every node, and a poll that wakes when an endpoint changes anywhere.
 */
describe.each(DATABASE_KINDS)('the service map on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet | undefined;
  const unready = new Set<string>();
  beforeAll(async () => {
    t = await startTestPlane(kind, { BERTH_BACKGROUND: '1', BERTH_RECONCILE_INTERVAL_MS: '200' });
  });
  afterEach(async () => {
    await fleet?.stop();
    for (const a of fleet?.agents ?? []) await t.call('DELETE', `/v1/nodes/${a.name}`);
    fleet = undefined;
  });
  afterAll(async () => {
    await t?.close();
  });

  const start = async (count: number, prefix: string) => {
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count,
      fetch: t.fetch,
      prefix,
      options: {
        observe: (a) => ({ phase: 'Running', ready: !unready.has(a.id) }),
      },
    });
    return fleet;
  };
  const poll = async (token: string, etag?: string, wait = 0) => {
    const res = await t.plane.app.request(`/v1/agent/assignments${wait ? `?wait=${wait}` : ''}`, {
      headers: { authorization: `Bearer ${token}`, ...(etag ? { 'if-none-match': etag } : {}) },
    });
    return {
      status: res.status,
      etag: res.headers.get('etag') ?? undefined,
      body: res.status === 200 ? ((await res.json()) as AssignmentsResponse) : undefined,
    };
  };
  const serviceIn = (body: AssignmentsResponse | undefined, name: string): MapService | undefined =>
    body?.services?.services.find((s) => s.namespace === 'default' && s.name === name);

  it('lists every service with its ready endpoints and their host ports, the same for every node', async () => {
    const f = await start(2, 'map');
    await t.call('PUT', `${NS}/deployments/backend`, {
      ...deploymentBody({ replicas: 2, labels: { app: 'backend' } }),
      spec: {
        ...deploymentBody().spec,
        replicas: 2,
        template: {
          metadata: { labels: { app: 'backend' } },
          spec: {
            containers: [
              { name: 'web', image: 'registry.example.com/web:1', ports: [{ containerPort: 8080 }] },
            ],
          },
        },
      },
    });
    const put = await t.call('PUT', `${NS}/services/backend`, {
      spec: { selector: { app: 'backend' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    expect(put.status).toBeLessThan(300);
    const [a, b] = f.agents;
    const service = await eventually(
      async () => {
        const s = serviceIn((await poll(a!.token!)).body, 'backend');
        return s && s.endpoints.length === 2 ? s : undefined;
      },
      10_000,
      'two ready endpoints in the map',
    );
    expect(service).toMatchObject({ type: 'ClusterIP', ports: [{ protocol: 'TCP', port: 80 }] });
    for (const e of service.endpoints) {
      expect(e.address).toBe('127.0.0.1');
      expect(e.hostPorts).toHaveLength(1);
      expect(e.hostPorts[0]).toBeGreaterThan(0);
    }
    const other = (await poll(b!.token!)).body;
    expect(serviceIn(other, 'backend')).toEqual(service);
    expect(other?.services?.clusterDomain).toBe('cluster.local');
  });

  it("wakes every node's long-poll when a replica elsewhere stops being ready, and 304s while nothing changes", async () => {
    const f = await start(2, 'wake');
    const [a, b] = f.agents;
    await t.call('PUT', `${NS}/deployments/pinned`, {
      ...deploymentBody({ replicas: 1 }),
      spec: {
        ...deploymentBody().spec,
        replicas: 1,
        template: {
          metadata: { labels: { app: 'pinned' } },
          spec: {
            nodeSelector: { 'berth.dev/node': b!.name },
            containers: [
              { name: 'web', image: 'registry.example.com/web:1', ports: [{ containerPort: 8080 }] },
            ],
          },
        },
      },
    });
    await t.call('PUT', `${NS}/services/pinned`, {
      spec: { selector: { app: 'pinned' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    let ready = await eventually(
      async () => {
        const r = await poll(a!.token!);
        return serviceIn(r.body, 'pinned')?.endpoints.length === 1 ? r : undefined;
      },
      10_000,
      'the endpoint on the other node',
    );
    // Nothing new, the same version: 304. (A report still on its way, such as node b's replica
    // going from Starting to Running, may move the version once more first.)
    await eventually(
      async () => {
        const r = await poll(a!.token!, ready.etag);
        if (r.status === 304) return true;
        if (serviceIn(r.body, 'pinned')?.endpoints.length === 1) ready = r;
        return undefined;
      },
      10_000,
      'a poll with nothing new (304)',
    );
    const replica = serviceIn(ready.body, 'pinned')!.endpoints[0]!.replica;
    // Node a waits; node b's agent then reports its replica unready.
    const started = Date.now();
    let etag = ready.etag;
    const waiting = (async () => {
      for (;;) {
        const r = await poll(a!.token!, etag, 10);
        if (r.status === 200) {
          etag = r.etag;
          if (serviceIn(r.body, 'pinned')?.endpoints.length === 0) return Date.now() - started;
        }
      }
    })();
    await sleep(200);
    unready.add(replica);
    await b!.report();
    const ms = await waiting;
    // Woken by the change, not by the 10 s poll timeout.
    expect(ms).toBeLessThan(5000);
    unready.delete(replica);
  });
});
