import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { ReplicaStatus } from '../../common/agent-protocol.ts';
import { nodes } from '../../db/schema/index.ts';
import { ingressServer } from '../../workers/nodejs/ingress-server.ts';
import { freshPostgres, TEST_DATABASE_URL } from '../support/databases.ts';
import {
  ADMIN_TOKEN,
  DATABASE_KINDS,
  deploymentBody,
  startTestPlane,
  type TestPlane,
} from '../support/plane.ts';
import {
  eventually,
  SimAgent,
  type SimAgentOptions,
  type SimFleet,
  sleep,
  startSimAgents,
} from '../support/sim-agents.ts';

const NS = '/v1/namespaces/default';

/**
 * A simulated agent whose replicas really answer HTTP: each container port of each running
 * replica is a small server on 127.0.0.1 that echoes who it is and what it received, and the
 * agent reports those as the replica's host ports. `unready` replicas report ready=false;
 * `kill(id)` closes a replica's servers while the agent still reports it ready (a stale endpoint).
 */
class BackendAgent extends SimAgent {
  readonly servers = new Map<string, Map<number, Server>>();
  readonly unready = new Set<string>();
  private silent = false;

  override cutNetwork(): void {
    this.silent = true;
    super.cutNetwork();
  }
  override heal(): void {
    this.silent = false;
    super.heal();
  }

  protected override async sendReport(): Promise<void> {
    if (!this.token || this.silent) return;
    const replicas: ReplicaStatus[] = [];
    for (const a of this.running()) {
      const ports = await this.serve(
        a.id,
        a.containers.flatMap((c) => c.ports.map((p) => p.containerPort)),
      );
      replicas.push({
        id: a.id,
        phase: 'Running',
        ready: !this.unready.has(a.id),
        containers: a.containers.map((c, i) => ({
          name: c.name,
          containerId: `be-${a.id}-${i}`,
          state: 'running',
          restartCount: 0,
          hostPorts: c.ports.map((p) => ({
            containerPort: p.containerPort,
            hostPort: ports.get(p.containerPort)!,
          })),
        })),
      });
    }
    const res = await (this.options.fetch ?? fetch)(`${this.options.server}/v1/agent/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas }),
    });
    await res.body?.cancel();
    this.reports++;
  }

  private async serve(id: string, containerPorts: number[]): Promise<Map<number, number>> {
    const own = this.servers.get(id) ?? new Map<number, Server>();
    this.servers.set(id, own);
    const out = new Map<number, number>();
    for (const cp of containerPorts) {
      let server = own.get(cp);
      if (!server) {
        server = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            if (req.url === '/gzip') {
              res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
              return void res.end(gzipSync(`compressed by ${id}`));
            }
            res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
            res.setHeader('content-type', 'application/json');
            res.setHeader('x-replica', id);
            res.end(
              JSON.stringify({
                replica: id,
                containerPort: cp,
                method: req.method,
                url: req.url,
                headers: req.headers,
                body: Buffer.concat(chunks).toString(),
              }),
            );
          });
        });
        // WebSocket: echo each message with the replica's id and the handshake's headers.
        const wss = new WebSocketServer({ noServer: true });
        server.on('upgrade', (req, socket, head) =>
          wss.handleUpgrade(req, socket, head, (ws) =>
            ws.on('message', (m) =>
              ws.send(JSON.stringify({ replica: id, url: req.url, headers: req.headers, echo: String(m) })),
            ),
          ),
        );
        await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
        own.set(cp, server);
      }
      out.set(cp, (server.address() as AddressInfo).port);
    }
    return out;
  }

  async kill(id: string): Promise<void> {
    for (const s of this.servers.get(id)?.values() ?? []) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    for (const id of this.servers.keys()) await this.kill(id);
  }
}

async function startBackendAgents(
  t: TestPlane,
  count: number,
  prefix: string,
  options: Partial<SimAgentOptions> = {},
) {
  const res = await t.call('POST', '/v1/join-tokens', { maxUses: count });
  const agents = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new BackendAgent({
        server: t.server,
        joinToken: res.body.token,
        name: `${prefix}-${i + 1}`,
        labels: { fleet: prefix },
        fetch: t.fetch,
        heartbeatMs: 300,
        waitSeconds: 2,
        ...options,
      }).start(),
    ),
  );
  return {
    agents,
    async stop() {
      await Promise.all(agents.map((a) => a.stop()));
    },
  };
}

/** A deployment of `app: web` placed only on the nodes of one test's fleet (nodes of earlier tests linger). */
function pinned(fleet: string, replicas: number) {
  const body = deploymentBody({ replicas });
  (body.spec.template.spec as Record<string, unknown>).nodeSelector = { fleet };
  return body;
}

const serviceBody = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'berth.dev/v1',
  kind: 'Service',
  metadata,
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
});

describe.each(DATABASE_KINDS)('services and ingress on %s', (kind) => {
  let t: TestPlane;
  let fleet: { stop(): Promise<void> } | undefined;
  beforeAll(async () => {
    t = await startTestPlane(kind, { BERTH_NODE_GRACE_SECONDS: '2' });
  });
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });
  afterAll(async () => {
    await t?.close();
  });

  const token = async (role: string, namespaces: string[]) =>
    (await t.call('POST', '/v1/tokens', { name: `${role}-${namespaces.join('-')}`, role, namespaces })).body
      .token as string;
  /** A request as a browser would send it to the control plane's address with a service's Host. */
  const through = (host: string, path = '/', init: RequestInit = {}) =>
    t.plane.app.request(`http://${host}${path}`, {
      ...init,
      headers: { host, ...(init.headers as Record<string, string>) },
    });
  const endpoints = async (ns: string, name: string) =>
    (await t.call('GET', `/v1/namespaces/${ns}/services/${name}/endpoints`)).body.items as {
      replica: string;
      node: string;
      address: string;
      port: number;
      ports?: { name?: string; port: number; hostPort: number }[];
    }[];
  const replicas = async (ns: string, name: string) =>
    (await t.call('GET', `/v1/namespaces/${ns}/replicas?deployment=${name}`)).body.items as {
      id: string;
      desired: string;
      ready: boolean;
      phase: string;
    }[];
  const deployReady = async (ns: string, name: string, body: unknown, count: number) => {
    const put = await t.call('PUT', `/v1/namespaces/${ns}/deployments/${name}`, body);
    expect(put.status).toBeLessThan(300);
    return eventually(
      async () => {
        const list = await replicas(ns, name);
        return list.length === count && list.every((r) => r.ready && r.desired === 'running')
          ? list
          : undefined;
      },
      15_000,
      `${ns}/${name} to have ${count} ready replicas`,
    );
  };

