import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * POST /v1/apply with manifests written for kubectl: errors name the document as kubectl names
 * objects, a namespace that disagrees with ?namespace= is refused, and the kinds that only serve
 * Kubernetes' API machinery apply as no-ops with a warning. Nothing here needs an agent.
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
const NO_TOKEN = 'Berth mounts no Kubernetes API token into pods and has no RBAC of its own';

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

  it('applies ServiceAccounts and RBAC as skipped no-ops with warnings, beside what they serve', async () => {
    const res = await apply(`${SERVICE_ACCOUNT}---\n${DEPLOYMENT}`, '?namespace=shop', deployer);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      { kind: 'ServiceAccount', namespace: 'shop', name: 'web', action: 'skipped' },
      { kind: 'Deployment', namespace: 'shop', name: 'web', action: 'created' },
    ]);
    expect(res.body.warnings).toEqual([
      {
        kind: 'ServiceAccount',
        namespace: 'shop',
        name: 'web',
        message: `accepted and not stored: ${NO_TOKEN}`,
      },
      {
        kind: 'Deployment',
        namespace: 'shop',
        name: 'web',
        message: `spec.template.spec.serviceAccountName "web" is accepted and not used: ${NO_TOKEN}`,
      },
    ]);
    // The quantities were read as Kubernetes reads them; the field without effect is not stored.
    const stored = (await t.call('GET', '/v1/namespaces/shop/deployments/web')).body;
    expect(stored.spec.template.spec.serviceAccountName).toBeUndefined();
    expect(stored.spec.template.spec.containers[0].resources.requests).toEqual({
      cpu: '.5',
      memory: '128974848000m',
    });
    // A second apply changes nothing and says the same.
    const again = await apply(`${SERVICE_ACCOUNT}---\n${DEPLOYMENT}`, '?namespace=shop', deployer);
    expect(again.body.items.map((i: { action: string }) => i.action)).toEqual(['skipped', 'unchanged']);
  });

  it('holds a skipped object to the same permissions: its namespace, or an admin for cluster-scoped RBAC', async () => {
    expect((await apply(SERVICE_ACCOUNT, '?namespace=other', deployer)).status).toBe(403);
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
