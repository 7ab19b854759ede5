import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * The Kubernetes face's ReplicaSets (one per Berth revision), the pods they own, the Deployment's
 * status subresource and the pod log subresource, in-process with simulated agents: what
 * `kubectl rollout history|undo` and `kubectl logs` read (the real kubectl drives the logs in
 * test/e2e/kubectl-logs.test.ts).
 */

const NS = '/v1/namespaces/default';
const APPS = '/apis/apps/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

let t: TestPlane;
let fleet: SimFleet;

async function get(path: string, accept = 'application/json', token: string = ADMIN_TOKEN) {
  const res = await t.plane.app.request(path, { headers: { accept, authorization: `Bearer ${token}` } });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // text/plain (logs)
  }
  return { status: res.status, headers: res.headers, body };
}

const complete = (name: string, revision: number, replicas: number) =>
  eventually(
    async () => {
      const d = (await t.call('GET', `${NS}/deployments/${name}`)).body;
      const running = (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as {
        revision: number;
        ready: boolean;
        desired: string;
      }[];
      return d.status.revision === revision &&
        d.status.readyReplicas === replicas &&
        d.status.updatedReplicas === replicas &&
        running.length === replicas &&
        running.every((r) => r.revision === revision && r.ready && r.desired === 'running')
        ? d
        : undefined;
    },
    20_000,
    `${name} at revision ${revision} with ${replicas} ready replicas`,
  );

beforeAll(async () => {
  t = await startTestPlane('pglite', { BERTH_BACKGROUND: '1', BERTH_RECONCILE_INTERVAL_MS: '200' });
  fleet = await startSimAgents({ server: t.server, adminToken: ADMIN_TOKEN, count: 1, fetch: t.fetch });
  expect((await t.call('PUT', `${NS}/deployments/web`, deploymentBody({ replicas: 2 }))).status).toBe(201);
  await complete('web', 1, 2);
  const next = deploymentBody({ replicas: 2, image: 'registry.example.com/web:2' });
  expect((await t.call('PUT', `${NS}/deployments/web`, next)).status).toBe(200);
  await complete('web', 2, 2);
});

afterAll(async () => {
  await fleet?.stop();
  await t?.close();
});

describe('ReplicaSets: one per revision of a Deployment', () => {
  it('lists each revision as a ReplicaSet owned by its Deployment, as kubectl finds them', async () => {
    const deployment = (await get(`${APPS}/deployments/web`)).body;
    const selector = Object.entries(deployment.spec.selector.matchLabels as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    // kubectl lists by the Deployment's selector, then keeps those its uid controls.
    const list = await get(`${APPS}/replicasets?labelSelector=${encodeURIComponent(selector)}`);
    expect(list.status).toBe(200);
    expect(list.body.kind).toBe('ReplicaSetList');
    const sets = list.body.items as any[];
    expect(sets).toHaveLength(2);
    const revisions = (await t.call('GET', `${NS}/deployments/web/revisions`)).body.items as any[];
    for (const rs of sets) {
      const hash = rs.metadata.labels['pod-template-hash'];
      expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
      expect(rs.metadata.name).toBe(`web-${hash}`);
      expect(rs.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          uid: deployment.metadata.uid,
          controller: true,
        },
      ]);
      expect(deployment.metadata.uid).toBeTruthy();
      expect(rs.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
      expect(rs.spec.template.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
      const revision = Number(rs.metadata.annotations['deployment.kubernetes.io/revision']);
      const stored = revisions.find((r) => r.revision === revision);
      expect(stored, `revision ${revision}`).toBeDefined();
      // Its template is the revision's, so kubectl finds the current one by equality with the Deployment's.
      const { 'pod-template-hash': _hash, ...labels } = rs.spec.template.metadata.labels;
      // (The face shows a drain delay other than the default as an annotation; this one is the default.)
      const { drainDelaySeconds, ...storedSpec } = stored.template.spec;
      expect(drainDelaySeconds).toBe(2);
      expect({ ...rs.spec.template, metadata: { ...rs.spec.template.metadata, labels } }).toEqual({
        ...stored.template,
        spec: storedSpec,
      });
    }
    const [old, current] = [...sets].sort(
      (a, b) =>
        Number(a.metadata.annotations['deployment.kubernetes.io/revision']) -
        Number(b.metadata.annotations['deployment.kubernetes.io/revision']),
    );
    expect(current.spec.template).toMatchObject({ spec: deployment.spec.template.spec });
    expect(current.metadata.annotations['deployment.kubernetes.io/revision']).toBe(
      deployment.metadata.annotations['deployment.kubernetes.io/revision'],
    );
    expect(current.spec.replicas).toBe(2);
    expect(current.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(old.spec.replicas).toBe(0);
    expect(old.status).toMatchObject({ replicas: 0, readyReplicas: 0 });
    expect(old.spec.template.spec.containers[0].image).toBe('registry.example.com/web:1');

    const one = await get(`${APPS}/replicasets/${current.metadata.name}`);
    expect(one.body).toEqual(current);
    const missing = await get(`${APPS}/replicasets/web-nothing`);
    expect(missing).toMatchObject({
      status: 404,
      body: { reason: 'NotFound', message: 'replicasets.apps "web-nothing" not found' },
    });
  });

  it('shows ReplicaSets in a Table with Kubernetes columns', async () => {
    const table = await get(`${APPS}/replicasets`, TABLE);
    expect(table.body.columnDefinitions.map((c: any) => [c.name, c.priority])).toEqual([
      ['Name', 0],
      ['Desired', 0],
      ['Current', 0],
      ['Ready', 0],
      ['Age', 0],
      ['Containers', 1],
      ['Images', 1],
      ['Selector', 1],
    ]);
    const cells = (table.body.rows as any[]).map((r) => r.cells);
    const hashes = cells.map((c) => String(c[0]).slice('web-'.length));
    expect(cells.map((c) => [c[1], c[2], c[3], c[5], c[6]]).sort()).toEqual(
      [
        [0, 0, 0, 'web', 'registry.example.com/web:1'],
        [2, 2, 2, 'web', 'registry.example.com/web:2'],
      ].sort(),
    );
    for (const [i, c] of cells.entries()) expect(c[7]).toBe(`app=web,pod-template-hash=${hashes[i]}`);
  });

  it('makes pods name their ReplicaSet as owner and carry its pod-template-hash', async () => {
    const sets = (await get(`${APPS}/replicasets`)).body.items as any[];
    const current = sets.find((s) => s.spec.replicas === 2);
    const pods = (await get(`${CORE}/pods?labelSelector=app%3Dweb`)).body.items as any[];
    const running = pods.filter((p) => p.metadata.deletionTimestamp === undefined);
    expect(running).toHaveLength(2);
    for (const p of running) {
      expect(p.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: current.metadata.name,
          uid: current.metadata.uid,
          controller: true,
        },
      ]);
      expect(p.metadata.labels['pod-template-hash']).toBe(current.metadata.labels['pod-template-hash']);
      expect(p.spec.containers[0].image).toBe('registry.example.com/web:2');
    }
    // What `kubectl get pods -l pod-template-hash=...` (and describe rs) select.
    const byHash = await get(
      `${CORE}/pods?labelSelector=${encodeURIComponent(`pod-template-hash=${current.metadata.labels['pod-template-hash']}`)}`,
    );
    expect((byHash.body.items as any[]).filter((p) => !p.metadata.deletionTimestamp)).toHaveLength(2);
  });

  it('answers the Deployment status subresource with the Deployment', async () => {
    const status = await get(`${APPS}/deployments/web/status`);
    expect(status.status).toBe(200);
    expect(status.body).toEqual((await get(`${APPS}/deployments/web`)).body);
    expect((await get(`${APPS}/deployments/nothing/status`)).status).toBe(404);
  });

  it('rolls back through /v1 and shows the revision again as the current ReplicaSet', async () => {
    expect((await t.call('POST', `${NS}/deployments/web/rollback`, { toRevision: 1 })).status).toBeLessThan(
      300,
    );
    await complete('web', 1, 2);
    const sets = (await get(`${APPS}/replicasets`)).body.items as any[];
    const byRevision = Object.fromEntries(
      sets.map((s) => [s.metadata.annotations['deployment.kubernetes.io/revision'], s]),
    );
    expect(byRevision['1'].spec.replicas).toBe(2);
    expect(byRevision['2'].spec.replicas).toBe(0);
  });
});

describe('the pod log subresource', () => {
  const podName = async () =>
    ((await get(`${CORE}/pods?labelSelector=app%3Dweb`)).body.items as any[]).find(
      (p) => !p.metadata.deletionTimestamp,
    ).metadata.name as string;

  it("reads a pod's logs from its agent as text", async () => {
    const name = await podName();
    const res = await get(`${CORE}/pods/${name}/log?tailLines=10`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.body).toBe(`log line of ${name} from sim-1\n`);
    expect((await get(`${CORE}/pods/${name}/log?container=web&limitBytes=8`)).body).toBe('log line');
    // The simulated agent stamps no line, as agents that predate stamps: a follow returns them and ends.
    expect((await get(`${CORE}/pods/${name}/log?follow=true`)).body).toBe(`log line of ${name} from sim-1\n`);
  });

  it('refuses as Kubernetes does: unknown pod, unknown container, previous, bad options, forbidden', async () => {
    const name = await podName();
    expect(await get(`${CORE}/pods/nothing/log`)).toMatchObject({
      status: 404,
      body: { kind: 'Status', reason: 'NotFound', message: 'pods "nothing" not found' },
    });
    expect(await get(`${CORE}/pods/${name}/log?container=side`)).toMatchObject({
      status: 400,
      body: { reason: 'BadRequest', message: `container side is not valid for pod ${name}` },
    });
    expect((await get(`${CORE}/pods/${name}/log?previous=true`)).status).toBe(400);
    expect(await get(`${CORE}/pods/${name}/log?tailLines=-1`)).toMatchObject({
      status: 422,
      body: { reason: 'Invalid', details: { causes: [{ field: 'tailLines' }] } },
    });
    expect((await get(`${CORE}/pods/${name}/log?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z`)).status).toBe(
      422,
    );
    const viewer = (
      await t.call('POST', '/v1/tokens', { name: 'other', role: 'viewer', namespaces: ['team-b'] })
    ).body.token;
    expect(await get(`${CORE}/pods/${name}/log`, 'application/json', viewer)).toMatchObject({
      status: 403,
      body: { reason: 'Forbidden' },
    });
  });

  it('asks for a container by name when the pod has several', async () => {
    const body = deploymentBody({ replicas: 1 });
    body.metadata.labels = { app: 'duo' };
    body.spec.template.metadata.labels = { app: 'duo' };
    body.spec.template.spec.containers.push({
      name: 'side',
      image: 'registry.example.com/side:1',
      ports: [{ containerPort: 9090 }],
    });
    expect((await t.call('PUT', `${NS}/deployments/duo`, body)).status).toBe(201);
    await complete('duo', 1, 1);
    const pod = ((await get(`${CORE}/pods?labelSelector=app%3Dduo`)).body.items as any[])[0];
    expect(await get(`${CORE}/pods/${pod.metadata.name}/log`)).toMatchObject({
      status: 400,
      body: {
        reason: 'BadRequest',
        message: `a container name must be specified for pod ${pod.metadata.name}, choose one of: [web side]`,
      },
    });
    expect((await get(`${CORE}/pods/${pod.metadata.name}/log?container=side`)).status).toBe(200);
  });
});

describe('the remaining read kinds', () => {
  it('serves Secrets with their key names and never their values, to those /v1 lets read secrets', async () => {
    const put = await t.call('PUT', `${NS}/secrets/db`, { data: { password: 's3cret', user: 'app' } });
    expect(put.status).toBe(201);
    const secret = await get(`${CORE}/secrets/db`);
    expect(secret.body).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'db', annotations: { 'berth.dev/keys': 'password,user' } },
    });
    expect(secret.body.data).toBeUndefined();
    expect(JSON.stringify((await get(`${CORE}/secrets`)).body)).not.toContain('s3cret');
    const table = await get(`${CORE}/secrets`, TABLE);
    expect(table.body.rows.map((r: any) => r.cells.slice(0, 3))).toEqual([['db', 'Opaque', 2]]);
    const viewer = (
      await t.call('POST', '/v1/tokens', { name: 'look', role: 'viewer', namespaces: ['default'] })
    ).body.token;
    expect(await get(`${CORE}/secrets`, 'application/json', viewer)).toMatchObject({
      status: 403,
      body: { reason: 'Forbidden' },
    });
  });

  it("serves a Service's ready endpoints as its Endpoints, as /v1 lists them", async () => {
    const svc = { spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
    expect((await t.call('PUT', `${NS}/services/web`, svc)).status).toBe(201);
    const berth = (await t.call('GET', `${NS}/services/web/endpoints`)).body.items as any[];
    expect(berth.length).toBe(2);
    const ep = (await get(`${CORE}/endpoints/web`)).body;
    expect(ep).toMatchObject({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web' } });
    expect(
      (ep.subsets as any[]).map((s) => [s.addresses[0].ip, s.addresses[0].targetRef.name, s.ports[0].port]),
    ).toEqual(berth.map((e) => [e.address, e.replica, e.port]));
    const table = await get(`${CORE}/endpoints`, TABLE);
    expect(table.body.rows[0].cells.slice(0, 2)).toEqual([
      'web',
      berth.map((e) => `${e.address}:${e.port}`).join(','),
    ]);
    expect((await get(`${CORE}/endpoints/nothing`)).status).toBe(404);
  });

  it('serves PersistentVolumeClaims, ServiceAccounts and Events', async () => {
    const claim = { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    expect((await t.call('PUT', `${NS}/persistentvolumeclaims/data`, claim)).status).toBe(201);
    expect((await t.call('PUT', `${NS}/serviceaccounts/api`, {})).status).toBe(201);
    const pvc = await get(`${CORE}/persistentvolumeclaims/data`);
    expect(pvc.body).toMatchObject({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      status: { phase: 'Pending' },
    });
    const pvcTable = await get(`${CORE}/persistentvolumeclaims`, TABLE);
    expect(pvcTable.body.rows[0].cells.slice(0, 2)).toEqual(['data', 'Pending']);
    expect((await get(`${CORE}/serviceaccounts/api`)).body).toMatchObject({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
    });

    const events = (await get(`${CORE}/events`)).body;
    expect(events.kind).toBe('EventList');
    const fromV1 = (await t.call('GET', `${NS}/events?limit=1000`)).body.items as any[];
    expect(events.items).toHaveLength(fromV1.length);
    const last = events.items.at(-1);
    const berth = fromV1.at(-1);
    expect(last).toMatchObject({
      kind: 'Event',
      reason: berth.reason,
      message: berth.message,
      type: berth.type,
      count: 1,
      involvedObject: { name: berth.object.split('/')[1] },
    });
    expect((await get(`${CORE}/events/${last.metadata.name}`)).body).toEqual(last);
    const eventTable = await get(`${CORE}/events`, TABLE);
    expect(
      eventTable.body.columnDefinitions.filter((c: any) => c.priority === 0).map((c: any) => c.name),
    ).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  });
});
