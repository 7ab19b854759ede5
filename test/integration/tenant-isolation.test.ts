import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * A deployer token is what a CI pipeline holds: it must not take the API's own host names, host
 * names its namespace's policy does not give it, the node's ports, or more than its quota.
 */
const API = 'berth.example.com';

describe('tenants against the API host, the namespace policy and the quotas', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  let deployer = '';
  let viewer = '';
  let outsider = '';

  beforeAll(async () => {
    t = await startTestPlane('pglite', { BERTH_PUBLIC_URL: `https://${API}` });
    const token = async (role: string, namespaces: string[]) =>
      (await t.call('POST', '/v1/tokens', { name: `${role}-${namespaces[0]}`, role, namespaces })).body.token;
    deployer = await token('deployer', ['team-a']);
    viewer = await token('viewer', ['team-a']);
    outsider = await token('deployer', ['team-b']);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'ti',
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  const service = (hosts: string[]) => ({ spec: { selector: { app: 'web' }, ports: [{ port: 80 }], hosts } });
  const request = async (
    method: string,
    path: string,
    init: { body?: string; type?: string; host?: string; token?: string },
  ) => {
    const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? ADMIN_TOKEN}` };
    if (init.type) headers['content-type'] = init.type;
    if (init.host) headers.host = init.host;
    const res = await t.plane.app.request(path, {
      method,
      headers,
      ...(init.body ? { body: init.body } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  const yamlService = (hosts: string) =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: greedy\n  annotations:\n    berth.dev/hosts: "${hosts}"\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n`;

  describe("the API's host names", () => {
    beforeAll(async () => {
      // Even a policy that hands the whole domain to team-a, wildcards included, leaves the API's name alone.
      const res = await t.call('PUT', '/v1/namespaces/team-a/policy', {
        spec: { allowedHostSuffixes: ['example.com'], allowWildcardHosts: true },
      });
      expect(res.status).toBe(201);
    });

    it.each([
      ['PUT', API],
      ['PUT with the Host header forged', API],
      ['PUT of a wildcard covering it', `*.example.com`],
      ['PUT by an admin', API],
    ])('refuses it: %s', async (how, host) => {
      const res = await request('PUT', '/v1/namespaces/team-a/services/greedy', {
        body: JSON.stringify(service(['shop.example.com', host])),
        type: 'application/json',
        token: how.includes('admin') ? ADMIN_TOKEN : deployer,
        ...(how.includes('forged') ? { host: 'x.invalid' } : {}),
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        { path: 'spec.hosts[1]', message: expect.stringContaining("the API's own host name") },
      ]);
    });

    it.each(['', '&dryRun=true'])('refuses it through POST /v1/apply%s', async (dry) => {
      const res = await request('POST', `/v1/apply?namespace=team-a${dry}`, {
        body: yamlService(`shop.example.com,${API}`),
        type: 'application/yaml',
        token: deployer,
      });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].path).toBe('spec.hosts[1]');
    });

    it('refuses localhost and IP addresses, which reach the API on its own machine', async () => {
      for (const host of ['localhost', 'api.localhost', '10.0.0.5']) {
        const res = await t.call('PUT', '/v1/namespaces/team-a/services/greedy', service([host]));
        expect(res.status, host).toBe(422);
      }
      expect((await t.call('GET', '/v1/namespaces/team-a/services/greedy')).status).toBe(404);
    });

    it('never routes an API host to a service, whatever the database holds', async () => {
      // As if a row got there anyway (an older release, a hand-made insert).
      await t.plane.deps.db.execute(
        `
        insert into services (id, namespace, name, labels, spec, hosts, generation, resource_version)
        values (gen_random_uuid(), 'team-a', 'planted', '{}',
          '{"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}], "hosts": ["${API}"]}',
          '["${API}"]', 1, 1)` as never,
      );
      const whoami = await request('GET', '/v1/whoami', { host: API });
      expect(whoami.status).toBe(200);
      expect(whoami.body.role).toBe('admin');
      expect((await request('GET', '/healthz', { host: API })).status).toBe(200);
    });
  });

  describe('the namespace policy', () => {
    it('gives a namespace without one no host names and no host ports', async () => {
      const host = await t.call(
        'PUT',
        '/v1/namespaces/team-b/services/web',
        service(['web.team-b.test']),
        outsider,
      );
      expect(host.status).toBe(422);
      expect(host.body.errors[0]).toEqual({
        path: 'spec.hosts[0]',
        message: expect.stringMatching(/not allowed in namespace "team-b".*no host names/),
      });
      const port = await t.call(
        'PUT',
        '/v1/namespaces/team-b/deployments/web',
        deploymentBody({ replicas: 0, spec: hostPortTemplate(8080) }),
        outsider,
      );
      expect(port.status).toBe(422);
      expect(port.body.errors[0].path).toBe('spec.template.spec.containers[0].ports[0].hostPort');
      // The same is fine for an admin.
      expect(
        (await t.call('PUT', '/v1/namespaces/team-b/services/web', service(['web.team-b.test']))).status,
      ).toBe(201);
    });

    it('lets deployers claim only within the allowed suffixes, and wildcards only where allowed', async () => {
      const set = await t.call('PUT', '/v1/namespaces/team-c/policy', {
        spec: { allowedHostSuffixes: ['team-c.example.net'], hostPorts: { min: 30000, max: 30010 } },
      });
      expect(set.status).toBe(201);
      const token = (
        await t.call('POST', '/v1/tokens', { name: 'c', role: 'deployer', namespaces: ['team-c'] })
      ).body.token;
      const put = (hosts: string[]) =>
        t.call('PUT', '/v1/namespaces/team-c/services/web', service(hosts), token);
      expect((await put(['shop.team-c.example.net', 'team-c.example.net'])).status).toBe(201);
      expect((await put(['evil-team-c.example.net'])).status).toBe(422);
      expect((await put(['*.team-c.example.net'])).body.errors[0].message).toMatch(
        /wildcard hosts are not allowed/,
      );
      const inRange = deploymentBody({ replicas: 0, spec: hostPortTemplate(30005) });
      expect((await t.call('PUT', '/v1/namespaces/team-c/deployments/web', inRange, token)).status).toBe(201);
      const outside = deploymentBody({ replicas: 0, spec: hostPortTemplate(22) });
      const refused = await t.call('PUT', '/v1/namespaces/team-c/deployments/web', outside, token);
      expect(refused.status).toBe(422);
      expect(refused.body.errors[0].message).toMatch(/host port 22 is outside 30000-30010/);
    });

    it("does not name another namespace's service when a host is taken", async () => {
      await t.call('PUT', '/v1/namespaces/team-d/services/secret-project', service(['taken.example.com']));
      const res = await t.call(
        'PUT',
        '/v1/namespaces/team-a/services/web',
        service(['taken.example.com']),
        deployer,
      );
      expect(res.status).toBe(409);
      expect(JSON.stringify(res.body)).not.toMatch(/team-d|secret-project/);
    });

    it("is read by the namespace's tokens and written by admins only, by PUT and by apply", async () => {
      expect(
        (await t.call('GET', '/v1/namespaces/team-a/policy', undefined, viewer)).body.spec
          .allowedHostSuffixes,
      ).toEqual(['example.com']);
      expect((await t.call('GET', '/v1/namespaces/team-a/policy', undefined, outsider)).status).toBe(403);
      const own = await t.call(
        'PUT',
        '/v1/namespaces/team-a/policy',
        { spec: { allowWildcardHosts: true } },
        deployer,
      );
      expect(own.status).toBe(403);
      const viaApply = await request('POST', '/v1/apply', {
        body: 'apiVersion: berth.dev/v1\nkind: NamespacePolicy\nmetadata: {name: team-a}\nspec: {allowedHostSuffixes: [com]}\n',
        type: 'application/yaml',
        token: deployer,
      });
      expect(viaApply.status).toBe(403);
      const byAdmin = await request('POST', '/v1/apply', {
        body: 'apiVersion: berth.dev/v1\nkind: NamespacePolicy\nmetadata: {name: team-e}\nspec: {quota: {replicas: 3}}\n',
        type: 'application/yaml',
      });
      expect(byAdmin.body.items).toEqual([
        { kind: 'NamespacePolicy', namespace: 'team-e', name: 'team-e', action: 'created' },
      ]);
      const defaulted = await t.call('GET', '/v1/namespaces/nobody/policy');
      expect(defaulted.body.metadata.annotations).toEqual({ 'berth.dev/default': 'true' });
      expect(defaulted.body.spec.defaultLimits).toEqual({ memory: '1Gi' });
    });
  });

  describe('quotas', () => {
    it('refuses a write that takes a total past its quota, for admins too, and lets a namespace shrink', async () => {
      await t.call('PUT', '/v1/namespaces/team-q/policy', {
        spec: { quota: { replicas: 3, memory: '300Mi' } },
      });
      const withMemory = (replicas: number) =>
        deploymentBody({
          replicas,
          spec: {
            template: {
              metadata: { labels: { app: 'web' } },
              spec: {
                containers: [{ name: 'web', image: 'web:1', resources: { requests: { memory: '100Mi' } } }],
              },
            },
          },
        });
      expect((await t.call('PUT', '/v1/namespaces/team-q/deployments/a', withMemory(2))).status).toBe(201);
      const over = await t.call('PUT', '/v1/namespaces/team-q/deployments/b', withMemory(2));
      expect(over.status).toBe(403);
      expect(over.body.code).toBe('FORBIDDEN');
      expect(over.body.detail).toMatch(
        /exceeded the quota of namespace "team-q".*replicas 4, over its quota of 3/,
      );
      expect((await t.call('GET', '/v1/namespaces/team-q/deployments/b')).status).toBe(404);
      expect((await t.call('PUT', '/v1/namespaces/team-q/deployments/b', withMemory(1))).status).toBe(201);
      const scaled = await t.call('PUT', '/v1/namespaces/team-q/deployments/a/scale', { replicas: 3 });
      expect(scaled.status).toBe(403);
      // Lowered below what runs: shrinking is still allowed, growing is not.
      await t.call('PUT', '/v1/namespaces/team-q/policy', { spec: { quota: { replicas: 1 } } });
      expect((await t.call('PUT', '/v1/namespaces/team-q/deployments/a/scale', { replicas: 1 })).status).toBe(
        200,
      );
    });
  });

  describe('default limits', () => {
    it('gives containers without memory limit or request the default their replica was created with', async () => {
      await t.call('PUT', '/v1/namespaces/team-l/deployments/web', deploymentBody({ replicas: 1 }));
      const limitOf = async (deployment: string) =>
        eventually(async () => {
          const a = fleet.agents[0]!.running().find(
            (r) => r.namespace === 'team-l' && r.deployment === deployment,
          );
          return a ? (a.containers[0]!.resources.memoryLimitBytes ?? 'none') : undefined;
        });
      expect(await limitOf('web')).toBe(2 ** 30);
      await t.call('PUT', '/v1/namespaces/team-l/policy', { spec: { defaultLimits: { memory: '256Mi' } } });
      await t.call('PUT', '/v1/namespaces/team-l/deployments/api', deploymentBody({ replicas: 1 }));
      expect(await limitOf('api')).toBe(256 * 2 ** 20);
      // The replica made before the change keeps its limit: a policy change restarts nothing.
      expect(await limitOf('web')).toBe(2 ** 30);
    });
  });
});

function hostPortTemplate(hostPort: number) {
  return {
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 8080, hostPort }] }] },
    },
  };
}
