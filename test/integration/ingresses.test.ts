import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaStatus } from '../../common/agent-protocol.ts';
import { loadIngressRoutes } from '../../workers/verbs/ingress-routes.ts';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, SimAgent } from '../support/sim-agents.ts';

/**
 * networking.k8s.io/v1 Ingress end to end in-process: the Deployment + Service + Ingress triple as
 * written for Kubernetes applies through /v1/apply, and the control plane's ingress routes each
 * request by host and path to the service port its rule names, on replicas that really answer.
 */

/** A simulated agent whose replicas answer HTTP on every container port: they echo the port and URL. */
class EchoAgent extends SimAgent {
  private readonly servers = new Map<string, Server>();

  protected override async sendReport(): Promise<void> {
    if (!this.token) return;
    const replicas: ReplicaStatus[] = [];
    for (const a of this.running()) {
      const containers = [];
      for (const [i, c] of a.containers.entries()) {
        const hostPorts = [];
        for (const p of c.ports)
          hostPorts.push({
            containerPort: p.containerPort,
            hostPort: await this.serve(a.id, p.containerPort),
          });
        containers.push({
          name: c.name,
          containerId: `echo-${a.id}-${i}`,
          state: 'running' as const,
          restartCount: 0,
          hostPorts,
        });
      }
      replicas.push({ id: a.id, phase: 'Running', ready: true, containers });
    }
    const res = await (this.options.fetch ?? fetch)(`${this.options.server}/v1/agent/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas }),
    });
    await res.body?.cancel();
    this.reports++;
  }

  private async serve(replica: string, containerPort: number): Promise<number> {
    const key = `${replica}:${containerPort}`;
    let server = this.servers.get(key);
    if (!server) {
      server = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ replica, containerPort, url: req.url }));
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      this.servers.set(key, server);
    }
    return (server.address() as AddressInfo).port;
  }

  override async stop(): Promise<void> {
    await super.stop();
    for (const s of this.servers.values()) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }
}

const triple = (ns: string, host: string) => [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'shop', namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'shop' } },
      template: {
        metadata: { labels: { app: 'shop' } },
        spec: {
          containers: [
            {
              name: 'shop',
              image: 'shop:1',
              ports: [
                { name: 'http', containerPort: 8080 },
                { name: 'admin', containerPort: 9090 },
              ],
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'shop', namespace: ns },
    spec: {
      selector: { app: 'shop' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'admin', port: 9000, targetPort: 9090 },
      ],
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'shop',
      namespace: ns,
      annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' },
    },
    spec: {
      ingressClassName: 'berth',
      rules: [
        {
          host,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } },
              {
                path: '/admin',
                pathType: 'Prefix',
                backend: { service: { name: 'shop', port: { name: 'admin' } } },
              },
              {
                path: '/missing',
                pathType: 'Exact',
                backend: { service: { name: 'nowhere', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  },
];

describe('Ingress', () => {
  let t: TestPlane;
  let agent: EchoAgent;
  beforeAll(async () => {
    t = await startTestPlane('pglite');
    const join = await t.call('POST', '/v1/join-tokens', {});
    agent = await new EchoAgent({
      server: t.server,
      joinToken: join.body.token,
      name: 'echo-1',
      fetch: t.fetch,
      heartbeatMs: 300,
      waitSeconds: 2,
    }).start();
  });
  afterAll(async () => {
    await agent?.stop();
    await t?.close();
  });

  const through = (host: string, path: string) =>
    t.plane.app.request(`http://${host}${path}`, { headers: { host } });
  const ingress = (host: string, paths: { path: string; pathType?: string; service?: string }[]) => ({
    spec: {
      rules: [
        {
          host,
          http: {
            paths: paths.map((p) => ({
              path: p.path,
              pathType: p.pathType ?? 'Prefix',
              backend: { service: { name: p.service ?? 'shop', port: { number: 80 } } },
            })),
          },
        },
      ],
    },
  });

  it('applies the Deployment + Service + Ingress triple and routes by path to the port each rule names', async () => {
    const applied = await t.call('POST', '/v1/apply', triple('shop', 'shop.test'));
    expect(applied.status).toBe(200);
    expect(applied.body.items.map((i: { kind: string; action: string }) => `${i.kind} ${i.action}`)).toEqual([
      'Deployment created',
      'Service created',
      'Ingress created',
    ]);
    expect((await t.call('POST', '/v1/apply', triple('shop', 'shop.test'))).body.items[2].action).toBe(
      'unchanged',
    );
    const replicas = await eventually(async () => {
      await t.plane.reconciler.tick();
      const items = (await t.call('GET', '/v1/namespaces/shop/replicas?deployment=shop')).body.items;
      return items.length === 2 && items.every((r: { ready: boolean }) => r.ready) ? items : undefined;
    });
    const echo = async (path: string) => {
      const res = await through('shop.test', path);
      expect(res.status, path).toBe(200);
      return (await res.json()) as { replica: string; containerPort: number; url: string };
    };
    expect(await echo('/')).toMatchObject({ containerPort: 8080, url: '/' });
    expect(await echo('/cart?id=1')).toMatchObject({ containerPort: 8080, url: '/cart?id=1' });
    expect(await echo('/admin')).toMatchObject({ containerPort: 9090 });
    expect(await echo('/admin/users')).toMatchObject({ containerPort: 9090, url: '/admin/users' });
    // A Prefix matches whole path elements only.
    expect(await echo('/administrator')).toMatchObject({ containerPort: 8080 });
    // Both replicas take turns.
    const seen = new Set([(await echo('/a')).replica, (await echo('/a')).replica]);
    expect([...seen].sort()).toEqual(replicas.map((r: { id: string }) => r.id).sort());

    const missing = await through('shop.test', '/missing');
    expect(missing.status).toBe(503);
    expect((await missing.json()).detail).toContain('service "shop/nowhere"');

    const stored = await t.call('GET', '/v1/namespaces/shop/ingresses/shop');
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      kind: 'Ingress',
      metadata: { annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' } },
      spec: { ingressClassName: 'berth', rules: [{ host: 'shop.test' }] },
    });
    const routes = await loadIngressRoutes(t.plane.handle.db);
    expect(routes).toEqual([
      { host: 'shop.test', path: '/', pathType: 'Prefix', namespace: 'shop', service: 'shop', port: 80 },
      {
        host: 'shop.test',
        path: '/admin',
        pathType: 'Prefix',
        namespace: 'shop',
        service: 'shop',
        port: 9000,
      },
    ]);
  });

  it('answers 404 for a routed host whose rules do not cover the path, and drops the routes of a deleted Ingress', async () => {
    expect(
      (await t.call('PUT', '/v1/namespaces/shop/ingresses/api', ingress('api.test', [{ path: '/app' }])))
        .status,
    ).toBe(201);
    expect((await through('api.test', '/app/x')).status).toBe(200);
    const other = await through('api.test', '/other');
    expect(other.status).toBe(404);
    expect((await other.json()).detail).toContain('no rule of host "api.test" matches path "/other"');
    expect((await t.call('DELETE', '/v1/namespaces/shop/ingresses/api')).status).toBe(200);
    // The host goes back to the API (which answers 404 for an unknown path of its own; `/api/...`
    // would be the Kubernetes API's).
    const gone = await through('api.test', '/app/x');
    expect(gone.headers.get('content-type')).toContain('problem+json');
    expect((await gone.json()).detail).not.toContain('api.test');
  });

  it('keeps a host in one namespace across services and ingresses; one namespace shares it by path', async () => {
    const taken = await t.call(
      'PUT',
      '/v1/namespaces/rival/ingresses/grab',
      ingress('shop.test', [{ path: '/x' }]),
    );
    expect(taken.status).toBe(409);
    expect(taken.body.errors).toEqual([
      { path: 'spec.rules[0].host', message: 'host "shop.test" is already used by another namespace' },
    ]);
    const svc = await t.call('PUT', '/v1/namespaces/rival/services/grab', {
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }], hosts: ['shop.test'] },
    });
    expect(svc.status).toBe(409);
    expect(svc.body.errors[0]).toMatchObject({ path: 'spec.hosts[0]' });
    // Same namespace: another path is fine, the same path and type is not.
    expect(
      (await t.call('PUT', '/v1/namespaces/shop/ingresses/more', ingress('shop.test', [{ path: '/more' }])))
        .status,
    ).toBe(201);
    const twice = await t.call(
      'PUT',
      '/v1/namespaces/shop/ingresses/twice',
      ingress('shop.test', [{ path: '/admin' }]),
    );
    expect(twice.status).toBe(409);
    expect(twice.body.errors).toEqual([
      {
        path: 'spec.rules[0].http.paths[0].path',
        message: 'host "shop.test" path "/admin" (Prefix) is already routed by ingress "shop/shop"',
      },
    ]);
    // An Exact rule on the same path is another rule.
    expect(
      (
        await t.call(
          'PUT',
          '/v1/namespaces/shop/ingresses/twice',
          ingress('shop.test', [{ path: '/admin', pathType: 'Exact' }]),
        )
      ).status,
    ).toBe(201);
    // A service of the same namespace with the host takes `/`, which the Ingress routes already.
    const root = await t.call('PUT', '/v1/namespaces/shop/services/root', {
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }], hosts: ['shop.test'] },
    });
    expect(root.status).toBe(409);
    expect(root.body.errors[0].message).toContain('ingress "shop/shop"');
    // A host a service of another namespace holds cannot be taken by an Ingress either.
    await t.call('PUT', '/v1/namespaces/rival/services/own', {
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }], hosts: ['rival.test'] },
    });
    expect(
      (await t.call('PUT', '/v1/namespaces/shop/ingresses/steal', ingress('rival.test', [{ path: '/' }])))
        .status,
    ).toBe(409);
  });

  it("holds a deployer to its namespace policy's hosts and nobody to the API's", async () => {
    const deployer = (
      await t.call('POST', '/v1/tokens', { name: 'tenant', role: 'deployer', namespaces: ['tenant'] })
    ).body.token as string;
    const refused = await t.call(
      'PUT',
      '/v1/namespaces/tenant/ingresses/web',
      ingress('tenant.test', [{ path: '/' }]),
      deployer,
    );
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].path).toBe('spec.rules[0].host');
    expect(refused.body.errors[0].message).toContain('namespace policy');
    await t.call('PUT', '/v1/namespaces/tenant/policy', { spec: { allowedHostSuffixes: ['tenant.test'] } });
    expect(
      (
        await t.call(
          'PUT',
          '/v1/namespaces/tenant/ingresses/web',
          ingress('app.tenant.test', [{ path: '/' }]),
          deployer,
        )
      ).status,
    ).toBe(201);
    const wildcard = await t.call(
      'PUT',
      '/v1/namespaces/tenant/ingresses/wild',
      ingress('*.tenant.test', [{ path: '/' }]),
      deployer,
    );
    expect(wildcard.status).toBe(422);
    expect(wildcard.body.errors[0].message).toContain('allowWildcardHosts');
    const api = await t.call(
      'PUT',
      '/v1/namespaces/tenant/ingresses/api',
      ingress('localhost', [{ path: '/' }]),
      ADMIN_TOKEN,
    );
    expect(api.status).toBe(422);
    expect(api.body.errors[0]).toMatchObject({ path: 'spec.rules[0].host' });
    expect(api.body.errors[0].message).toContain("API's own host name");
    // A viewer reads them; it does not write them.
    const viewer = (
      await t.call('POST', '/v1/tokens', { name: 'tv', role: 'viewer', namespaces: ['tenant'] })
    ).body.token as string;
    expect(
      (await t.call('GET', '/v1/namespaces/tenant/ingresses', undefined, viewer)).body.items,
    ).toHaveLength(1);
    expect((await t.call('DELETE', '/v1/namespaces/tenant/ingresses/web', undefined, viewer)).status).toBe(
      403,
    );
  });

  it('refuses fields it cannot honour at their path', async () => {
    const body = ingress('x.test', [{ path: '/' }]) as { spec: Record<string, unknown> };
    const res = await t.call('PUT', '/v1/namespaces/shop/ingresses/tls', {
      spec: { ...body.spec, ingressClassName: 'nginx', defaultBackend: {} },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'spec.defaultBackend',
      'spec.ingressClassName',
    ]);
    // A Secret for a host no rule routes: it would never be served.
    const tls = await t.call('PUT', '/v1/namespaces/shop/ingresses/tls', {
      spec: { ...body.spec, tls: [{ hosts: ['y.test'], secretName: 'x' }] },
    });
    expect(tls.status).toBe(422);
    expect(tls.body.errors.map((e: { path: string }) => e.path)).toEqual(['spec.tls[0].hosts[0]']);
    // This control plane serves no HTTPS of its own: a Secret for a host would not be served.
    const unserved = await t.call('PUT', '/v1/namespaces/shop/ingresses/tls', {
      spec: { ...body.spec, tls: [{ hosts: ['x.test'], secretName: 'x' }] },
    });
    expect(unserved.status).toBe(422);
    expect(unserved.body.errors).toEqual([
      { path: 'spec.tls', message: expect.stringMatching(/serves HTTPS itself/) },
    ]);
  });
});
