import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { startSimAgents } from '../support/sim-agents.ts';

/**
 * Writes through the Kubernetes API face in-process: the same rules as `/v1/apply` (a 422 names
 * the field as a Kubernetes Invalid Status), the same store (an object written here is `/v1`'s),
 * resourceVersion preconditions, dry runs, the four patch types and the scale subresource. kubectl
 * itself drives it in test/e2e/kubectl-write.test.ts.
 */

let t: TestPlane;
let viewer: string;

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';

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
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const deployment = (name: string, image = 'registry.example.com/web:1') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
    },
  },
});

beforeAll(async () => {
  t = await startTestPlane('pglite');
  const res = await t.call('POST', '/v1/tokens', {
    name: 'watcher',
    role: 'viewer',
    namespaces: ['default'],
  });
  viewer = res.body.token;
});

afterAll(async () => {
  await t?.close();
});

describe('writes through the Kubernetes API face', () => {
  it('creates with POST (201), as /v1 then reads it, and refuses a second create as AlreadyExists', async () => {
    const created = await send('POST', DEPLOYMENTS, deployment('web'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', generation: 1 },
    });
    // The face's resourceVersion (the cluster-wide clock), as a read of it shows.
    const read = await send('GET', `${DEPLOYMENTS}/web`);
    expect(read.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
    const berth = await t.call('GET', '/v1/namespaces/default/deployments/web');
    expect(berth.body.spec.template.spec.containers[0].image).toBe('registry.example.com/web:1');
    const again = await send('POST', DEPLOYMENTS, deployment('web'));
    expect(again).toMatchObject({
      status: 409,
      body: { kind: 'Status', reason: 'AlreadyExists', message: 'deployments.apps "web" already exists' },
    });
  });

  it('answers a field /v1 refuses with an Invalid Status naming its path, and writes nothing', async () => {
    const bad = deployment('broken');
    (bad.spec.template.spec.containers[0] as Record<string, unknown>).tty = true;
    const res = await send('POST', DEPLOYMENTS, bad);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      details: {
        name: 'broken',
        kind: 'Deployment',
        causes: [{ field: 'spec.template.spec.containers[0].tty' }],
      },
    });
    expect(res.body.message).toMatch(
      /^Deployment\.apps "broken" is invalid: spec\.template\.spec\.containers\[0\]\.tty: /,
    );
    expect((await t.call('GET', '/v1/namespaces/default/deployments/broken')).status).toBe(404);
    const unnamed = deployment('x') as { metadata: Record<string, unknown> };
    unnamed.metadata = { generateName: 'web-' };
    const generated = await send('POST', DEPLOYMENTS, unnamed);
    expect(generated.status).toBe(422);
    expect(generated.body.details.causes[0].field).toBe('metadata.generateName');
  });

  it('replaces with PUT, keeping the last-applied annotation, and answers a stale resourceVersion with 409', async () => {
    const current = (await send('GET', `${DEPLOYMENTS}/web`)).body;
    current.metadata.annotations = {
      ...current.metadata.annotations,
      'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}',
    };
    current.spec.replicas = 3;
    const replaced = await send('PUT', `${DEPLOYMENTS}/web`, current);
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body.spec.replicas).toBe(3);
    expect(replaced.body.metadata.annotations).toMatchObject({
      'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}',
    });
    // The revision annotation is the face's to show, not stored as the caller's.
    const berth = await t.call('GET', '/v1/namespaces/default/deployments/web');
    expect(berth.body.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}',
    });
    const stale = await send('PUT', `${DEPLOYMENTS}/web`, current);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict' });
    expect(stale.body.message).toContain('the object has been modified');
    expect((await send('PUT', `${DEPLOYMENTS}/nothing`, deployment('nothing'))).status).toBe(404);
    const renamed = await send('PUT', `${DEPLOYMENTS}/web`, deployment('other'));
    expect(renamed).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
  });

  it('patches with each of the four types, validated as a PUT would be', async () => {
    const merge = await send(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      { metadata: { labels: { tier: 'front' } } },
      { type: 'application/merge-patch+json' },
    );
    expect(merge.status, JSON.stringify(merge.body)).toBe(200);
    expect(merge.body.metadata.labels).toEqual({ app: 'web', tier: 'front' });

    const strategic = await send(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      {
        spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/web:2' }] } } },
      },
      { type: 'application/strategic-merge-patch+json' },
    );
    expect(strategic.status).toBe(200);
    const [web, ...others] = strategic.body.spec.template.spec.containers;
    expect(others).toEqual([]);
    expect(web).toMatchObject({ name: 'web', image: 'registry.example.com/web:2' });
    expect(web.ports).toEqual([expect.objectContaining({ containerPort: 8080 })]);

    const json = await send(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      [{ op: 'replace', path: '/spec/replicas', value: 2 }],
      { type: 'application/json-patch+json' },
    );
    expect(json.body.spec.replicas).toBe(2);

    const applied = await send(
      'PATCH',
      `${DEPLOYMENTS}/web?fieldManager=kubectl&force=true`,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n',
      { type: 'application/apply-patch+yaml' },
    );
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body.spec.replicas).toBe(4);
    expect(applied.body.spec.template.spec.containers[0].image).toBe('registry.example.com/web:2');

    const invalid = await send(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      { spec: { replicas: -1 } },
      { type: 'application/merge-patch+json' },
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body.details.causes[0].field).toBe('spec.replicas');
    const failed = await send(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      [{ op: 'test', path: '/spec/replicas', value: 9 }],
      {
        type: 'application/json-patch+json',
      },
    );
    expect(failed.status).toBe(422);
    const unknownType = await send('PATCH', `${DEPLOYMENTS}/web`, {}, { type: 'application/json' });
    expect(unknownType.status).toBe(415);
    const stale = await send(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      { metadata: { resourceVersion: '1' }, spec: { replicas: 1 } },
      { type: 'application/merge-patch+json' },
    );
    expect(stale.status).toBe(409);
    expect((await t.call('GET', '/v1/namespaces/default/deployments/web')).body.spec.replicas).toBe(4);
  });

  it('writes back what it shows: a /v1 Deployment without a selector keeps none (no spec change)', async () => {
    expect((await t.call('PUT', '/v1/namespaces/default/deployments/plain', deploymentBody())).status).toBe(
      201,
    );
    const shown = (await send('GET', `${DEPLOYMENTS}/plain`)).body;
    expect(shown.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    const replaced = await send('PUT', `${DEPLOYMENTS}/plain`, shown);
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body.metadata).toMatchObject({
      generation: 1,
      resourceVersion: shown.metadata.resourceVersion,
    });
    const labelled = await send(
      'PATCH',
      `${DEPLOYMENTS}/plain`,
      { metadata: { labels: { extra: 'yes' } } },
      { type: 'application/strategic-merge-patch+json' },
    );
    expect(labelled.body.metadata.generation).toBe(1);
    expect(
      (await t.call('GET', '/v1/namespaces/default/deployments/plain')).body.spec.selector,
    ).toBeUndefined();
  });

  it('creates with server-side apply when the object is not there', async () => {
    const res = await send(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/settings?fieldManager=kubectl',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n',
      { type: 'application/apply-patch+yaml' },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await t.call('GET', '/v1/namespaces/default/configmaps/settings')).body.data).toEqual({ a: '1' });
  });

  it("keeps field ownership: another writer's field is a Conflict with a cause per field, force takes it", async () => {
    const url = '/api/v1/namespaces/default/configmaps/owned';
    const yaml = (a: string, b?: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\ndata:\n  a: "${a}"\n${b ? `  b: "${b}"\n` : ''}`;
    const apply = (body: string, query = '') =>
      send('PATCH', `${url}?fieldManager=deployer${query}`, body, { type: 'application/apply-patch+yaml' });
    expect((await apply(yaml('1', '2'))).status).toBe(201);
    const edited = await send(
      'PATCH',
      `${url}?fieldManager=editor`,
      { data: { a: '9' } },
      { type: 'application/merge-patch+json' },
    );
    expect(edited.body.metadata.managedFields).toEqual([
      expect.objectContaining({
        manager: 'deployer',
        operation: 'Apply',
        fieldsV1: { 'f:data': { 'f:b': {} } },
      }),
      expect.objectContaining({
        manager: 'editor',
        operation: 'Update',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {} } },
      }),
    ]);

    const refused = await apply(yaml('1'));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "editor" using v1: .data.a',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "editor" using v1', field: '.data.a' },
        ],
      },
    });
    // b, which only the refused apply dropped, is still there.
    expect((await send('GET', url)).body.data).toEqual({ a: '9', b: '2' });

    const forced = await apply(yaml('1'), '&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.data).toEqual({ a: '1' });
    expect(forced.body.metadata.managedFields.map((e: { manager: string }) => e.manager)).toEqual([
      'deployer',
    ]);

    // A write that names no manager is its User-Agent's program, or `unknown` without one.
    const unnamed = await send(
      'PATCH',
      url,
      { metadata: { labels: { x: 'y' } } },
      {
        type: 'application/merge-patch+json',
      },
    );
    expect(unnamed.body.metadata.managedFields[1]).toMatchObject({
      manager: 'unknown',
      fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } },
    });

    // Deleted and created again, the object starts with no one else's fields.
    expect((await send('DELETE', url)).status).toBe(200);
    const again = await send('POST', '/api/v1/namespaces/default/configmaps?fieldManager=creator', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned' },
      data: { c: '3' },
    });
    expect(again.status).toBe(201);
    expect(again.body.metadata.managedFields).toEqual([
      expect.objectContaining({
        manager: 'creator',
        operation: 'Update',
        fieldsV1: { 'f:data': { '.': {}, 'f:c': {} } },
      }),
    ]);
  });

  it('checks everything and stores nothing on dryRun=All', async () => {
    const before = (await send('GET', `${DEPLOYMENTS}/web`)).body;
    const patched = await send(
      'PATCH',
      `${DEPLOYMENTS}/web?dryRun=All`,
      { spec: { replicas: 7 } },
      { type: 'application/merge-patch+json' },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.spec.replicas).toBe(7);
    const created = await send('POST', `${DEPLOYMENTS}?dryRun=All`, deployment('ghost'));
    expect(created.status).toBe(201);
    const deleted = await send('DELETE', `${DEPLOYMENTS}/web`, { dryRun: ['All'] });
    expect(deleted.body).toMatchObject({ kind: 'Status', status: 'Success' });
    expect((await send('GET', `${DEPLOYMENTS}/web`)).body).toEqual(before);
    expect((await send('GET', `${DEPLOYMENTS}/ghost`)).status).toBe(404);
    expect((await send('POST', `${DEPLOYMENTS}?dryRun=true`, deployment('ghost'))).status).toBe(400);
  });

  it('serves deployments/scale for kubectl scale', async () => {
    const scale = await send('GET', `${DEPLOYMENTS}/web/scale`);
    expect(scale.body).toMatchObject({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      spec: { replicas: 4 },
      status: { selector: 'app=web' },
    });
    const patched = await send(
      'PATCH',
      `${DEPLOYMENTS}/web/scale`,
      { spec: { replicas: 2 } },
      { type: 'application/merge-patch+json' },
    );
    expect(patched.body.spec.replicas).toBe(2);
    const put = await send('PUT', `${DEPLOYMENTS}/web/scale`, {
      ...scale.body,
      spec: { replicas: 5 },
    });
    expect(put.status).toBe(409); // the Scale read before the patch is stale now
    const fresh = (await send('GET', `${DEPLOYMENTS}/web/scale`)).body;
    const again = await send('PUT', `${DEPLOYMENTS}/web/scale`, { ...fresh, spec: { replicas: 5 } });
    expect(again.body.spec.replicas).toBe(5);
    expect((await t.call('GET', '/v1/namespaces/default/deployments/web')).body.spec.replicas).toBe(5);
  });

  it('refuses a viewer with Forbidden in Kubernetes words, and an Orphan delete as Berth cannot honour it', async () => {
    const res = await send('POST', DEPLOYMENTS, deployment('nope'), { token: viewer });
    expect(res.status).toBe(403);
    expect(res.body.message).toBe(
      'deployments.apps is forbidden: User "watcher" cannot create resource "deployments" in API group "apps" in the namespace "default"',
    );
    const orphan = await send('DELETE', `${DEPLOYMENTS}/web`, { propagationPolicy: 'Orphan' });
    expect(orphan).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
  });

  it('deletes with a Status Success; the object is gone from /v1 too', async () => {
    const res = await send('DELETE', `${DEPLOYMENTS}/web`, { propagationPolicy: 'Background' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
    });
    expect((await t.call('GET', '/v1/namespaces/default/deployments/web')).status).toBe(404);
    expect((await send('DELETE', `${DEPLOYMENTS}/web`)).status).toBe(404);
  });

  it('cordons a node with a patch of spec.unschedulable, and refuses any other change of it', async () => {
    const fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'kw',
    });
    try {
      const cordon = await send(
        'PATCH',
        '/api/v1/nodes/kw-1',
        { spec: { unschedulable: true } },
        {
          type: 'application/strategic-merge-patch+json',
        },
      );
      expect(cordon.status, JSON.stringify(cordon.body)).toBe(200);
      expect(cordon.body.spec.unschedulable).toBe(true);
      expect((await t.call('GET', '/v1/nodes/kw-1')).body.unschedulable).toBe(true);
      const label = await send(
        'PATCH',
        '/api/v1/nodes/kw-1',
        { metadata: { labels: { a: 'b' } } },
        {
          type: 'application/merge-patch+json',
        },
      );
      expect(label).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
      const viewerCordon = await send(
        'PATCH',
        '/api/v1/nodes/kw-1',
        { spec: { unschedulable: false } },
        {
          type: 'application/merge-patch+json',
          token: viewer,
        },
      );
      expect(viewerCordon.status).toBe(403);
      const uncordon = await send(
        'PATCH',
        '/api/v1/nodes/kw-1',
        [{ op: 'remove', path: '/spec/unschedulable' }],
        {
          type: 'application/json-patch+json',
        },
      );
      expect(uncordon.status).toBe(200);
      expect((await t.call('GET', '/v1/nodes/kw-1')).body.unschedulable).toBe(false);
    } finally {
      await fleet.stop();
    }
  });

  it('lists the verbs it serves in discovery, and still answers 405 for a write it does not serve', async () => {
    const apps = (await send('GET', '/apis/apps/v1')).body;
    const deployments = apps.resources.find((r: { name: string }) => r.name === 'deployments');
    expect(deployments.verbs).toEqual(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
    const core = (await send('GET', '/api/v1')).body;
    const pods = core.resources.find((r: { name: string }) => r.name === 'pods');
    expect(pods.verbs).toEqual(['get', 'list', 'watch']);
    const res = await send('DELETE', '/api/v1/namespaces/default/pods/x');
    expect(res).toMatchObject({ status: 405, body: { reason: 'MethodNotAllowed' } });
  });
});
