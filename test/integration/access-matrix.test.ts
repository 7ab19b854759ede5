import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putChallenge } from '../../workers/certificates/store.ts';
import { freshPostgres } from '../support/databases.ts';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.ts';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { dropDatabase, type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually, SimAgent, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * Who may do what (API.md "Tokens and roles"), route by route: every route of /openapi.json
 * (plus the operational ones) called by every kind of caller, against the real app on Postgres.
 * Exactly the allowed calls succeed (2xx, with fixtures arranged so that an allowed call has
 * something to act on); the others get 401 (no, unknown, revoked or expired token) or 403.
 */
type Who =
  | 'admin'
  | 'deployer-in'
  | 'deployer-out'
  | 'viewer-in'
  | 'viewer-out'
  | 'node'
  | 'revoked'
  | 'expired'
  | 'none';
const WHO: Who[] = [
  'admin',
  'deployer-in',
  'deployer-out',
  'viewer-in',
  'viewer-out',
  'node',
  'revoked',
  'expired',
  'none',
];
const NS = 'team-a';

/**
 * The expected matrix. Namespaced routes are called in team-a: "-in" tokens hold team-a, "-out"
 * tokens hold team-b only. Deployers read what viewers read (replicas, events) and write
 * deployments, services, secrets, configmaps, persistentvolumeclaims, serviceaccounts, ingresses, jobs and cronjobs; viewers never
 * see secrets (configmaps, claims and serviceaccounts they read). A node credential reaches only
 * /v1/agent/* (and /v1/whoami, which names the caller and nothing else). Two readings where
 * API.md is silent: cluster-scoped node reads (GET /v1/nodes) are open to every user token, as
 * the dashboard shows nodes to everyone signed in; cluster events (GET /v1/events, node events)
 * are admin-only like the rest of node management.
 */