  describe('the Service object', () => {
    it('creates (201), reads, lists, and a same apply is a no-op', async () => {
      const put = await t.call(
        'PUT',
        `${NS}/services/crud`,
        serviceBody({ hosts: ['crud.test'] }, { labels: { team: 'a' } }),
      );
      expect(put.status).toBe(201);
      expect(put.body).toMatchObject({
        apiVersion: 'berth.dev/v1',
        kind: 'Service',
        metadata: {
          name: 'crud',
          namespace: 'default',
          labels: { team: 'a' },
          resourceVersion: '1',
          generation: 1,
        },
        spec: {
          selector: { app: 'web' },
          ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
          hosts: ['crud.test'],
        },
      });
      expect(put.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      const again = await t.call(
        'PUT',
        `${NS}/services/crud`,
        serviceBody({ hosts: ['crud.test'] }, { labels: { team: 'a' } }),
      );
      expect(again.status).toBe(200);
      expect(again.body.metadata).toMatchObject({ resourceVersion: '1', generation: 1 });
      expect((await t.call('GET', `${NS}/services/crud`)).body).toEqual(put.body);
      const list = await t.call('GET', `${NS}/services?labelSelector=team=a`);
      expect(list.body).toMatchObject({ kind: 'ServiceList', items: [{ metadata: { name: 'crud' } }] });
      expect((await t.call('GET', `${NS}/services?labelSelector=team=b`)).body.items).toEqual([]);
    });

    it('bumps generation on a spec change and only resourceVersion on a label change', async () => {
      await t.call('PUT', `${NS}/services/gen`, serviceBody({}));
      const spec = await t.call('PUT', `${NS}/services/gen`, serviceBody({ hosts: ['gen.test'] }));
      expect(spec.body.metadata).toMatchObject({ resourceVersion: '2', generation: 2 });
      const labels = await t.call(
        'PUT',
        `${NS}/services/gen`,
        serviceBody({ hosts: ['gen.test'] }, { labels: { x: 'y' } }),
      );
      expect(labels.body.metadata).toMatchObject({ resourceVersion: '3', generation: 2 });
    });

    it('enforces metadata.resourceVersion (409) and refuses it on create', async () => {
      await t.call('PUT', `${NS}/services/occ`, serviceBody({}));
      const stale = await t.call(
        'PUT',
        `${NS}/services/occ`,
        serviceBody({ hosts: ['occ.test'] }, { resourceVersion: '7' }),
      );
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({ code: 'CONFLICT', status: 409 });
      expect(stale.headers.get('content-type')).toBe('application/problem+json');
      const ok = await t.call(
        'PUT',
        `${NS}/services/occ`,
        serviceBody({ hosts: ['occ.test'] }, { resourceVersion: '1' }),
      );
      expect(ok.status).toBe(200);
      const create = await t.call('PUT', `${NS}/services/occ-new`, serviceBody({}, { resourceVersion: '1' }));
      expect(create.status).toBe(409);
      expect((await t.call('GET', `${NS}/services/occ-new`)).status).toBe(404);
    });

    it('rejects invalid specs with JSON paths (422) and malformed JSON (400)', async () => {
      const bad = await t.call('PUT', `${NS}/services/bad`, {
        metadata: { name: 'other' },
        spec: { selector: {}, ports: [{ port: 0 }], hosts: ['Not A Host'] },
      });
      expect(bad.status).toBe(422);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
      expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(
        expect.arrayContaining(['spec.selector', 'spec.ports[0].port', 'spec.hosts[0]']),
      );
      const name = await t.call('PUT', `${NS}/services/bad`, serviceBody({}, { name: 'other' }));
      expect(name.status).toBe(422);
      expect(name.body.errors).toEqual([
        { path: 'metadata.name', message: 'must match the name in the URL ("bad")' },
      ]);
      expect((await t.call('PUT', `${NS}/services/bad`, '{"spec":')).status).toBe(400);
      expect((await t.call('GET', `${NS}/services/bad`)).status).toBe(404);
    });

    it("keeps hosts unique across services and namespaces (409, never naming another namespace's service)", async () => {
      expect(
        (await t.call('PUT', `${NS}/services/holder`, serviceBody({ hosts: ['shared.test'] }))).status,
      ).toBe(201);
      const taken = await t.call(
        'PUT',
        '/v1/namespaces/other/services/taker',
        serviceBody({ hosts: ['mine.test', 'shared.test'] }),
      );
      expect(taken.status).toBe(409);
      expect(taken.body).toMatchObject({
        code: 'CONFLICT',
        detail: 'host "shared.test" is already used by a service in another namespace',
        errors: [
          {
            path: 'spec.hosts[1]',
            message: 'host "shared.test" is already used by a service in another namespace',
          },
        ],
      });
      expect((await t.call('GET', '/v1/namespaces/other/services/taker')).status).toBe(404);
      // The holder itself may re-apply, and once it lets go the host is free.
      expect(
        (await t.call('PUT', `${NS}/services/holder`, serviceBody({ hosts: ['shared.test', 'b.test'] })))
          .status,
      ).toBe(200);
      await t.call('PUT', `${NS}/services/holder`, serviceBody({ hosts: [] }));
      expect(
        (await t.call('PUT', '/v1/namespaces/other/services/taker', serviceBody({ hosts: ['shared.test'] })))
          .status,
      ).toBe(201);
    });

    it('settles concurrent claims of one host on a single winner', async () => {
      const results = await Promise.all(
        ['race-a', 'race-b', 'race-c'].map((n) =>
          t.call('PUT', `${NS}/services/${n}`, serviceBody({ hosts: ['race.test'] })),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    });

    it("refuses the API's own host names, whatever Host the request came by", async () => {
      // localhost is always one of the API's hosts; the request's own Host proves nothing.
      const res = await t.plane.app.request(`${NS}/services/greedy`, {
        method: 'PUT',
        headers: {
          host: 'x.invalid',
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(serviceBody({ hosts: ['shop.test', 'localhost'] })),
      });
      expect(res.status).toBe(422);
      expect((await res.json()).errors[0].path).toBe('spec.hosts[1]');
    });

    it('deletes (then 404) and checks roles', async () => {
      await t.call('PUT', '/v1/namespaces/team-a/services/gone', serviceBody({}));
      const viewer = await token('viewer', ['team-a']);
      const deployer = await token('deployer', ['team-b']);
      expect((await t.call('GET', '/v1/namespaces/team-a/services/gone', undefined, viewer)).status).toBe(
        200,
      );
      expect(
        (await t.call('GET', '/v1/namespaces/team-a/services/gone/endpoints', undefined, viewer)).status,
      ).toBe(200);
      expect((await t.call('DELETE', '/v1/namespaces/team-a/services/gone', undefined, viewer)).status).toBe(
        403,
      );
      expect(
        (await t.call('PUT', '/v1/namespaces/team-a/services/gone', serviceBody({}), viewer)).status,
      ).toBe(403);
      expect((await t.call('GET', '/v1/namespaces/team-a/services', undefined, deployer)).status).toBe(403);
      expect((await t.call('GET', '/v1/namespaces/team-a/services/gone', undefined, null)).status).toBe(401);
      const del = await t.call('DELETE', '/v1/namespaces/team-a/services/gone');
      expect(del.status).toBe(200);
      expect(del.body.metadata.name).toBe('gone');
      expect((await t.call('GET', '/v1/namespaces/team-a/services/gone')).status).toBe(404);
      expect((await t.call('DELETE', '/v1/namespaces/team-a/services/gone')).body.code).toBe('NOT_FOUND');
    });
  });

  describe('endpoints', () => {
    it('lists ready matching replicas with node address and published port, by number or by name', async () => {
      const f = await startBackendAgents(t, 2, 'ep');
      fleet = f;
      const body = pinned('ep', 3);
      body.spec.template.spec.containers[0]!.ports = [
        { name: 'http', containerPort: 8080 },
        { name: 'metrics', containerPort: 9090 },
      ] as never;
      await t.call('PUT', '/v1/namespaces/ep/services/web', serviceBody({}));
      await t.call('PUT', '/v1/namespaces/ep/services/named', {
        spec: {
          selector: { app: 'web' },
          ports: [
            { name: 'metrics', port: 9100, targetPort: 'metrics' },
            { name: 'http', port: 80, targetPort: 'http' },
          ],
        },
      });
      await t.call('PUT', '/v1/namespaces/ep/services/other', {
        spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] },
      });
      const list = await deployReady('ep', 'web', body, 3);
      const items = await endpoints('ep', 'web');
      expect(items.map((e) => e.replica).sort()).toEqual(list.map((r) => r.id).sort());
      const hostPort = (replica: string, containerPort: number) => {
        const agent = f.agents.find((a) => a.servers.has(replica))!;
        return (agent.servers.get(replica)!.get(containerPort)!.address() as AddressInfo).port;
      };
      for (const e of items) {
        expect(e.address).toBe('127.0.0.1');
        expect(e.node).toMatch(/^ep-[12]$/);
        expect(e.port).toBe(hostPort(e.replica, 8080));
      }
      const named = await endpoints('ep', 'named');
      expect(named).toHaveLength(3);
      for (const e of named) {
        // The main port is the one named "http", whatever its position.
        expect(e.port).toBe(hostPort(e.replica, 8080));
        expect(e.ports).toEqual([
          { name: 'metrics', port: 9100, hostPort: hostPort(e.replica, 9090) },
          { name: 'http', port: 80, hostPort: hostPort(e.replica, 8080) },
        ]);
      }
      expect(await endpoints('ep', 'other')).toEqual([]);
      expect((await t.call('GET', '/v1/namespaces/ep/services/none/endpoints')).status).toBe(404);
    });

    it('leaves out unready replicas, replicas told to stop, and replicas on nodes that are not Ready', async () => {
      const f = await startBackendAgents(t, 2, 'filt');
      fleet = f;
      await t.call('PUT', '/v1/namespaces/filt/services/web', serviceBody({}));
      const list = await deployReady('filt', 'web', pinned('filt', 4), 4);
      expect(await endpoints('filt', 'web')).toHaveLength(4);

      // Readiness: one replica fails its probe.
      const sick = list[0]!.id;
      const owner = f.agents.find((a) => a.running().some((r) => r.id === sick))!;
      // (A report the agent had already sent may land after this one: each is checked once the
      // latest report has landed, as an agent's next report would.)
      owner.unready.add(sick);
      await eventually(async () => {
        await owner.report();
        return !(await endpoints('filt', 'web')).some((e) => e.replica === sick);
      });
      owner.unready.delete(sick);
      await eventually(async () => {
        await owner.report();
        return (await endpoints('filt', 'web')).length === 4;
      });

      // Stop: with the agents silent, replicas told to stop still report ready, yet leave at once.
      for (const a of f.agents) a.cutNetwork();
      await t.call('PUT', '/v1/namespaces/filt/deployments/web/scale', { replicas: 1 });
      const stopping = await eventually(async () => {
        const rs = await replicas('filt', 'web');
        const stopped = rs.filter((r) => r.desired === 'stopped');
        return stopped.length === 3 ? stopped : undefined;
      });
      // Terminating; most still show the readiness last reported (a report already on its way when
      // the network was cut may have cleared it), and none is an endpoint any more.
      expect(stopping.every((r) => r.phase === 'Terminating')).toBe(true);
      const remaining = await endpoints('filt', 'web');
      expect(remaining).toHaveLength(1);
      const lastNode = remaining[0]!.node;

      // Node: the remaining replica's node stops heartbeating and is marked NotReady. This plane
      // ticks only when told: a sweep now and one after the grace period, as a running one would
      // (a sweep after a long gap starts the grace period again, see node-sweep.ts).
      await t.plane.reconciler.tick();
      await sleep(2500);
      await t.plane.reconciler.tick();
      const left = await endpoints('filt', 'web').catch(() => []);
      const [node] = await t.plane.deps.db.select().from(nodes).where(eq(nodes.name, lastNode));
      expect(node!.status).not.toBe('Ready');
      expect(left).toEqual([]);
      for (const a of f.agents) a.heal();
    });
  });

  describe('ingress', () => {
    it('proxies requests for a service host round robin to every ready replica, with forwarding headers', async () => {
      fleet = await startBackendAgents(t, 3, 'in');
      await t.call(
        'PUT',
        '/v1/namespaces/in/services/web',
        serviceBody({ hosts: ['web.test', '*.apps.test'] }),
      );
      const list = await deployReady('in', 'web', pinned('in', 3), 3);
      t.plane.deps.clientAddress = () => '198.51.100.4';
      try {
        const seen: string[] = [];
        for (let i = 0; i < 6; i++) {
          const res = await through('web.test', '/cgi-bin/whoami?q=1', {
            headers: { 'x-forwarded-for': '6.6.6.6', connection: 'x-hop', 'x-hop': '1', 'keep-alive': '5' },
          });
          expect(res.status).toBe(200);
          const echo = await res.json();
          seen.push(echo.replica);
          expect(echo.url).toBe('/cgi-bin/whoami?q=1');
          expect(echo.headers).toMatchObject({
            'x-forwarded-for': '198.51.100.4',
            'x-forwarded-proto': 'http',
            'x-forwarded-host': 'web.test',
          });
          expect(echo.headers['x-hop']).toBeUndefined();
          expect(echo.headers['keep-alive']).toBeUndefined();
        }
        const counts = new Map<string, number>();
        for (const r of seen) counts.set(r, (counts.get(r) ?? 0) + 1);
        expect([...counts.keys()].sort()).toEqual(list.map((r) => r.id).sort());
        expect([...counts.values()]).toEqual([2, 2, 2]);
      } finally {
        t.plane.deps.clientAddress = undefined;
      }
      // A wildcard host, another port in the Host header, upper case: same service.
      const wild = await through('Shop.Apps.Test:8080', '/');
      expect(wild.status).toBe(200);
      expect((await wild.json()).headers['x-forwarded-host']).toBe('Shop.Apps.Test:8080');
      // A request body streams through, and the answer's status and headers come back.
      const post = await through('web.test', '/upload', { method: 'POST', body: 'x'.repeat(200_000) });
      const echoed = await post.json();
      expect(echoed.method).toBe('POST');
      expect(echoed.body).toHaveLength(200_000);
      expect(post.headers.get('x-replica')).toBe(echoed.replica);
    });

    it('keeps the API answering on its own host, and sends even /v1 paths of a service host to the service', async () => {
      fleet = await startBackendAgents(t, 1, 'own');
      await t.call('PUT', '/v1/namespaces/own/services/web', serviceBody({ hosts: ['own.test'] }));
      await deployReady('own', 'web', pinned('own', 1), 1);
      expect((await t.plane.app.request('/healthz', { headers: { host: 'localhost:8080' } })).status).toBe(
        200,
      );
      expect((await t.call('GET', '/v1/namespaces/own/services/web')).status).toBe(200);
      const captured = await through('own.test', '/v1/namespaces/own/services/web');
      expect(captured.status).toBe(200);
      expect((await captured.json()).url).toBe('/v1/namespaces/own/services/web');
    });

    it('stops routing to a replica as soon as it turns unready, and retries a refused connection elsewhere', async () => {
      const f = await startBackendAgents(t, 2, 'rdy');
      fleet = f;
      await t.call('PUT', '/v1/namespaces/rdy/services/web', serviceBody({ hosts: ['rdy.test'] }));
      const list = await deployReady('rdy', 'web', pinned('rdy', 3), 3);
      const hits = async (n: number) => {
        const out: string[] = [];
        for (let i = 0; i < n; i++) {
          const res = await through('rdy.test');
          expect(res.status).toBe(200);
          out.push((await res.json()).replica);
        }
        return out;
      };
      await hits(3);
      const sick = list[0]!.id;
      const owner = f.agents.find((a) => a.running().some((r) => r.id === sick))!;
      owner.unready.add(sick);
      await owner.report();
      // No TTL to wait out: the status report went through this process and dropped the cache.
      expect(await hits(6)).not.toContain(sick);
      owner.unready.delete(sick);
      await owner.report();
      // Back in rotation: all three answer again, soon (a bound for a loaded machine, not a latency goal).
      const back = new Set<string>();
      for (const deadline = Date.now() + 10_000; back.size < 3 && Date.now() < deadline; ) {
        for (const r of await hits(3)) back.add(r);
        if (back.size < 3) await new Promise((r) => setTimeout(r, 50));
      }
      expect(back.size).toBe(3);

      // A replica that died without its agent noticing yet: idempotent requests never see it.
      await owner.kill(sick);
      expect(await hits(9)).not.toContain(sick);
    });

    it('answers 503 problem+json when no endpoint is ready, and stops routing once the service is deleted', async () => {
      await t.call('PUT', '/v1/namespaces/empty/services/web', serviceBody({ hosts: ['empty.test'] }));
      const res = await through('empty.test', '/');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
      expect((await t.call('DELETE', '/v1/namespaces/empty/services/web')).status).toBe(200);
      const after = await through('empty.test', '/no-such-page');
      expect(after.status).toBe(404);
      expect(await after.json()).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('ingress on the Node server (native proxy and WebSocket pass-through)', () => {
    let url: string;
    let port: number;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const server = serve({
        fetch: t.plane.app.fetch,
        port: 0,
        hostname: '127.0.0.1',
        createServer: ingressServer(t.plane.deps),
      });
      await new Promise((r) => server.once('listening', r));
      port = (server.address() as AddressInfo).port;
      url = `http://127.0.0.1:${port}`;
      close = () =>
        new Promise((r) => {
          (server as Server).closeAllConnections();
          server.close(() => r());
        });
    });
    afterAll(async () => {
      await close?.();
    });
    const socket = (host: string, path = '/chat') =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host } });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      });
    /** node:http, which (unlike fetch) sends Host and hop-by-hop headers as given. */
    const get = (
      host: string,
      path = '/',
      o: { headers?: Record<string, string>; method?: string; body?: string } = {},
    ) =>
      new Promise<{
        status: number;
        headers: Record<string, string | string[] | undefined>;
        bytes: Buffer;
        json: () => any;
      }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { host, ...o.headers } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const bytes = Buffer.concat(chunks);
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                bytes,
                json: () => JSON.parse(String(bytes)),
              });
            });
          },
        );
        req.on('error', reject);
        req.end(o.body);
      });
    const say = (ws: WebSocket, text: string) =>
      new Promise<{ replica: string; url: string; headers: Record<string, string>; echo: string }>(
        (resolve) => {
          ws.once('message', (m) => resolve(JSON.parse(String(m))));
          ws.send(text);
        },
      );

    it('proxies round robin with the same header rules, streams bodies, and passes encodings through', async () => {
      const f = await startBackendAgents(t, 3, 'nd');
      fleet = f;
      await t.call('PUT', '/v1/namespaces/nd/services/web', serviceBody({ hosts: ['node.test'] }));
      const list = await deployReady('nd', 'web', pinned('nd', 3), 3);
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await get('node.test', '/who?x=1', {
          headers: {
            'x-forwarded-for': '6.6.6.6',
            connection: 'x-hop',
            'x-hop': '1',
            'proxy-authorization': 'x',
          },
        });
        expect(res.status).toBe(200);
        expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
        const echo = res.json();
        seen.push(echo.replica);
        expect(echo.url).toBe('/who?x=1');
        expect(echo.headers).toMatchObject({
          'x-forwarded-for': '127.0.0.1',
          'x-forwarded-proto': 'http',
          'x-forwarded-host': 'node.test',
        });
        expect(echo.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(echo.headers['x-hop']).toBeUndefined();
        expect(echo.headers['proxy-authorization']).toBeUndefined();
      }
      expect(new Set(seen)).toEqual(new Set(list.map((r) => r.id)));
      const post = await get('node.test', '/up', { method: 'POST', body: 'y'.repeat(300_000) });
      expect(post.json().body).toHaveLength(300_000);
      // No decoding on this path: the compressed bytes and their Content-Encoding pass through.
      const gz = await get('node.test', '/gzip');
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.bytes).toString()).toMatch(/^compressed by web-/);
      // The control plane's own host still reaches the API.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // A replica that died unnoticed: idempotent requests go elsewhere.
      const victim = list[0]!.id;
      await f.agents.find((a) => a.servers.has(victim))!.kill(victim);
      for (let i = 0; i < 6; i++) {
        const res = await get('node.test', '/after');
        expect(res.status).toBe(200);
        expect(res.json().replica).not.toBe(victim);
      }
    });

    it('passes WebSockets through to the replicas, round robin, and refuses them without endpoints', async () => {
      fleet = await startBackendAgents(t, 2, 'ws');
      await t.call('PUT', '/v1/namespaces/ws/services/web', serviceBody({ hosts: ['ws.test'] }));
      const list = await deployReady('ws', 'web', pinned('ws', 2), 2);
      const a = await socket('ws.test', '/chat?room=1');
      const b = await socket('ws.test', '/chat?room=1');
      const fromA = await say(a, 'hello');
      const fromB = await say(b, 'again');
      expect(fromA).toMatchObject({ url: '/chat?room=1', echo: 'hello' });
      expect(fromA.headers).toMatchObject({ 'x-forwarded-host': 'ws.test', 'x-forwarded-for': '127.0.0.1' });
      expect(new Set([fromA.replica, fromB.replica])).toEqual(new Set(list.map((r) => r.id)));
      expect((await say(a, 'still there')).replica).toBe(fromA.replica);
      a.close();
      b.close();
      await t.call('PUT', '/v1/namespaces/ws/services/none', {
        spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }], hosts: ['none.test'] },
      });
      await expect(socket('none.test')).rejects.toThrow('HTTP 503');
      // An upgrade request that is not for a service is an ordinary request to the API.
      await expect(socket('127.0.0.1', '/healthz')).rejects.toThrow('HTTP 200');
    });
  });

  describe('discovery', () => {
    it('gives containers BERTH_SERVICE_<NAME>_URL/_HOST of services that existed when they were created', async () => {
      const sims: SimFleet = await startSimAgents({
        server: t.server,
        adminToken: ADMIN_TOKEN,
        count: 1,
        fetch: t.fetch,
        prefix: 'disc',
        options: { labels: { fleet: 'disc' }, heartbeatMs: 300 },
      });
      fleet = sims;
      await t.call(
        'PUT',
        '/v1/namespaces/disc/services/api-gw',
        serviceBody({ hosts: ['*.wild.test', 'api.disc.test'] }),
      );
      await t.call('PUT', '/v1/namespaces/disc/services/internal', serviceBody({}));
      await t.call(
        'PUT',
        '/v1/namespaces/other-ns/services/elsewhere',
        serviceBody({ hosts: ['elsewhere.test'] }),
      );
      const body = pinned('disc', 1);
      (body.spec.template.spec.containers[0] as Record<string, unknown>).env = [
        { name: 'BERTH_SERVICE_API_GW_HOST', value: 'mine' },
      ] as never;
      await t.call('PUT', '/v1/namespaces/disc/deployments/app', body);
      const envOf = async () => {
        const a = await eventually(async () => sims.agents[0]!.running().find((x) => x.namespace === 'disc'));
        return Object.fromEntries(a.containers[0]!.env.map((e) => [e.name, e.value]));
      };
      const env = await envOf();
      const berth = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('BERTH_')));
      expect(berth).toEqual({
        BERTH_SERVICE_API_GW_HOST: 'mine',
        BERTH_SERVICE_API_GW_URL: 'http://api.disc.test',
      });
      // Kubernetes' variables of every service of the namespace with a cluster IP, never another namespace's.
      const ip = (await t.call('GET', '/v1/namespaces/disc/services/internal')).body.spec.clusterIP;
      expect(env).toMatchObject({
        INTERNAL_SERVICE_HOST: ip,
        INTERNAL_SERVICE_PORT: '80',
        INTERNAL_SERVICE_PORT_HTTP: '80',
        INTERNAL_PORT: `tcp://${ip}:80`,
        INTERNAL_PORT_80_TCP_ADDR: ip,
        API_GW_SERVICE_PORT: '80',
      });
      expect(Object.keys(env).filter((n) => n.startsWith('ELSEWHERE'))).toEqual([]);
      // A service created later leaves running replicas as they are (their containers are not replaced).
      await t.call('PUT', '/v1/namespaces/disc/services/late', serviceBody({ hosts: ['late.test'] }));
      await t.call('PUT', '/v1/namespaces/disc/deployments/app/scale', { replicas: 2 });
      await eventually(
        async () => sims.agents[0]!.running().filter((x) => x.namespace === 'disc').length === 2,
      );
      const all = sims.agents[0]!.running().filter((x) => x.namespace === 'disc');
      const envs = all.map((a) => Object.fromEntries(a.containers[0]!.env.map((e) => [e.name, e.value])));
      expect(envs.filter((e) => e.BERTH_SERVICE_LATE_URL === 'http://late.test')).toHaveLength(1);
      expect(envs.filter((e) => e.BERTH_SERVICE_LATE_URL === undefined)).toHaveLength(1);
    });
  });
});

