import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../db/rows.ts';
import {
  ADMIN_TOKEN,
  DATABASE_KINDS,
  deploymentBody,
  startTestPlane,
  type TestPlane,
} from '../support/plane.ts';
import { eventually, startSimAgents } from '../support/sim-agents.ts';

/**
 * Cluster IPs and node ports: assigned on create, kept by later applies that leave them out,
 * immutable (clusterIP), unique across the cluster (409), released on delete or on a type change.
 * Small ranges, so that "every address is different" and "the range is full" are quick to reach.
 */

const serviceBody = (spec: Record<string, unknown> = {}) => ({
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
});

const ipNumber = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

describe.each(DATABASE_KINDS)('service addresses on %s', (kind) => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane(kind, {
      BERTH_SERVICE_CIDR: '10.96.0.0/27',
      BERTH_NODE_PORT_RANGE: '30000-30029',
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  const put = (ns: string, name: string, body: unknown) =>
    t.call('PUT', `/v1/namespaces/${ns}/services/${name}`, body);
  const paths = (res: { body: { errors?: { path: string }[] } }) => res.body.errors?.map((e) => e.path);
  const freeAddress = async () => {
    const used = await t.plane.deps.db.execute(
      sql`select cluster_ip from services where cluster_ip is not null`,
    );
    const taken = new Set(rowsOf<{ cluster_ip: string }>(used).map((r) => r.cluster_ip));
    for (let i = 30; i > 0; i--) if (!taken.has(`10.96.0.${i}`)) return `10.96.0.${i}`;
    throw new Error('the test range is full');
  };

  it('assigns a cluster IP and node ports on create and keeps them across applies that leave them out', async () => {
    const created = await put('addr', 'web', serviceBody({ type: 'NodePort' }));
    expect(created.status).toBe(201);
    const { clusterIP, ports } = created.body.spec;
    // Inside 10.96.0.0/27, and neither its network (.0) nor its broadcast (.31) address.
    expect(ipNumber(clusterIP) - ipNumber('10.96.0.0')).toBeGreaterThan(0);
    expect(ipNumber(clusterIP) - ipNumber('10.96.0.0')).toBeLessThan(31);
    expect(ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(ports[0].nodePort).toBeLessThanOrEqual(30029);
    const again = await put('addr', 'web', serviceBody({ type: 'NodePort' }));
    expect(again.status).toBe(200);
    expect(again.body.metadata.resourceVersion).toBe('1');
    expect(again.body.spec).toEqual(created.body.spec);
    // What GET shows applies back unchanged (the round trip of `kubectl get -o yaml`).
    const shown = (await t.call('GET', '/v1/namespaces/addr/services/web')).body;
    const back = await put('addr', 'web', { spec: shown.spec });
    expect([back.status, back.body.metadata.resourceVersion]).toEqual([200, '1']);
    // A second port gets its own node port; the first keeps its own.
    const twoPorts = await put(
      'addr',
      'web',
      serviceBody({
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80, targetPort: 8080 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
    );
    expect(twoPorts.status).toBe(200);
    expect(twoPorts.body.spec.clusterIP).toBe(clusterIP);
    expect(twoPorts.body.spec.ports[0].nodePort).toBe(ports[0].nodePort);
    expect(twoPorts.body.spec.ports[1].nodePort).not.toBe(ports[0].nodePort);
  });

  it('refuses to change a cluster IP (422), one outside the range (422), and one or a node port another service holds (409)', async () => {
    // An address no earlier service was given (they are picked at random).
    const ip = await freeAddress();
    const first = await put('addr2', 'a', serviceBody({ type: 'LoadBalancer', clusterIP: ip }));
    expect(first.status).toBe(201);
    expect(first.body.spec.clusterIP).toBe(ip);
    const nodePort = first.body.spec.ports[0].nodePort as number;

    const change = await put(
      'addr2',
      'a',
      serviceBody({ type: 'LoadBalancer', clusterIP: await freeAddress() }),
    );
    expect(change.status).toBe(422);
    expect(change.body.errors).toEqual([
      { path: 'spec.clusterIP', message: expect.stringMatching(/field is immutable/) },
    ]);
    const toHeadless = await put('addr2', 'a', serviceBody({ clusterIP: 'None' }));
    expect([toHeadless.status, paths(toHeadless)]).toEqual([422, ['spec.clusterIP']]);

    for (const ip of ['10.96.0.0', '10.96.0.31', '10.97.0.5']) {
      const outside = await put('addr2', `out-${ip.replace(/\./g, '-')}`, serviceBody({ clusterIP: ip }));
      expect([outside.status, paths(outside)]).toEqual([422, ['spec.clusterIP']]);
    }
    const ipTaken = await put('other-ns', 'b', serviceBody({ clusterIP: ip }));
    expect(ipTaken.status).toBe(409);
    expect(ipTaken.body.errors).toEqual([
      { path: 'spec.clusterIP', message: `${ip} is already allocated to another service` },
    ]);
    const portTaken = await put(
      'other-ns',
      'b',
      serviceBody({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort }] }),
    );
    expect([portTaken.status, paths(portTaken)]).toEqual([409, ['spec.ports[0].nodePort']]);
    const portOutside = await put(
      'other-ns',
      'b',
      serviceBody({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 31000 }] }),
    );
    expect([portOutside.status, paths(portOutside)]).toEqual([422, ['spec.ports[0].nodePort']]);
    expect((await t.call('GET', '/v1/namespaces/other-ns/services/b')).status).toBe(404);

    // A type change to ClusterIP releases the node port; a delete releases the address.
    const toClusterIP = await put('addr2', 'a', serviceBody({}));
    expect(toClusterIP.status).toBe(200);
    expect(toClusterIP.body.spec.ports[0].nodePort).toBeUndefined();
    expect(toClusterIP.body.spec.clusterIP).toBe(ip);
    const takesPort = await put(
      'other-ns',
      'b',
      serviceBody({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort }] }),
    );
    expect(takesPort.status).toBe(201);
    expect((await t.call('DELETE', '/v1/namespaces/addr2/services/a')).status).toBe(200);
    const takesIP = await put('other-ns', 'c', serviceBody({ clusterIP: ip }));
    expect(takesIP.status).toBe(201);
    expect((await t.call('DELETE', '/v1/namespaces/other-ns/services/b')).status).toBe(200);
    const takesPortAgain = await put(
      'other-ns',
      'd',
      serviceBody({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort }] }),
    );
    expect(takesPortAgain.status).toBe(201);
  });

  it('gives a headless service and an ExternalName service no address', async () => {
    const headless = await put('addr3', 'db', serviceBody({ clusterIP: 'None' }));
    expect([headless.status, headless.body.spec.clusterIP]).toEqual([201, 'None']);
    const again = await put('addr3', 'db', serviceBody({}));
    expect([again.status, again.body.spec.clusterIP, again.body.metadata.resourceVersion]).toEqual([
      200,
      'None',
      '1',
    ]);
    const external = await put('addr3', 'ext', {
      spec: { type: 'ExternalName', externalName: 'db.example.com' },
    });
    expect(external.status).toBe(201);
    expect(external.body.spec).toEqual({
      type: 'ExternalName',
      externalName: 'db.example.com',
      ports: [],
      hosts: [],
    });
    // ExternalName → ClusterIP: an address is assigned then.
    const becomes = await put('addr3', 'ext', serviceBody({}));
    expect(becomes.body.spec.clusterIP).toMatch(/^10\.96\.0\./);
  });

  it('never gives two services applied at once the same address or node port', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => put('race', `svc-${i}`, serviceBody({ type: 'NodePort' }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    const ips = results.map((r) => r.body.spec.clusterIP as string);
    const nodePorts = results.map((r) => r.body.spec.ports[0].nodePort as number);
    expect(new Set(ips).size).toBe(8);
    expect(new Set(nodePorts).size).toBe(8);
  });

  it("gives a new replica Kubernetes' service variables, unless its pod sets enableServiceLinks: false", async () => {
    const sims = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'links',
      options: { labels: { fleet: 'links' }, heartbeatMs: 300 },
    });
    try {
      const redis = await put('links', 'redis-master', {
        spec: { selector: { app: 'redis' }, ports: [{ port: 6379 }] },
      });
      await put('links', 'headless', serviceBody({ clusterIP: 'None' }));
      await put('links', 'ext', { spec: { type: 'ExternalName', externalName: 'db.example.com' } });
      const ip = redis.body.spec.clusterIP as string;
      const deploy = async (name: string, podExtra: Record<string, unknown>) => {
        const body = deploymentBody({ replicas: 1, labels: { app: name } });
        Object.assign(body.spec.template.spec, { nodeSelector: { fleet: 'links' }, ...podExtra });
        body.spec.template.metadata.labels = { app: name };
        (body.spec as Record<string, unknown>).selector = { matchLabels: { app: name } };
        (body.spec.template.spec.containers[0] as Record<string, unknown>).env = [
          { name: 'REDIS_URL', value: 'redis://$(REDIS_MASTER_SERVICE_HOST):$(REDIS_MASTER_SERVICE_PORT)' },
        ];
        expect((await t.call('PUT', `/v1/namespaces/links/deployments/${name}`, body)).status).toBe(201);
        const a = await eventually(async () => sims.agents[0]!.running().find((x) => x.deployment === name));
        return Object.fromEntries(a.containers[0]!.env.map((e) => [e.name, e.value]));
      };
      const env = await deploy('linked', {});
      expect(env).toMatchObject({
        REDIS_MASTER_SERVICE_HOST: ip,
        REDIS_MASTER_SERVICE_PORT: '6379',
        REDIS_MASTER_PORT: `tcp://${ip}:6379`,
        REDIS_MASTER_PORT_6379_TCP: `tcp://${ip}:6379`,
        REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
        REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
        REDIS_MASTER_PORT_6379_TCP_ADDR: ip,
        REDIS_URL: `redis://${ip}:6379`,
      });
      // Headless and ExternalName services have no address to give.
      expect(Object.keys(env).filter((n) => n.startsWith('HEADLESS_') || n.startsWith('EXT_'))).toEqual([]);
      const unlinked = await deploy('unlinked', { enableServiceLinks: false });
      expect(Object.keys(unlinked).filter((n) => n.startsWith('REDIS_MASTER'))).toEqual([]);
      expect(unlinked.REDIS_URL).toBe('redis://$(REDIS_MASTER_SERVICE_HOST):$(REDIS_MASTER_SERVICE_PORT)');
    } finally {
      await sims.stop();
    }
  });

  it("stores a namespace's acceptServiceTrafficFrom and refuses a name that is no namespace's (422)", async () => {
    const path = '/v1/namespaces/addr4/policy';
    const set = await t.call('PUT', path, { spec: { acceptServiceTrafficFrom: ['shop', '*'] } });
    expect(set.status).toBeLessThan(300);
    expect((await t.call('GET', path)).body.spec.acceptServiceTrafficFrom).toEqual(['shop', '*']);
    const bad = await t.call('PUT', path, { spec: { acceptServiceTrafficFrom: ['Not A Namespace'] } });
    expect([bad.status, paths(bad)]).toEqual([422, ['spec.acceptServiceTrafficFrom[0]']]);
  });

  it('applies `kubectl get svc -o yaml` with its cluster IPs and node port, and again unchanged', async () => {
    // The fixture's addresses are in the default ranges; this plane's are smaller, so a plane of its own.
    const plane = await startTestPlane(kind);
    try {
      const yaml = readFileSync(
        new URL('../fixtures/manifests/kubectl-get-services.yaml', import.meta.url),
        'utf8',
      );
      const apply = async () => {
        const res = await plane.plane.app.request('/v1/apply', {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
          body: yaml,
        });
        return { status: res.status, body: await res.json() };
      };
      const first = await apply();
      expect(first.status).toBe(200);
      const lb = (await plane.call('GET', '/v1/namespaces/default/services/web-lb')).body.spec;
      expect([lb.type, lb.clusterIP, lb.ports[0].nodePort]).toEqual(['LoadBalancer', '10.96.12.35', 31234]);
      expect((await plane.call('GET', '/v1/namespaces/default/services/web')).body.spec.clusterIP).toBe(
        '10.96.12.34',
      );
      const again = await apply();
      expect(again.body.items.map((i: { action: string }) => i.action)).toEqual(['unchanged', 'unchanged']);
    } finally {
      await plane.close();
    }
  });

  it('gives a service stored before addresses existed its cluster IP on its next apply', async () => {
    await put('legacy', 'old', serviceBody({}));
    // As a service written before this version was stored: no clusterIP in its spec, none in its column.
    await t.plane.deps.db.execute(
      sql`update services set spec = spec - 'clusterIP', cluster_ip = null where namespace = 'legacy' and name = 'old'`,
    );
    expect((await t.call('GET', '/v1/namespaces/legacy/services/old')).body.spec.clusterIP).toBeUndefined();
    const again = await put('legacy', 'old', serviceBody({}));
    expect(again.status).toBe(200);
    expect(again.body.spec.clusterIP).toMatch(/^10\.96\.0\./);
  });

  it('gives such a service its cluster IP from the controller, never applied again', async () => {
    await put('legacy', 'idle', serviceBody({}));
    await t.plane.deps.db.execute(
      sql`update services set spec = spec - 'clusterIP', cluster_ip = null where namespace = 'legacy' and name = 'idle'`,
    );
    await t.plane.reconciler.tick();
    const got = (await t.call('GET', '/v1/namespaces/legacy/services/idle')).body;
    expect(got.spec.clusterIP).toMatch(/^10\.96\.0\./);
    // Once assigned, a tick finds nothing more to do for it.
    const version = got.metadata.resourceVersion;
    await t.plane.reconciler.tick();
    expect((await t.call('GET', '/v1/namespaces/legacy/services/idle')).body.metadata.resourceVersion).toBe(
      version,
    );
  });

  it("takes node ports for a deployer's services only where the namespace policy allows them", async () => {
    const token = (
      await t.call('POST', '/v1/tokens', { name: 'ci-np', role: 'deployer', namespaces: ['np'] })
    ).body.token as string;
    const asDeployer = (name: string, body: unknown) =>
      t.call('PUT', `/v1/namespaces/np/services/${name}`, body, token);
    const refused = await asDeployer('open', serviceBody({ type: 'NodePort' }));
    expect(refused.status).toBe(422);
    expect(paths(refused)).toEqual(['spec.type']);
    expect(refused.body.errors[0].message).toMatch(/allowNodePorts/);
    // A LoadBalancer is its hosts at the ingress, with no node port.
    const lb = await asDeployer('lb', serviceBody({ type: 'LoadBalancer' }));
    expect(lb.status).toBe(201);
    expect(lb.body.spec.allocateLoadBalancerNodePorts).toBe(false);
    expect(lb.body.spec.ports[0].nodePort).toBeUndefined();
    expect(lb.body.spec.clusterIP).toMatch(/^10\.96\.0\./);
    // Allowed by an admin: node ports as for anyone.
    expect(
      (await t.call('PUT', '/v1/namespaces/np/policy', { spec: { allowNodePorts: true } })).status,
    ).toBeLessThan(300);
    const allowed = await asDeployer('open', serviceBody({ type: 'NodePort' }));
    expect(allowed.status).toBe(201);
    expect(allowed.body.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
  });
});