type Access = 'public' | 'any' | 'users' | 'admin' | 'node' | { read: string } | { write: string };
const ROUTES: Record<string, Access> = {
  'PUT /v1/namespaces/{ns}/deployments/{name}': { write: 'deployments' },
  'GET /v1/namespaces/{ns}/deployments/{name}': { read: 'deployments' },
  'DELETE /v1/namespaces/{ns}/deployments/{name}': { write: 'deployments' },
  'PATCH /v1/namespaces/{ns}/deployments/{name}': { write: 'deployments' },
  'GET /v1/namespaces/{ns}/deployments': { read: 'deployments' },
  'PUT /v1/namespaces/{ns}/deployments/{name}/scale': { write: 'deployments' },
  'POST /v1/namespaces/{ns}/deployments/{name}/rollback': { write: 'deployments' },
  'POST /v1/namespaces/{ns}/deployments/{name}/pause': { write: 'deployments' },
  'POST /v1/namespaces/{ns}/deployments/{name}/resume': { write: 'deployments' },
  'GET /v1/namespaces/{ns}/deployments/{name}/revisions': { read: 'deployments' },
  'PUT /v1/namespaces/{ns}/services/{name}': { write: 'services' },
  'GET /v1/namespaces/{ns}/services/{name}': { read: 'services' },
  'DELETE /v1/namespaces/{ns}/services/{name}': { write: 'services' },
  'GET /v1/namespaces/{ns}/services': { read: 'services' },
  'GET /v1/namespaces/{ns}/services/{name}/endpoints': { read: 'services' },
  'PUT /v1/namespaces/{ns}/secrets/{name}': { write: 'secrets' },
  'GET /v1/namespaces/{ns}/secrets/{name}': { read: 'secrets' },
  'DELETE /v1/namespaces/{ns}/secrets/{name}': { write: 'secrets' },
  'GET /v1/namespaces/{ns}/secrets': { read: 'secrets' },
  // ConfigMaps hold configuration, not secrets: viewers read them (as in Kubernetes' view role).
  'PUT /v1/namespaces/{ns}/configmaps/{name}': { write: 'configmaps' },
  'GET /v1/namespaces/{ns}/configmaps/{name}': { read: 'configmaps' },
  'DELETE /v1/namespaces/{ns}/configmaps/{name}': { write: 'configmaps' },
  'GET /v1/namespaces/{ns}/configmaps': { read: 'configmaps' },
  'PUT /v1/namespaces/{ns}/persistentvolumeclaims/{name}': { write: 'persistentvolumeclaims' },
  'GET /v1/namespaces/{ns}/persistentvolumeclaims/{name}': { read: 'persistentvolumeclaims' },
  'DELETE /v1/namespaces/{ns}/persistentvolumeclaims/{name}': { write: 'persistentvolumeclaims' },
  'GET /v1/namespaces/{ns}/persistentvolumeclaims': { read: 'persistentvolumeclaims' },
  'PUT /v1/namespaces/{ns}/serviceaccounts/{name}': { write: 'serviceaccounts' },
  'GET /v1/namespaces/{ns}/serviceaccounts/{name}': { read: 'serviceaccounts' },
  'DELETE /v1/namespaces/{ns}/serviceaccounts/{name}': { write: 'serviceaccounts' },
  'GET /v1/namespaces/{ns}/serviceaccounts': { read: 'serviceaccounts' },
  'PUT /v1/namespaces/{ns}/ingresses/{name}': { write: 'ingresses' },
  'GET /v1/namespaces/{ns}/ingresses/{name}': { read: 'ingresses' },
  'DELETE /v1/namespaces/{ns}/ingresses/{name}': { write: 'ingresses' },
  'GET /v1/namespaces/{ns}/ingresses': { read: 'ingresses' },
  'PUT /v1/namespaces/{ns}/jobs/{name}': { write: 'jobs' },
  'GET /v1/namespaces/{ns}/jobs/{name}': { read: 'jobs' },
  'DELETE /v1/namespaces/{ns}/jobs/{name}': { write: 'jobs' },
  'GET /v1/namespaces/{ns}/jobs': { read: 'jobs' },
  'PUT /v1/namespaces/{ns}/cronjobs/{name}': { write: 'cronjobs' },
  'GET /v1/namespaces/{ns}/cronjobs/{name}': { read: 'cronjobs' },
  'DELETE /v1/namespaces/{ns}/cronjobs/{name}': { write: 'cronjobs' },
  'GET /v1/namespaces/{ns}/cronjobs': { read: 'cronjobs' },
  'POST /v1/apply': { write: 'deployments' },
  // A namespace's tokens read the policy in force there (to know what they may do); admins write.
  'PUT /v1/namespaces/{ns}/policy': 'admin',
  'GET /v1/namespaces/{ns}/policy': { read: 'policies' },
  'DELETE /v1/namespaces/{ns}/policy': 'admin',
  // Namespaces are cluster-scoped: deleting one (and everything in it) is an admin's.
  'DELETE /v1/namespaces/{ns}': 'admin',
  'GET /v1/policies': 'admin',
  'GET /v1/namespaces/{ns}/replicas': { read: 'replicas' },
  'GET /v1/namespaces/{ns}/replicas/{id}/logs': { read: 'replicas' },
  'GET /v1/namespaces/{ns}/events': { read: 'events' },
  'GET /v1/events': 'admin',
  'POST /v1/agent/register': 'public',
  'GET /v1/agent/assignments': 'node',
  'POST /v1/agent/status': 'node',
  'POST /v1/agent/logs': 'node',
  'POST /v1/agent/released-claims': 'node',
  'GET /v1/agent/certificates': 'node',
  'GET /v1/agent/acme-challenges/{token}': 'node',
  'GET /v1/nodes': 'users',
  'GET /v1/nodes/{name}': 'users',
  'DELETE /v1/nodes/{name}': 'admin',
  'POST /v1/nodes/{name}/cordon': 'admin',
  'POST /v1/nodes/{name}/uncordon': 'admin',
  'POST /v1/nodes/{name}/drain': 'admin',
  'POST /v1/nodes/{name}/taints': 'admin',
  'POST /v1/nodes/{name}/reset': 'admin',
  'POST /v1/tokens': 'admin',
  'GET /v1/tokens': 'admin',
  'DELETE /v1/tokens/{id}': 'admin',
  'POST /v1/join-tokens': 'admin',
  'GET /v1/join-tokens': 'admin',
  'DELETE /v1/join-tokens/{id}': 'admin',
  // Trust rules decide who gets tokens: admins only, as tokens are. The exchange carries no bearer
  // token (an identity token in its body), so every caller's succeeds alike.
  'PUT /v1/trustrules/{name}': 'admin',
  'GET /v1/trustrules/{name}': 'admin',
  'DELETE /v1/trustrules/{name}': 'admin',
  'GET /v1/trustrules': 'admin',
  'POST /v1/tokens/exchange': 'public',
  'GET /v1/namespaces': 'users',
  // Any user token: the list holds only its namespaces' hosts.
  'GET /v1/certificates': 'users',
  'GET /v1/whoami': 'any',
  // Not in /openapi.json: operational and documentation routes, open to everyone.
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'GET /openapi.json': 'public',
  'GET /docs': 'public',
};
const OPERATIONAL = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json', 'GET /docs'];

function expected(access: Access, who: Who): 'ok' | 401 | 403 {
  if (access === 'public') return 'ok';
  if (who === 'none' || who === 'revoked' || who === 'expired') return 401;
  if (access === 'any') return 'ok';
  if (access === 'node') return who === 'node' ? 'ok' : 403;
  if (who === 'node') return 403;
  if (access === 'users') return 'ok';
  if (access === 'admin') return who === 'admin' ? 'ok' : 403;
  if (who === 'admin') return 'ok';
  if (who === 'deployer-out' || who === 'viewer-out') return 403;
  if ('write' in access) return who === 'deployer-in' ? 'ok' : 403;
  return who === 'deployer-in' || access.read !== 'secrets' ? 'ok' : 403;
}

