import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/node-database.ts';
import { edgeSettings } from '../../workers/runtime/edge-settings.ts';
import { createPlaneApp } from '../../workers/runtime/plane.ts';
import { freshPostgres } from '../support/databases.ts';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { dropDatabase } from '../support/processes.ts';

/**
 * The Kubernetes API face in-process: the same objects, tokens and roles as `/v1`, answered in
 * Kubernetes' forms (lists, Tables, Status errors). kubectl itself drives it in
 * test/e2e/kubectl-read.test.ts; this covers what kubectl does not show.
 */

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

let t: TestPlane;
let deployer: string;

async function get(path: string, token: string | null = ADMIN_TOKEN, accept = 'application/json') {
  const res = await t.plane.app.request(path, {
    headers: { accept, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  t = await startTestPlane('pglite');
  expect(
    (await t.call('PUT', '/v1/namespaces/default/deployments/web', deploymentBody({ replicas: 2 }))).status,
  ).toBe(201);
  expect(
    (
      await t.call(
        'PUT',
        '/v1/namespaces/team-a/deployments/worker',
        deploymentBody({ labels: { app: 'worker' } }),
      )
    ).status,
  ).toBe(201);
  const res = await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['team-a'] });
  deployer = res.body.token;
});

afterAll(async () => {
  await t?.close();
});

