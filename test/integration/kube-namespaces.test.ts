import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * Namespaces through the Kubernetes API face and `/v1`: created by admins with their labels and
 * annotations, and deleted as Kubernetes deletes them: Terminating, every object in it deleted
 * through its own verb (replicas told to stop), new objects refused until the namespace has gone.
 * kubectl itself drives it in test/e2e/kubectl-write.test.ts.
 */

let t: TestPlane;
let fleet: SimFleet;
let deployer: string;

const NAMESPACES = '/api/v1/namespaces';

async function send(
  method: string,
  path: string,
  body?: unknown,
  options: { type?: string; token?: string } = {},
) {
  const res = await t.plane.app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${options.token ?? ADMIN_TOKEN}`,
      ...(body !== undefined ? { 'content-type': options.type ?? 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function applyYaml(ns: string, yaml: string) {
  const res = await t.plane.app.request(`/v1/apply?namespace=${ns}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
    body: yaml,
  });
  return { status: res.status, body: await res.json() };
}

const SHOP = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.example.com/web:1}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - host: shop.example.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: pw}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: registry.example.com/migrate:1}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: n, image: registry.example.com/n:1}]
`;

describe.each(DATABASE_KINDS)('namespaces through the Kubernetes API face on %s', (kind) => {
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'kn',
    });
    deployer = (await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['shop'] }))
      .body.token;
  });

  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it('creates one for an admin with its labels and annotations; a deployer gets Forbidden', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { team: 'a' }, annotations: { owner: 'ops' } },
    };
    const refused = await send('POST', NAMESPACES, body, { token: deployer });
    expect(refused).toMatchObject({
      status: 403,
      body: {
        reason: 'Forbidden',
        message:
          'namespaces is forbidden: User "ci" cannot create resource "namespaces" in API group "" at the cluster scope',
      },
    });
    const created = await send('POST', NAMESPACES, body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        labels: { team: 'a', 'kubernetes.io/metadata.name': 'shop' },
        annotations: { owner: 'ops' },
      },
      status: { phase: 'Active' },
    });
    const again = await send('POST', NAMESPACES, body);
    expect(again).toMatchObject({
      status: 409,
      body: { reason: 'AlreadyExists', message: 'namespaces "shop" already exists' },
    });
    expect((await t.call('GET', '/v1/namespaces')).body.items).toContainEqual({
      name: 'shop',
      phase: 'Active',
    });
  });

  it('labels, annotates, replaces and server-side applies a namespace; a dry run stores nothing', async () => {
    const labelled = await send(
      'PATCH',
      `${NAMESPACES}/shop`,
      { metadata: { labels: { env: 'prod' } } },
      {
        type: 'application/strategic-merge-patch+json',
      },
    );
    expect(labelled.status, JSON.stringify(labelled.body)).toBe(200);
    expect(labelled.body.metadata.labels).toEqual({
      team: 'a',
      env: 'prod',
      'kubernetes.io/metadata.name': 'shop',
    });
    expect(labelled.body.metadata.annotations).toEqual({ owner: 'ops' });
    // A label selector sees what is stored.
    const selected = await send('GET', `${NAMESPACES}?labelSelector=env%3Dprod`);
    expect(selected.body.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual(['shop']);

    const read = (await send('GET', `${NAMESPACES}/shop`)).body;
    const replaced = await send('PUT', `${NAMESPACES}/shop`, {
      ...read,
      metadata: { ...read.metadata, annotations: {} },
    });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body.metadata.annotations).toBeUndefined();
    const stale = await send('PUT', `${NAMESPACES}/shop`, read);
    expect(stale).toMatchObject({ status: 409, body: { reason: 'Conflict' } });

    const ssa = await send(
      'PATCH',
      `${NAMESPACES}/applied?fieldManager=kubectl`,
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: applied\n  labels: {a: b}\n',
      {
        type: 'application/apply-patch+yaml',
      },
    );
    expect(ssa.status, JSON.stringify(ssa.body)).toBe(201);
    const dry = await send('POST', `${NAMESPACES}?dryRun=All`, { metadata: { name: 'dry' } });
    expect(dry.status).toBe(201);
    expect((await send('GET', `${NAMESPACES}/dry`)).status).toBe(404);
    const bad = await send('POST', NAMESPACES, { metadata: { name: 'Not_A_Name' } });
    expect(bad).toMatchObject({
      status: 422,
      body: { reason: 'Invalid', details: { causes: [{ field: 'metadata.name' }] } },
    });
  });

  it('refuses to delete default, and a deployer any namespace', async () => {
    const def = await send('DELETE', `${NAMESPACES}/default`);
    expect(def).toMatchObject({
      status: 403,
      body: {
        reason: 'Forbidden',
        message: 'namespaces "default" is forbidden: this namespace may not be deleted',
      },
    });
    expect((await t.call('DELETE', '/v1/namespaces/default')).status).toBe(403);
    const mine = await send('DELETE', `${NAMESPACES}/shop`, undefined, { token: deployer });
    expect(mine.status).toBe(403);
    expect((await t.call('DELETE', '/v1/namespaces/shop', undefined, deployer)).status).toBe(403);
    expect((await send('DELETE', `${NAMESPACES}/absent`)).status).toBe(404);
    expect((await t.call('DELETE', '/v1/namespaces/absent')).status).toBe(404);
  });

  it('deletes a namespace with everything in it: Terminating, replicas stopped, new objects refused, then gone', async () => {
    const applied = await applyYaml('shop', SHOP);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(
      (await t.call('PUT', '/v1/namespaces/shop/policy', { spec: { allowedHostSuffixes: ['example.test'] } }))
        .status,
    ).toBeLessThan(300);
    const agent = fleet.agents[0]!;
    await eventually(
      async () => {
        await t.plane.reconciler.tick();
        const running = agent.running().filter((a) => a.namespace === 'shop' && a.deployment === 'web');
        return running.length === 2;
      },
      30_000,
      'the two replicas running',
    );
    const uids = agent
      .running()
      .filter((a) => a.namespace === 'shop')
      .map((a) => a.id);

    // A dry run answers Terminating and deletes nothing.
    const dry = await send('DELETE', `${NAMESPACES}/shop?dryRun=All`);
    expect(dry.body.status.phase).toBe('Terminating');
    expect((await t.call('GET', '/v1/namespaces/shop/configmaps/settings')).status).toBe(200);

    // The agent out of reach: its replicas (and the claim they mount) outlive the delete for now.
    agent.cutNetwork();
    const deleted = await send('DELETE', `${NAMESPACES}/shop`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    expect(deleted.body.metadata.deletionTimestamp).toBeTruthy();

    // Every object has left the API at once.
    for (const path of [
      'deployments',
      'services',
      'ingresses',
      'configmaps',
      'secrets',
      'serviceaccounts',
      'jobs',
      'cronjobs',
    ])
      expect((await t.call('GET', `/v1/namespaces/shop/${path}`)).body.items, path).toEqual([]);
    expect((await t.call('GET', '/v1/namespaces/shop/policy')).body.spec.allowedHostSuffixes ?? []).toEqual(
      [],
    );

    // A new object is refused as Kubernetes refuses it, on both faces; a deployer's token is unchanged.
    const refused = await send(
      'POST',
      '/api/v1/namespaces/shop/configmaps',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' }, data: { a: 'b' } },
      { token: deployer },
    );
    expect(refused).toMatchObject({
      status: 403,
      body: {
        reason: 'Forbidden',
        message:
          'configmaps "late" is forbidden: unable to create new content in namespace shop because it is being terminated',
        details: {
          causes: [{ reason: 'NamespaceTerminating', message: 'namespace shop is being terminated' }],
        },
      },
    });
    const v1 = await t.call('PUT', '/v1/namespaces/shop/configmaps/late', { data: { a: 'b' } }, deployer);
    expect(v1.status).toBe(403);
    expect(v1.body.detail).toMatch(/namespace "shop" is being terminated/);
    const recreate = await send('POST', NAMESPACES, { metadata: { name: 'shop' } });
    expect(recreate).toMatchObject({ status: 409, body: { reason: 'AlreadyExists' } });
    await t.plane.reconciler.tick();
    expect((await send('GET', `${NAMESPACES}/shop`)).body.status.phase).toBe('Terminating');
    expect((await t.call('GET', '/v1/namespaces')).body.items).toContainEqual({
      name: 'shop',
      phase: 'Terminating',
    });
    agent.heal();

    // The replicas are told to stop; the namespace goes with the last of its objects.
    await eventually(
      async () => {
        await t.plane.reconciler.tick();
        return !agent.running().some((a) => uids.includes(a.id));
      },
      30_000,
      'the replicas stopped',
    );
    await eventually(
      async () => {
        await t.plane.reconciler.tick();
        return (await send('GET', `${NAMESPACES}/shop`)).status === 404;
      },
      30_000,
      'the namespace gone',
    );
    expect(
      (await t.call('GET', '/v1/namespaces')).body.items.map((n: { name: string }) => n.name),
    ).not.toContain('shop');
    expect((await t.call('GET', '/v1/namespaces/shop/persistentvolumeclaims')).body.items).toEqual([]);
    expect((await t.call('GET', '/v1/namespaces/shop/replicas')).body.items).toEqual([]);

    // Gone, it springs into being again on the next write, for the same token.
    const back = await t.call('PUT', '/v1/namespaces/shop/configmaps/again', { data: { a: 'b' } }, deployer);
    expect(back.status).toBe(201);
  });

  it('lets no object slip in behind a delete: each concurrent create is deleted with it, refused, or brings it back', async () => {
    await t.call('PUT', '/v1/namespaces/race/configmaps/first', { data: { a: 'b' } });
    const creates = Array.from({ length: 12 }, (_, i) =>
      t.call('PUT', `/v1/namespaces/race/configmaps/c${i}`, { data: { a: 'b' } }),
    );
    const [deleted, ...results] = await Promise.all([t.call('DELETE', '/v1/namespaces/race'), ...creates]);
    expect(deleted.status).toBe(200);
    for (const r of results) expect([200, 201, 403]).toContain(r.status);
    // Settled: the namespace is Active (a create after it went brought it back) or gone, never
    // left Terminating with an object the delete missed.
    const phase = await eventually(
      async () => {
        await t.plane.reconciler.tick();
        const found = (await t.call('GET', '/v1/namespaces')).body.items.find(
          (n: { name: string }) => n.name === 'race',
        );
        return found?.phase === 'Terminating' ? undefined : (found?.phase ?? 'gone');
      },
      30_000,
      'the namespace settled',
    );
    const left = (await t.call('GET', '/v1/namespaces/race/configmaps')).body.items;
    if (phase === 'gone') expect(left).toEqual([]);
    else expect(left.map((m: { metadata: { name: string } }) => m.metadata.name)).not.toContain('first');
  });

  it('deletes an empty namespace at once through /v1', async () => {
    await t.call('PUT', '/v1/namespaces/empty/configmaps/x', { data: { a: 'b' } });
    await t.call('DELETE', '/v1/namespaces/empty/configmaps/x');
    const gone = await t.call('DELETE', '/v1/namespaces/empty');
    expect(gone).toMatchObject({ status: 200, body: { name: 'empty', phase: 'Deleted' } });
    expect((await send('GET', `${NAMESPACES}/empty`)).status).toBe(404);
  });
});