describe('access matrix: every route × every caller, on Postgres', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  const tokens = new Map<Who, string | null>();
  let joinToken = '';
  let issuer: TestIssuer;
  let identityToken = '';
  let replicaId = '';
  const fixtures = new Map<string, string>();

  beforeAll(async () => {
    issuer = await startTestIssuer();
    t = await startTestPlane('postgres', { BERTH_OIDC_ISSUERS: issuer.url });
    identityToken = await issuer.sign();
    t.plane.deps.clientAddress = (c) => c.req.header('x-matrix-client') ?? 'matrix';
    const create = async (body: object) => {
      const res = await t.call('POST', '/v1/tokens', body);
      expect(res.status).toBe(201);
      return res.body as { id: string; token: string };
    };
    tokens.set('admin', ADMIN_TOKEN);
    tokens.set('deployer-in', (await create({ name: 'd-in', role: 'deployer', namespaces: [NS] })).token);
    tokens.set(
      'deployer-out',
      (await create({ name: 'd-out', role: 'deployer', namespaces: ['team-b'] })).token,
    );
    tokens.set('viewer-in', (await create({ name: 'v-in', role: 'viewer', namespaces: [NS] })).token);
    tokens.set('viewer-out', (await create({ name: 'v-out', role: 'viewer', namespaces: ['team-b'] })).token);
    const revoked = await create({ name: 'revoked', role: 'admin' });
    expect((await t.call('DELETE', `/v1/tokens/${revoked.id}`)).status).toBe(204);
    tokens.set('revoked', revoked.token);
    const expired = await create({ name: 'expired', role: 'admin', expiresInSeconds: 60 });
    await t.plane.handle.db.execute(
      `update tokens set expires_at = now() - interval '1 second' where id = '${expired.id}'` as never,
    );
    tokens.set('expired', expired.token);
    tokens.set('none', null);

    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'matrix',
    });
    tokens.set('node', fleet.agents[0]!.token);
    // One token registers every fixture node and every caller's registration.
    joinToken = (await t.call('POST', '/v1/join-tokens', { maxUses: 100 })).body.token;

    // Shared objects in team-a that reads and idempotent writes act on.
    expect(
      (await t.call('PUT', `/v1/namespaces/${NS}/deployments/web`, deploymentBody({ replicas: 1 }))).status,
    ).toBe(201);
    expect(
      (
        await t.call('PUT', `/v1/namespaces/${NS}/services/svc`, {
          spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
        })
      ).status,
    ).toBe(201);
    expect((await t.call('PUT', `/v1/namespaces/${NS}/secrets/sec`, { data: { k: 'v' } })).status).toBe(201);
    expect((await t.call('PUT', `/v1/namespaces/${NS}/configmaps/cm`, { data: { k: 'v' } })).status).toBe(
      201,
    );
    expect((await t.call('PUT', `/v1/namespaces/${NS}/serviceaccounts/sa`, {})).status).toBe(201);
    // Ingress hosts within the namespace's policy, so a deployer's writes are judged by role alone
    // (the policy route's own calls, later in the matrix, replace it).
    expect(
      (await t.call('PUT', `/v1/namespaces/${NS}/policy`, { spec: { allowedHostSuffixes: ['matrix.test'] } }))
        .status,
    ).toBeLessThan(300);
    expect((await t.call('PUT', `/v1/namespaces/${NS}/ingresses/ing`, ingressBody('ing'))).status).toBe(201);
    expect((await t.call('PUT', `/v1/namespaces/${NS}/jobs/job`, jobBody())).status).toBe(201);
    expect((await t.call('PUT', `/v1/namespaces/${NS}/cronjobs/cron`, cronJobBody())).status).toBe(201);
    expect((await t.call('PUT', '/v1/trustrules/rule', trustRuleBody(issuer.url))).status).toBe(201);
    await putChallenge(t.plane.deps.db, 'tok-matrix', 'ing.matrix.test', 'tok-matrix.key');
    replicaId = await eventually(async () => {
      await t.plane.reconciler.tick();
      const [r] = (await t.call('GET', `/v1/namespaces/${NS}/replicas?deployment=web`)).body.items;
      return r?.node && r.ready ? (r.id as string) : undefined;
    });
    await registerNode('spare');
    // What each caller's destructive call removes is its own.
    const claim = { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    expect((await t.call('PUT', `/v1/namespaces/${NS}/persistentvolumeclaims/pvc`, claim)).status).toBe(201);
    for (const who of WHO) {
      expect(
        (await t.call('PUT', `/v1/namespaces/gone-${who}/configmaps/cm`, { data: { k: 'v' } })).status,
      ).toBe(201);
      expect(
        (await t.call('PUT', `/v1/namespaces/${NS}/persistentvolumeclaims/del-${who}`, claim)).status,
      ).toBe(201);
      expect(
        (await t.call('PUT', `/v1/namespaces/${NS}/deployments/del-${who}`, deploymentBody({ replicas: 0 })))
          .status,
      ).toBe(201);
      expect(
        (
          await t.call('PUT', `/v1/namespaces/${NS}/services/del-${who}`, {
            spec: { selector: { a: 'b' }, ports: [{ port: 80 }] },
          })
        ).status,
      ).toBe(201);
      expect(
        (await t.call('PUT', `/v1/namespaces/${NS}/secrets/del-${who}`, { data: { k: 'v' } })).status,
      ).toBe(201);
      expect(
        (await t.call('PUT', `/v1/namespaces/${NS}/configmaps/del-${who}`, { data: { k: 'v' } })).status,
      ).toBe(201);
      expect((await t.call('PUT', `/v1/namespaces/${NS}/serviceaccounts/del-${who}`, {})).status).toBe(201);
      expect(
        (await t.call('PUT', `/v1/namespaces/${NS}/ingresses/del-${who}`, ingressBody(`del-${who}`))).status,
      ).toBe(201);
      expect((await t.call('PUT', `/v1/namespaces/${NS}/jobs/del-${who}`, jobBody())).status).toBe(201);
      expect((await t.call('PUT', `/v1/namespaces/${NS}/cronjobs/del-${who}`, cronJobBody())).status).toBe(
        201,
      );
      expect((await t.call('PUT', `/v1/trustrules/del-${who}`, trustRuleBody(issuer.url))).status).toBe(201);
      fixtures.set(`token ${who}`, (await create({ name: `del-${who}`, role: 'viewer' })).id);
      fixtures.set(`join ${who}`, (await t.call('POST', '/v1/join-tokens', {})).body.id);
      await registerNode(`del-${who}`);
      await registerNode(`reset-${who}`);
    }
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
    await issuer?.close();
  });

  async function registerNode(name: string) {
    const res = await t.call(
      'POST',
      '/v1/agent/register',
      { joinToken, name, capacity: { cpu: 1, memoryBytes: 2 ** 30 }, address: '10.9.9.9' },
      null,
    );
    expect(res.status).toBe(200);
  }

  /** The one request each route is called with, for one caller. */
  function request(key: string, who: Who): { method: string; path: string; body?: string; type?: string } {
    const [method, template] = key.split(' ') as [string, string];
    const names: Record<string, string> = {
      'PUT /v1/namespaces/{ns}/deployments/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/deployments/{name}': `del-${who}`,
      'PUT /v1/namespaces/{ns}/services/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/services/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/services/{name}': 'svc',
      'GET /v1/namespaces/{ns}/services/{name}/endpoints': 'svc',
      'PUT /v1/namespaces/{ns}/secrets/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/secrets/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/secrets/{name}': 'sec',
      'PUT /v1/namespaces/{ns}/configmaps/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/configmaps/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/configmaps/{name}': 'cm',
      'PUT /v1/namespaces/{ns}/persistentvolumeclaims/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/persistentvolumeclaims/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/persistentvolumeclaims/{name}': 'pvc',
      'PUT /v1/namespaces/{ns}/serviceaccounts/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/serviceaccounts/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/serviceaccounts/{name}': 'sa',
      'PUT /v1/namespaces/{ns}/ingresses/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/ingresses/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/ingresses/{name}': 'ing',
      'PUT /v1/namespaces/{ns}/jobs/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/jobs/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/jobs/{name}': 'job',
      'PUT /v1/namespaces/{ns}/cronjobs/{name}': `put-${who}`,
      'DELETE /v1/namespaces/{ns}/cronjobs/{name}': `del-${who}`,
      'GET /v1/namespaces/{ns}/cronjobs/{name}': 'cron',
      'DELETE /v1/nodes/{name}': `del-${who}`,
      // Each caller's reset takes a node of its own, so the admin's leaves the others' standing.
      'POST /v1/nodes/{name}/reset': `reset-${who}`,
      'GET /v1/nodes/{name}': 'matrix-1',
      'PUT /v1/trustrules/{name}': `put-${who}`,
      'DELETE /v1/trustrules/{name}': `del-${who}`,
      'GET /v1/trustrules/{name}': 'rule',
    };
    // Each caller's namespace delete is aimed at a namespace of its own, never the matrix's.
    const path = template
      .replace('{ns}', key === 'DELETE /v1/namespaces/{ns}' ? `gone-${who}` : NS)
      .replace('{name}', names[key] ?? (template.startsWith('/v1/nodes') ? 'spare' : 'web'))
      .replace(
        '{id}',
        key.includes('replicas')
          ? replicaId
          : (fixtures.get(`${key.includes('join') ? 'join' : 'token'} ${who}`) ?? 'x'),
      )
      .replace('{token}', 'tok-matrix');
    const json = (v: unknown) => ({ body: JSON.stringify(v), type: 'application/json' });
    const bodies: Record<string, { body: string; type: string } | undefined> = {
      'PUT /v1/namespaces/{ns}/deployments/{name}': json(deploymentBody({ replicas: 0 })),
      'PATCH /v1/namespaces/{ns}/deployments/{name}': json({ metadata: { labels: { touched: who } } }),
      'PUT /v1/namespaces/{ns}/deployments/{name}/scale': json({ replicas: 1 }),
      'POST /v1/namespaces/{ns}/deployments/{name}/rollback': json({ toRevision: 1 }),
      'PUT /v1/namespaces/{ns}/services/{name}': json({
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      }),
      'PUT /v1/namespaces/{ns}/secrets/{name}': json({ data: { k: 'v' } }),
      'PUT /v1/namespaces/{ns}/configmaps/{name}': json({ data: { k: 'v' } }),
      'PUT /v1/namespaces/{ns}/persistentvolumeclaims/{name}': json({
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      }),
      'PUT /v1/namespaces/{ns}/serviceaccounts/{name}': json({}),
      'PUT /v1/namespaces/{ns}/ingresses/{name}': json(ingressBody(`put-${who}`)),
      'PUT /v1/namespaces/{ns}/jobs/{name}': json(jobBody()),
      'PUT /v1/namespaces/{ns}/cronjobs/{name}': json(cronJobBody()),
      'PUT /v1/namespaces/{ns}/policy': json({ spec: { allowedHostSuffixes: [`${who}.example.com`] } }),
      'POST /v1/apply': {
        body: `apiVersion: berth.dev/v1\nkind: Deployment\nmetadata:\n  name: ap-${who}\nspec:\n  replicas: 0\n  template:\n    spec:\n      containers: [{name: web, image: "x:1"}]\n`,
        type: 'application/yaml',
      },
      'POST /v1/agent/register': json({
        joinToken,
        // A node credential as the bearer token registers its own node again, and only that one.
        name: who === 'node' ? 'matrix-1' : `reg-${who}`,
        capacity: { cpu: 1, memoryBytes: 2 ** 30 },
        address: '10.9.9.8',
      }),
      'POST /v1/agent/status': json({ replicas: [] }),
      'POST /v1/agent/logs': json({ id: 'log_nothing', lines: [] }),
      'POST /v1/agent/released-claims': json({ uids: [] }),
      'POST /v1/tokens': json({ name: `new-${who}`, role: 'viewer', namespaces: [NS] }),
      'POST /v1/join-tokens': json({}),
      'PUT /v1/trustrules/{name}': json(trustRuleBody(issuer.url)),
      'POST /v1/tokens/exchange': json({ token: identityToken }),
      'POST /v1/nodes/{name}/taints': json({
        add: [{ key: 'matrix', value: who, effect: 'PreferNoSchedule' }],
      }),
    };
    const query = key === 'POST /v1/apply' ? `?namespace=${NS}` : '';
    return { method, path: path + query, ...bodies[key] };
  }

  it('covers every route the API documents', async () => {
    const doc = (await t.call('GET', '/openapi.json', undefined, null)).body as {
      paths: Record<string, object>;
    };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.filter((r) => !(r in ROUTES))).toEqual([]);
    expect(Object.keys(ROUTES).filter((r) => !documented.includes(r) && !OPERATIONAL.includes(r))).toEqual(
      [],
    );
  });

  it('lets exactly the allowed callers through', async () => {
    const wrong: string[] = [];
    let cells = 0;
    for (const [key, access] of Object.entries(ROUTES)) {
      for (const who of WHO) {
        const r = request(key, who);
        const token = tokens.get(who);
        const headers: Record<string, string> = {};
        if (token) headers.authorization = `Bearer ${token}`;
        if (r.type) headers['content-type'] = r.type;
        // One client address per call: the failure limiter must not turn expected 401s into 429s.
        headers['x-matrix-client'] = `${who} ${key}`;
        const res = await t.plane.app.request(r.path, {
          method: r.method,
          headers,
          ...(r.body ? { body: r.body } : {}),
        });
        const text = await res.text();
        const want = expected(access, who);
        const got = res.status < 300 ? 'ok' : res.status;
        cells++;
        if (got !== want)
          wrong.push(`${key} as ${who}: want ${want}, got ${res.status} ${text.slice(0, 160)}`);
      }
    }
    console.log(
      `access matrix: ${cells} calls (${Object.keys(ROUTES).length} routes × ${WHO.length} callers), ${wrong.length} wrong`,
    );
    expect(wrong).toEqual([]);
  });

  it('keeps a node credential to its own node', async () => {
    const [mine] = fleet.agents;
    // Another node with a replica (pinned there), and a secret only that replica uses.
    const other = new SimAgent({ server: t.server, joinToken, name: 'matrix-other', fetch: t.fetch });
    await other.start();
    try {
      await t.call('PUT', `/v1/namespaces/${NS}/secrets/other-only`, {
        data: { password: 'other-node-secret-value' },
      });
      const pinned = deploymentBody({ replicas: 1 });
      Object.assign(pinned.spec.template.spec, { nodeSelector: { 'berth.dev/node': 'matrix-other' } });
      (pinned.spec.template.spec.containers[0] as Record<string, unknown>).env = [
        { name: 'P', valueFrom: { secretKeyRef: { name: 'other-only', key: 'password' } } },
      ];
      await t.call('PUT', `/v1/namespaces/${NS}/deployments/elsewhere`, pinned);
      const theirs = await eventually(async () => {
        await t.plane.reconciler.tick();
        const [r] = (await t.call('GET', `/v1/namespaces/${NS}/replicas?deployment=elsewhere`)).body.items;
        return r?.node === 'matrix-other' ? (r.id as string) : undefined;
      });
      const auth = { authorization: `Bearer ${mine!.token}` };
      const assignments = await (
        await t.plane.app.request('/v1/agent/assignments', { headers: auth })
      ).text();
      expect(assignments).not.toContain(theirs);
      expect(assignments).not.toContain('other-node-secret-value');
      expect(
        JSON.stringify(
          await (
            await t.plane.app.request('/v1/agent/assignments', {
              headers: { authorization: `Bearer ${other.token}` },
            })
          ).json(),
        ),
      ).toContain('other-node-secret-value');
      // Its word about another node's replica changes nothing; a log answer for another node's request is dropped.
      await t.plane.app.request('/v1/agent/status', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          replicas: [{ id: theirs, phase: 'Failed', ready: false, message: 'forged' }],
        }),
      });
      const row = (await t.call('GET', `/v1/namespaces/${NS}/replicas?deployment=elsewhere`)).body.items[0];
      expect(row.message).not.toBe('forged');
      // And no object route, whatever the namespace.
      for (const path of [
        `/v1/namespaces/${NS}/secrets/other-only`,
        `/v1/namespaces/${NS}/replicas`,
        '/v1/namespaces/default/deployments',
        '/v1/nodes/matrix-other',
        '/v1/tokens',
      ]) {
        expect((await t.plane.app.request(path, { headers: auth })).status).toBe(403);
      }
    } finally {
      await other.stop();
    }
  });
});