describe('the Kubernetes API face', () => {
  it('serves the same object as /v1, in its apps/v1 form', async () => {
    const berth = await t.call('GET', '/v1/namespaces/default/deployments/web');
    const kube = await get('/apis/apps/v1/namespaces/default/deployments/web');
    expect(kube.status).toBe(200);
    expect(kube.body).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'default',
        uid: berth.body.metadata.uid,
        // The cluster-wide clock's value of its last change (a point a watch starts from).
        resourceVersion: expect.stringMatching(/^\d+$/),
        creationTimestamp: berth.body.metadata.createdAt,
      },
      spec: { replicas: 2 },
    });
    const list = await get('/apis/apps/v1/namespaces/default/deployments?labelSelector=app%3Dweb');
    expect(list.body).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'DeploymentList',
      metadata: { resourceVersion: expect.any(String) },
    });
    expect(list.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['web']);
  });

  it('answers a Table when asked, with the columns of the kind', async () => {
    const table = await get('/apis/apps/v1/namespaces/default/deployments', ADMIN_TOKEN, TABLE);
    expect(table.body.kind).toBe('Table');
    expect(table.body.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 5)).toEqual([
      'Name',
      'Ready',
      'Up-to-date',
      'Available',
      'Age',
    ]);
    expect(table.body.rows[0].cells.slice(0, 2)).toEqual(['web', '0/2']);
  });

  it('answers aggregated discovery with its own media type', async () => {
    const res = await get(
      '/apis',
      ADMIN_TOKEN,
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    );
    expect(res.headers.get('content-type')).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    expect(res.body.kind).toBe('APIGroupDiscoveryList');
    const plain = await get('/apis');
    expect(plain.body.kind).toBe('APIGroupList');
  });

  it('refuses as Kubernetes does: Unauthorized, Forbidden, unknown resources, unserved verbs', async () => {
    const anonymous = await get('/apis/apps/v1/namespaces/default/deployments', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Unauthorized',
      code: 401,
    });

    const elsewhere = await get('/apis/apps/v1/namespaces/default/deployments', deployer);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toMatchObject({
      reason: 'Forbidden',
      details: { group: 'apps', kind: 'deployments' },
    });
    expect((await get('/apis/apps/v1/deployments', deployer)).status).toBe(403);
    expect((await get('/apis/apps/v1/namespaces/team-a/deployments/worker', deployer)).status).toBe(200);
    const namespaces = await get('/api/v1/namespaces', deployer);
    expect(namespaces.body.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual([
      'team-a',
    ]);

    const unknown = await get('/api/v1/namespaces/default/limitranges');
    expect(unknown).toMatchObject({ status: 404, body: { kind: 'Status', reason: 'NotFound' } });
    // A verb not served is 405; deleting `default` is refused as Kubernetes refuses it.
    const write = await t.plane.app.request('/api/v1/nodes/x', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(write.status).toBe(405);
    const deleteDefault = await t.plane.app.request('/api/v1/namespaces/default', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(deleteDefault.status).toBe(403);
    expect((await t.call('GET', '/v1/namespaces/default/deployments/web')).status).toBe(200);
    expect((await get('/api/v1/namespaces/default/pods?fieldSelector=spec.restartPolicy%3Dx')).status).toBe(
      400,
    );
  });

  it('decides kubectl exec on every runtime, and says where its stream is served', async () => {
    const pods = await get('/api/v1/namespaces/team-a/pods');
    const pod = pods.body.items[0]?.metadata.name as string;
    expect(pod).toBeDefined();
    const exec = async (token: string, query: string, name = pod, headers: Record<string, string> = {}) => {
      const res = await t.plane.app.request(`/api/v1/namespaces/team-a/pods/${name}/exec?${query}`, {
        headers: {
          authorization: `Bearer ${token}`,
          upgrade: 'websocket',
          connection: 'Upgrade',
          ...headers,
        },
      });
      return { status: res.status, body: await res.json() };
    };
    // A deployer of the namespace: exec reaches everything the pod holds, so admins only for now.
    expect(await exec(deployer, 'command=sh')).toMatchObject({
      status: 403,
      body: {
        kind: 'Status',
        reason: 'Forbidden',
        message: `pods "${pod}" is forbidden: User "ci" cannot create resource "pods/exec" in API group "" in the namespace "team-a"`,
      },
    });
    expect(await exec(ADMIN_TOKEN, 'command=sh', 'absent')).toMatchObject({
      status: 404,
      body: { message: 'pods "absent" not found' },
    });
    expect((await exec(ADMIN_TOKEN, 'stdin=true')).body.message).toBe(
      'you must specify at least one command for the container',
    );
    expect((await exec(ADMIN_TOKEN, 'command=sh&container=nope')).body.message).toBe(
      `container nope is not valid for pod ${pod}`,
    );
    // Node's plane: a guessed preflight is none; kubectl's SPDY fallback is told what Berth speaks.
    expect(
      (await exec(ADMIN_TOKEN, 'command=sh', pod, { 'x-berth-exec-preflight': 'guess' })).body,
    ).toMatchObject({ code: 400, message: 'Upgrade request required' });
    expect((await exec(ADMIN_TOKEN, 'command=sh', pod, { upgrade: 'SPDY/3.1' })).body.message).toBe(
      'Berth serves exec over WebSocket only (v5.channel.k8s.io, kubectl 1.30 or later), not SPDY',
    );
    // A plane without a meeting point (a Worker without its Durable Object): the same decisions, then why not.
    const secret = t.plane.deps.execPreflight;
    t.plane.deps.execPreflight = undefined;
    try {
      const refused = await exec(ADMIN_TOKEN, 'command=sh');
      expect(refused.status).toBe(400);
      expect(refused.body.message).toContain('exec needs a meeting point for its streams');
      expect((await exec(deployer, 'command=sh')).status).toBe(403);
    } finally {
      t.plane.deps.execPreflight = secret;
    }
  });

  it('leaves /v1 as it was: an unknown route is still problem+json', async () => {
    const res = await t.call('GET', '/v1/namespaces/default/nothing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('the Kubernetes face when the database cannot answer', () => {
  it('says so as a Status kubectl prints (503, Retry-After), not a problem+json', async () => {
    // An empty database: every read meets the missing schema, which the app words (db:migrate).
    const database = await freshPostgres();
    const handle = await openDatabase({ url: database.url, dataDir: '.' });
    try {
      const settings = await edgeSettings(
        { DATABASE_URL: database.url, BERTH_ADMIN_TOKEN: ADMIN_TOKEN, BERTH_LOG_LEVEL: 'silent' },
        'deno',
      );
      const { app } = createPlaneApp({ runtime: 'deno', config: settings.config, handle });
      const res = await app.request('/apis/apps/v1/namespaces/default/deployments', {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(res.headers.get('content-type')).toContain('application/json');
      const body = await res.json();
      expect(body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'ServiceUnavailable',
        code: 503,
      });
      expect(body.message).toContain('db:migrate');
    } finally {
      await handle.close();
      await dropDatabase(database.drop);
    }
  });
});

describe('the OpenAPI v3 documents of the face', () => {
  it('are cached as Kubernetes caches them: ETag, immutable at the hashed URL, an old hash redirected', async () => {
    const root = await get('/openapi/v3');
    expect(root.status).toBe(200);
    const url = root.body.paths['apis/apps/v1'].serverRelativeURL as string;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{64}$/);
    const hash = url.split('hash=')[1];

    const doc = await get(url);
    expect(doc.status).toBe(200);
    expect(doc.headers.get('etag')).toBe(`"${hash}"`);
    expect(doc.headers.get('cache-control')).toBe('public, immutable');
    expect(
      doc.body.components.schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);

    // Asked again with what it holds, a client gets 304; without a hash, no immutable caching.
    const again = await t.plane.app.request('/openapi/v3/apis/apps/v1', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'if-none-match': `"${hash}"` },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('cache-control')).toBeNull();

    const stale = await t.plane.app.request('/openapi/v3/apis/apps/v1?hash=OLD', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(stale.status).toBe(301);
    expect(stale.headers.get('location')).toBe(url);
  });

  it('answer a group version Berth does not serve with a Kubernetes 404, and nobody without a token', async () => {
    for (const path of ['/openapi/v3/apis/policy/v1', '/openapi/v3/apis/apps/v2', '/openapi/v3/api/v2']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    }
    expect((await get('/openapi/v3', null)).status).toBe(401);
  });
});
