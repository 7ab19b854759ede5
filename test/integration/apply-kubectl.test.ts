import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_TOKEN_WARNING } from '../../common/service-account.ts';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * POST /v1/apply with manifests written for kubectl: errors name the document as kubectl names
 * objects, a namespace that disagrees with ?namespace= is refused, and the kinds that only serve
 * Kubernetes' API machinery apply as no-ops with a warning; ServiceAccounts are recorded. Nothing here needs an agent.
 */

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        resources:
          requests: {cpu: ".5", memory: 128974848000m}
          limits: {cpu: "1", memory: 129e6}
`;
const SERVICE_ACCOUNT = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n';
const CLUSTER_ROLE =
  'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: web-reader}\nrules: []\n';

describe('POST /v1/apply with kubectl manifests', () => {
  let t: TestPlane;
  let deployer = '';
  beforeAll(async () => {
    t = await startTestPlane('pglite');
    deployer = (await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['shop'] }))
      .body.token;
  });
  afterAll(async () => {
    await t?.close();
  });
  const apply = async (body: string, query = '', token = ADMIN_TOKEN) => {
    const res = await t.plane.app.request(`/v1/apply${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
      body,
    });
    return { status: res.status, body: await res.json() };
  };

  it('names the document of each problem by number, kind and name', async () => {
    const res = await apply(
      `${DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 0}]\n`,
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ document: 1, kind: 'Service', name: 'web', path: 'spec.ports[0].port' }),
    ]);
    expect(res.body.detail).toMatch(
      /^1 problem in the manifests; nothing was applied\. First: document 2 \(Service "web"\): spec\.ports\[0\]\.port: /,
    );
  });

  it('refuses a metadata.namespace that disagrees with ?namespace=, naming it', async () => {
    const res = await apply(
      DEPLOYMENT.replace('  name: web\n', '  name: web\n  namespace: other\n'),
      '?namespace=shop',
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ document: 0, kind: 'Deployment', name: 'web', path: 'metadata.namespace' }),
    ]);
    expect((await t.call('GET', '/v1/namespaces/other/deployments/web')).status).toBe(404);
  });

  it('records ServiceAccounts and the account a pod names, and says once that Berth mounts no token', async () => {
    const res = await apply(`${SERVICE_ACCOUNT}---\n${DEPLOYMENT}`, '?namespace=shop', deployer);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      { kind: 'ServiceAccount', namespace: 'shop', name: 'web', action: 'created' },
      { kind: 'Deployment', namespace: 'shop', name: 'web', action: 'created' },
    ]);
    expect(res.body.warnings).toEqual([
      { kind: 'Deployment', namespace: 'shop', name: 'web', message: NO_TOKEN_WARNING },
    ]);
    // The account is an object of its own; the pod's name for it is kept in the template.
    const account = (await t.call('GET', '/v1/namespaces/shop/serviceaccounts/web')).body;
    expect(account).toMatchObject({ kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } });
    expect((await t.call('GET', '/v1/namespaces/shop/serviceaccounts')).body.items).toHaveLength(1);
    const stored = (await t.call('GET', '/v1/namespaces/shop/deployments/web')).body;
    expect(stored.spec.template.spec.serviceAccountName).toBe('web');
    expect(stored.spec.template.spec.containers[0].resources.requests).toEqual({
      cpu: '.5',
      memory: '128974848000m',
    });
    // A second apply changes nothing and says the same.
    const again = await apply(`${SERVICE_ACCOUNT}---\n${DEPLOYMENT}`, '?namespace=shop', deployer);
    expect(again.body.items.map((i: { action: string }) => i.action)).toEqual(['unchanged', 'unchanged']);
    expect(again.body.warnings).toHaveLength(1);
  });

  it('warns of no token where neither the pod nor its account would have one, and of an account not found', async () => {
    const quiet = `${SERVICE_ACCOUNT}automountServiceAccountToken: false\n---\n${DEPLOYMENT.replace('name: web\n', 'name: quiet\n')}`;
    const res = await apply(quiet, '?namespace=shop', deployer);
    expect([res.status, res.body.warnings]).toEqual([200, undefined]);
    // The pod's own word wins over its account's.
    const asks = await apply(
      DEPLOYMENT.replace('name: web\n', 'name: asks\n').replace(
        'serviceAccountName: web\n',
        'serviceAccountName: web\n      automountServiceAccountToken: true\n',
      ),
      '?namespace=shop',
      deployer,
    );
    expect(asks.body.warnings).toEqual([
      { kind: 'Deployment', namespace: 'shop', name: 'asks', message: NO_TOKEN_WARNING },
    ]);
    const missing = await apply(
      DEPLOYMENT.replace('name: web\n', 'name: lost\n').replace(
        'serviceAccountName: web',
        'serviceAccountName: nobody',
      ),
      '?namespace=shop&dryRun=true',
      deployer,
    );
    expect(missing.body.warnings?.map((w: { message: string }) => w.message)).toEqual([
      'serviceaccount "nobody" not found: its replicas wait (Pending) until it is created',
      NO_TOKEN_WARNING,
    ]);
  });

  it('serves ServiceAccounts under their own path: dry run, viewers read, deployers write their namespaces', async () => {
    const dry = await t.call('PUT', '/v1/namespaces/shop/serviceaccounts/dry?dryRun=true', {
      metadata: { name: 'dry' },
    });
    expect(dry.status).toBe(201);
    expect((await t.call('GET', '/v1/namespaces/shop/serviceaccounts/dry')).status).toBe(404);
    const viewer = (
      await t.call('POST', '/v1/tokens', { name: 'look', role: 'viewer', namespaces: ['shop'] })
    ).body.token;
    const read = await t.plane.app.request('/v1/namespaces/shop/serviceaccounts/web', {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(read.status).toBe(200);
    expect((await apply(SERVICE_ACCOUNT, '?namespace=other', deployer)).status).toBe(403);
    const bad = await t.call('PUT', '/v1/namespaces/shop/serviceaccounts/web', {
      imagePullSecrets: [{ name: 'x' }],
    });
    expect(bad.status).toBe(422);
    const del = await t.call('DELETE', '/v1/namespaces/shop/serviceaccounts/dry-not-there');
    expect(del.status).toBe(404);
  });

  it('holds a skipped object to the same permissions: its namespace, or an admin for cluster-scoped RBAC', async () => {
    expect((await apply(CLUSTER_ROLE, '?namespace=shop', deployer)).status).toBe(403);
    const admin = await apply(CLUSTER_ROLE);
    expect(admin.status).toBe(200);
    expect(admin.body.items).toEqual([
      { kind: 'ClusterRole', namespace: '', name: 'web-reader', action: 'skipped' },
    ]);
  });

  it('keeps a NetworkPolicy a 422 naming kind', async () => {
    const res = await apply(
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n',
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ path: 'kind', kind: 'NetworkPolicy', name: 'deny' }),
    ]);
  });
});