/**
 * The same rules where they matter most, against the server process on its own Postgres: the
 * secret never leaves its ciphertext except toward the node that runs it (raw rows, the
 * process's logs, events, every read), failed authentications are limited per client address
 * (behind trusted proxies: the client they name) and never lock out a valid token, /metrics
 * takes its own token, join tokens expire and count their uses under concurrency, and a
 * deleted node is locked out.
 */
describe('secrets, rate limits, join tokens and node deletion against a server process', () => {
  const PLAIN = 'pl41n-s3cret-Value-7f3a';
  const REGISTRY_PASSWORD = 'r3gistry-pa55-9c1e';
  const METRICS_TOKEN = 'metrics-scraper-token-5b1e9d';
  /** The one proxy the server trusts: requests from this local address may name their client. */
  const PROXY = '127.0.0.5';
  let database: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  let server: ServerProcess;
  let fleet: SimFleet;

  beforeAll(async () => {
    database = await freshPostgres();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    server = await startServerProcess({
      databaseUrl: database.url,
      env: {
        BERTH_RECONCILE_INTERVAL_MS: '300',
        BERTH_METRICS_TOKEN: METRICS_TOKEN,
        BERTH_TRUSTED_PROXIES: `${PROXY}, 10.0.0.0/8`,
      },
    });
    fleet = await startSimAgents({
      server: server.url,
      adminToken: server.adminToken,
      count: 3,
      prefix: 'sec',
      options: { heartbeatMs: 1000, waitSeconds: 5 },
    });
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await server?.close();
    await pool?.end();
    if (database) await dropDatabase(database.drop);
  });

  const sql = async (text: string) => (await pool.query(text)).rows;

  it('keeps secret values out of rows, logs, events and reads; only the running node receives them', async () => {
    expect(
      (await server.call('PUT', '/v1/namespaces/default/secrets/db', { data: { password: PLAIN } })).status,
    ).toBe(201);
    expect(
      (
        await server.call('PUT', '/v1/namespaces/default/secrets/regcred', {
          type: 'registry',
          data: { server: 'registry.example.com', username: 'ci', password: REGISTRY_PASSWORD },
        })
      ).status,
    ).toBe(201);
    // Requests that fail while carrying the values: nothing of them may be echoed or logged.
    const failures = [
      await server.call('PUT', '/v1/namespaces/default/secrets/bad', {
        data: { password: PLAIN, 'bad key!': PLAIN },
      }),
      await server.call('PUT', '/v1/namespaces/default/secrets/bad', {
        type: 'registry',
        data: { password: PLAIN },
      }),
      await server.call('PUT', '/v1/namespaces/default/secrets/db', {
        data: { password: PLAIN },
        extra: PLAIN,
      }),
      await server.call('PUT', '/v1/namespaces/Bad_NS/secrets/db', { data: { password: PLAIN } }),
    ];
    for (const f of failures) expect(f.status).toBe(422);
    const dry = await fetch(`${server.url}/v1/apply?dryRun=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/yaml' },
      body: `apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: dry}\ndata: {password: ${PLAIN}}\n`,
    });
    const dryText = await dry.text();
    expect(dry.status).toBe(200);

    const uses = deploymentBody({ replicas: 1 });
    Object.assign(uses.spec.template.spec, { imagePullSecrets: [{ name: 'regcred' }] });
    (uses.spec.template.spec.containers[0] as Record<string, unknown>).env = [
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    ];
    expect((await server.call('PUT', '/v1/namespaces/default/deployments/uses', uses)).status).toBe(201);
    const holder = await eventually(async () => {
      const [r] = (await server.call('GET', '/v1/namespaces/default/replicas?deployment=uses')).body.items;
      return r?.ready ? (r.node as string) : undefined;
    }, 15_000);

    // Delivery: the holder's assignments carry the values, nobody else's do.
    const assignmentsOf = async (agent: SimAgent) =>
      (
        await fetch(`${server.url}/v1/agent/assignments`, {
          headers: { authorization: `Bearer ${agent.token}` },
        })
      ).text();
    for (const agent of fleet.agents) {
      const text = await assignmentsOf(agent);
      if (agent.name === holder) {
        expect(text).toContain(PLAIN);
        expect(text).toContain(REGISTRY_PASSWORD);
      } else {
        expect(text).not.toContain(PLAIN);
        expect(text).not.toContain(REGISTRY_PASSWORD);
      }
    }

    // Every read the API has, as admin.
    const doc = (await server.call('GET', '/openapi.json', undefined, null)).body as {
      paths: Record<string, object>;
    };
    const reads: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      if (!('get' in ops) || p.startsWith('/v1/agent')) continue;
      const path = p
        .replace('{ns}', 'default')
        .replace('{name}', p.includes('secrets') ? 'db' : p.includes('nodes') ? holder : 'uses')
        .replace('{id}', 'x');
      const res = await server.call('GET', path);
      reads.push(`${res.status} ${path}`);
      expect(JSON.stringify(res.body)).not.toContain(PLAIN);
      expect(JSON.stringify(res.body)).not.toContain(REGISTRY_PASSWORD);
    }
    // Every row of every table: the values exist only as ciphertext.
    const tables = await sql(
      `select table_name from information_schema.tables where table_schema = 'public'`,
    );
    for (const { table_name } of tables) {
      const rows = JSON.stringify(await sql(`select * from "${table_name}"`));
      expect(rows, table_name).not.toContain(PLAIN);
      expect(rows, table_name).not.toContain(REGISTRY_PASSWORD);
    }
    const [secretRow] = await sql(`select ciphertext from secrets where name = 'db'`);
    expect(secretRow.ciphertext).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    // Scaled to nothing: the former holder is no longer sent the values.
    await server.call('PUT', '/v1/namespaces/default/deployments/uses/scale', { replicas: 0 });
    const former = fleet.agents.find((a) => a.name === holder)!;
    await eventually(
      async () => !(await assignmentsOf(former)).includes(PLAIN),
      15_000,
      'the values to be withdrawn',
    );

    const output = server.output();
    for (const f of failures) expect(JSON.stringify(f.body)).not.toContain(PLAIN);
    expect(dryText).not.toContain(PLAIN);
    expect(output).not.toContain(PLAIN);
    expect(output).not.toContain(REGISTRY_PASSWORD);
    console.log(
      `secrets: ${tables.length} tables, ${reads.length} API reads, ${failures.length} failing writes, ` +
        `${output.split('\n').length} lines of server output: the values appear nowhere but the holder's assignments`,
    );
  });

  /** GET `path` from a given local address (127.0.0.0/8 is all this host's), as another client would. */
  const getFrom = (
    localAddress: string,
    token: string | null,
    o: { path?: string; headers?: Record<string, string> } = {},
  ) =>
    new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
      const u = new URL(`${server.url}${o.path ?? '/v1/whoami'}`);
      const req = http.get(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          localAddress,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers },
        },
        (res) => {
          let body = '';
          res.on('data', (b: Buffer) => {
            body += b.toString();
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string, body }),
          );
        },
      );
      req.on('error', reject);
    });
  const statuses = (list: number[]) =>
    [...new Set(list)].map((s) => `${list.filter((x) => x === s).length}×${s}`).join(' ');

  it('limits failed authentications per client address, and never a valid token', async () => {
    const attacker: number[] = [];
    const good: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 30; i++) {
      const bad = await getFrom('127.0.0.2', `berth_u_guess-${i}-000000000000`);
      attacker.push(bad.status);
      if (bad.status === 429) retryAfter = bad.retryAfter;
      good.push((await getFrom('127.0.0.1', server.adminToken)).status);
    }
    const agentCall = await fetch(`${server.url}/v1/agent/assignments`, {
      headers: { authorization: `Bearer ${fleet.agents[0]!.token}` },
    });
    await agentCall.body?.cancel();
    // The limited address is shared (a proxy, a NAT, a node and its containers): whoever holds a
    // valid token there is let through, admin, deployer and node alike.
    const deployer = (
      await server.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['default'] })
    ).body.token as string;
    const sameAddress = {
      admin: await getFrom('127.0.0.2', server.adminToken),
      deployer: await getFrom('127.0.0.2', deployer),
      node: await getFrom('127.0.0.2', fleet.agents[1]!.token, { path: '/v1/agent/assignments' }),
    };
    const stillLimited = await getFrom('127.0.0.2', 'berth_u_guess-again-000000000000');
    console.log(
      `rate limit: attacker (127.0.0.2) got ${attacker.filter((s) => s === 401).length}×401 then ${attacker.filter((s) => s === 429).length}×429 (Retry-After ${retryAfter} s); ` +
        `good client (127.0.0.1) ${good.filter((s) => s === 200).length}/${good.length}×200; valid tokens from the limited address: ` +
        `admin ${sameAddress.admin.status}, deployer ${sameAddress.deployer.status}, node ${sameAddress.node.status}; a bad one ${stillLimited.status}`,
    );
    expect(attacker.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(attacker.slice(20).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(good.every((s) => s === 200)).toBe(true);
    expect(agentCall.status).toBe(200);
    expect(sameAddress.admin.status).toBe(200);
    expect(sameAddress.deployer.status).toBe(200);
    expect(sameAddress.node.status).toBe(200);
    expect(stillLimited.status).toBe(429);
  });

  it('does not count requests that carry no credential at all', async () => {
    const anonymous: number[] = [];
    for (let i = 0; i < 30; i++) anonymous.push((await getFrom('127.0.0.3', null)).status);
    const malformed = await getFrom('127.0.0.3', null, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    // The first bad token from that address is still only the first failure.
    const firstBad = await getFrom('127.0.0.3', 'berth_u_first-guess-000000000000');
    console.log(
      `no credential: ${statuses(anonymous)} from 127.0.0.3, then a non-bearer header ${malformed.status} and a bad token ${firstBad.status}`,
    );
    expect(anonymous.every((s) => s === 401)).toBe(true);
    expect(malformed.status).toBe(401);
    expect(firstBad.status).toBe(401);
  });

  it('limits the client a trusted proxy names, and believes no one else about who the client is', async () => {
    const viaProxy = (client: string, token: string | null, from = PROXY) =>
      getFrom(from, token, { headers: { 'x-forwarded-for': client } });
    const victim = '203.0.113.50';
    const throughProxy: number[] = [];
    for (let i = 0; i < 25; i++)
      throughProxy.push((await viaProxy(victim, `berth_u_proxied-${i}-000000000000`)).status);
    // Other clients of the same proxy are not limited with it, nor is its valid token.
    const neighbour = await viaProxy('198.51.100.7', 'berth_u_neighbour-000000000000');
    const victimValid = await viaProxy(victim, server.adminToken);
    // A client of the proxy claiming to be someone else is who the proxy says it is: the
    // rightmost address that is not a trusted proxy.
    const spoofedThroughProxy = await viaProxy(`${victim}, 198.51.100.8`, 'berth_u_spoof-000000000000');
    // An untrusted peer's X-Forwarded-For is not read at all: 127.0.0.6 is itself the client.
    const directSpoof = await viaProxy(victim, 'berth_u_direct-000000000000', '127.0.0.6');
    // Hops of a trusted network are walked past, too.
    const twoHops = await viaProxy(`${victim}, 10.1.2.3`, 'berth_u_two-hops-000000000000');
    console.log(
      `trusted proxy ${PROXY}: client ${victim} got ${statuses(throughProxy)}; its valid token ${victimValid.status}; ` +
        `another client of the proxy ${neighbour.status}; "${victim}" spoofed behind the proxy ${spoofedThroughProxy.status}, ` +
        `from an untrusted peer ${directSpoof.status}; via two trusted hops ${twoHops.status}`,
    );
    expect(throughProxy.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(throughProxy.slice(20).every((s) => s === 429)).toBe(true);
    expect(victimValid.status).toBe(200);
    expect(neighbour.status).toBe(401);
    expect(spoofedThroughProxy.status).toBe(401);
    expect(directSpoof.status).toBe(401);
    expect(twoHops.status).toBe(429);
  });

  it('serves /metrics only to its token or an admin when BERTH_METRICS_TOKEN is set', async () => {
    const viewer = (await server.call('POST', '/v1/tokens', { name: 'metrics-viewer', role: 'viewer' })).body
      .token as string;
    const from = '127.0.0.4';
    const none = await getFrom(from, null, { path: '/metrics' });
    const wrong = await getFrom(from, 'not-the-metrics-token-000', { path: '/metrics' });
    const scraper = await getFrom(from, METRICS_TOKEN, { path: '/metrics' });
    const admin = await getFrom(from, server.adminToken, { path: '/metrics' });
    const notAdmin = await getFrom(from, viewer, { path: '/metrics' });
    console.log(
      `/metrics with BERTH_METRICS_TOKEN: none ${none.status}, wrong ${wrong.status}, metrics token ${scraper.status}, ` +
        `admin ${admin.status}, viewer ${notAdmin.status}`,
    );
    expect(none.status).toBe(401);
    expect(none.body).not.toContain('berth_http_requests_total');
    expect(wrong.status).toBe(401);
    expect(scraper.status).toBe(200);
    expect(scraper.body).toContain('berth_http_requests_total');
    expect(admin.status).toBe(200);
    expect(notAdmin.status).toBe(403);
    // Health checks stay open.
    expect((await getFrom(from, null, { path: '/healthz' })).status).toBe(200);
    expect((await getFrom(from, null, { path: '/readyz' })).status).toBe(200);
  });

  it('expires join tokens and counts their uses under concurrent registrations', async () => {
    const register = (joinToken: string, name: string) =>
      fetch(`${server.url}/v1/agent/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          joinToken,
          name,
          capacity: { cpu: 1, memoryBytes: 2 ** 30 },
          address: '10.0.0.9',
        }),
      }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      });
    const limited = (await server.call('POST', '/v1/join-tokens', { maxUses: 3 })).body;
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => register(limited.token, `race-${i}`)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 401)).toHaveLength(7);
    const [row] = await sql(`select uses from join_tokens where id = '${limited.id}'`);
    expect(row.uses).toBe(3);

    const short = (await server.call('POST', '/v1/join-tokens', { ttlSeconds: 60 })).body;
    expect(await register(short.token, 'in-time')).toBe(200);
    await sql(`update join_tokens set expires_at = now() - interval '1 second' where id = '${short.id}'`);
    expect(await register(short.token, 'too-late')).toBe(401);
    // Revoked: refused at once.
    const revoked = (await server.call('POST', '/v1/join-tokens', {})).body;
    expect((await server.call('DELETE', `/v1/join-tokens/${revoked.id}`)).status).toBe(204);
    expect(await register(revoked.token, 'revoked')).toBe(401);
  });

  it('locks a deleted node out at once', async () => {
    const victim = fleet.agents[2]!;
    const auth = { authorization: `Bearer ${victim.token}` };
    expect((await fetch(`${server.url}/v1/agent/assignments`, { headers: auth })).status).toBe(200);
    expect((await server.call('DELETE', `/v1/nodes/${victim.name}`)).status).toBe(204);
    const after = await fetch(`${server.url}/v1/agent/assignments`, { headers: auth });
    expect(after.status).toBe(401);
    const report = await fetch(`${server.url}/v1/agent/status`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: [] }),
    });
    expect(report.status).toBe(401);
    expect((await server.call('GET', `/v1/nodes/${victim.name}`)).status).toBe(404);
  });
});

/** An Ingress of one host under matrix.test (the namespace policy's suffix for deployers). */
function ingressBody(name: string) {
  return {
    spec: {
      rules: [
        {
          host: `${name}.matrix.test`,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  };
}

/** A suspended Job: stored and judged by role, never run. */
function jobBody() {
  return {
    spec: {
      suspend: true,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'x:1' }] } },
    },
  };
}

/** A suspended CronJob: stored and judged by role, never run. */
function cronJobBody() {
  return { spec: { schedule: '@daily', suspend: true, jobTemplate: { spec: jobBody().spec } } };
}

/** A trust rule for the test issuer's acme/shop, as a viewer of team-a. */
function trustRuleBody(issuer: string) {
  return {
    spec: {
      issuer,
      claims: { repository: 'acme/shop' },
      role: 'viewer',
      namespaces: [NS],
    },
  };
}