/**
 * Postgres behind a proxy that can blackhole: connections are accepted and never answered, the
 * worst kind of outage (each query waits for the driver's connect timeout).
 */
async function blackholeProxy(target: URL) {
  let hole = false;
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    if (hole) return;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    blackhole() {
      hole = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      hole = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('ingress while the database is away (Postgres behind a blackholing proxy)', () => {
  let t: TestPlane;
  let proxy: Awaited<ReturnType<typeof blackholeProxy>>;
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let fleet: { stop(): Promise<void> } | undefined;
  beforeAll(async () => {
    db = await freshPostgres();
    proxy = await blackholeProxy(new URL(TEST_DATABASE_URL));
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    // 'pglite' only means "no database of its own": DATABASE_URL points it at the proxied one.
    t = await startTestPlane('pglite', { DATABASE_URL: url.toString() });
  });
  afterAll(async () => {
    proxy?.restore();
    await fleet?.stop();
    await t?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('keeps routing to the replicas it knew, and keeps the API host answering, without waiting on the database', async () => {
    fleet = await startBackendAgents(t, 2, 'away');
    await t.call('PUT', '/v1/namespaces/away/services/web', serviceBody({ hosts: ['away.test'] }));
    await t.call('PUT', '/v1/namespaces/away/deployments/web', pinned('away', 2));
    await eventually(async () => {
      const res = await t.plane.app.request('http://away.test/', { headers: { host: 'away.test' } });
      return res.status === 200;
    }, 15_000);
    proxy.blackhole();
    const started = Date.now();
    const timings: number[] = [];
    while (Date.now() - started < 5000) {
      const t0 = performance.now();
      const res = await t.plane.app.request('http://away.test/x', { headers: { host: 'away.test' } });
      timings.push(performance.now() - t0);
      expect(res.status).toBe(200);
      await sleep(100);
    }
    // Only the first request after the outage began waited (≤ 0.5 s for the routing table and
    // ≤ 0.5 s for the endpoints); then the last known state is used without asking again. A
    // request that asked the blackholed database again would wait out those bounds each time, so
    // the signature of a regression is many slow requests, not one slow one on a busy machine.
    expect(timings.filter((ms) => ms >= 450).length).toBeLessThanOrEqual(2);
    expect((await t.plane.app.request('/healthz')).status).toBe(200);
    proxy.restore();
  });
});
