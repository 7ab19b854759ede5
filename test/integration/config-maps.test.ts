import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/manifests/${name}`, import.meta.url), 'utf8');

describe.each(DATABASE_KINDS)('ConfigMaps on %s', (kind) => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane(kind);
  });
  afterAll(async () => {
    await t?.close();
  });
  const apply = async (body: string, query = '') => {
    const res = await t.plane.app.request(`/v1/apply${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
      body,
    });
    return { status: res.status, body: await res.json() };
  };

  it('creates, reads, lists by label, replaces and deletes a ConfigMap, values included', async () => {
    const path = '/v1/namespaces/cm/configmaps/app';
    const created = await t.call('PUT', path, {
      metadata: { labels: { app: 'web' } },
      data: { MODE: 'prod', 'app.conf': 'a=1\nb=2\n' },
      binaryData: { logo: 'iVBORw0KGgo=' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      apiVersion: 'berth.dev/v1',
      kind: 'ConfigMap',
      metadata: { name: 'app', namespace: 'cm', labels: { app: 'web' }, resourceVersion: '1' },
      data: { MODE: 'prod', 'app.conf': 'a=1\nb=2\n' },
      binaryData: { logo: 'iVBORw0KGgo=' },
    });
    expect(created.body.immutable).toBeUndefined();
    expect((await t.call('GET', path)).body.data.MODE).toBe('prod');
    await t.call('PUT', '/v1/namespaces/cm/configmaps/other', { data: {} });
    const listed = await t.call('GET', '/v1/namespaces/cm/configmaps?labelSelector=app%3Dweb');
    expect(listed.body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['app']);

    const same = await t.call('PUT', path, {
      metadata: { labels: { app: 'web' } },
      data: { MODE: 'prod', 'app.conf': 'a=1\nb=2\n' },
      binaryData: { logo: 'iVBORw0KGgo=' },
    });
    expect([same.status, same.body.metadata.resourceVersion]).toEqual([200, '1']);
    const changed = await t.call('PUT', path, { data: { MODE: 'dev' } });
    expect([changed.status, changed.body.metadata.resourceVersion]).toEqual([200, '2']);
    expect(changed.body.binaryData).toBeUndefined();

    expect((await t.call('DELETE', path)).status).toBe(200);
    const gone = await t.call('GET', path);
    expect([gone.status, gone.body.detail]).toEqual([404, 'configmap "cm/app" not found']);
  });

  it('refuses bad keys, bad base64 and a key in both data and binaryData, naming each path', async () => {
    const res = await t.call('PUT', '/v1/namespaces/cm/configmaps/bad', {
      data: { 'no spaces': 'x' },
      binaryData: { raw: 'not base64!' },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'binaryData.raw',
      'data["no spaces"]',
    ]);
    const both = await t.call('PUT', '/v1/namespaces/cm/configmaps/bad', {
      data: { both: 'y' },
      binaryData: { both: 'eQ==' },
    });
    expect([both.status, both.body.errors[0].path]).toEqual([422, 'binaryData.both']);
  });

  it('keeps an immutable ConfigMap as it is: data changes are a 422, metadata changes are not', async () => {
    const path = '/v1/namespaces/cm/configmaps/frozen';
    expect((await t.call('PUT', path, { data: { K: 'v1' }, immutable: true })).status).toBe(201);
    const edit = await t.call('PUT', path, { data: { K: 'v2' }, immutable: true });
    expect(edit.status).toBe(422);
    expect(edit.body.errors).toEqual([
      { path: 'data', message: 'field is immutable when `immutable` is set' },
    ]);
    const thaw = await t.call('PUT', path, { data: { K: 'v1' } });
    expect(thaw.status).toBe(422);
    expect(thaw.body.errors[0].path).toBe('immutable');
    const relabel = await t.call('PUT', path, {
      metadata: { labels: { tier: 'gold' } },
      data: { K: 'v1' },
      immutable: true,
    });
    expect([relabel.status, relabel.body.metadata.labels]).toEqual([200, { tier: 'gold' }]);
    // Deleting and re-creating is the way to change it, as in Kubernetes.
    expect((await t.call('DELETE', path)).status).toBe(200);
    expect((await t.call('PUT', path, { data: { K: 'v2' }, immutable: true })).status).toBe(201);
  });

  it('applies what kubectl create configmap prints, unchanged, and re-apply is unchanged', async () => {
    const text = fixture('kubectl-create-configmap.yaml');
    const first = await apply(text, '?namespace=cm');
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([
      { kind: 'ConfigMap', namespace: 'cm', name: 'app-config', action: 'created' },
    ]);
    expect((await t.call('GET', '/v1/namespaces/cm/configmaps/app-config')).body.data).toEqual({
      GREETING: 'hello world',
      MODE: 'prod',
    });
    expect((await apply(text, '?namespace=cm')).body.items[0].action).toBe('unchanged');
    const berth = await apply(
      'apiVersion: berth.dev/v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {MODE: dev}\n',
      '?namespace=cm&dryRun=true',
    );
    expect([berth.status, berth.body.items[0].action, berth.body.dryRun]).toEqual([200, 'configured', true]);
    expect((await t.call('GET', '/v1/namespaces/cm/configmaps/app-config')).body.data.MODE).toBe('prod');
  });

  it('lets a viewer read ConfigMaps but not write them, and a deployer write them', async () => {
    const token = async (role: string) =>
      (await t.call('POST', '/v1/tokens', { name: `cm-${role}`, role, namespaces: ['cm'] })).body.token;
    const viewer = await token('viewer');
    const deployer = await token('deployer');
    await t.call('PUT', '/v1/namespaces/cm/configmaps/shared', { data: { K: 'v' } });
    expect((await t.call('GET', '/v1/namespaces/cm/configmaps/shared', undefined, viewer)).body.data).toEqual(
      {
        K: 'v',
      },
    );
    expect((await t.call('PUT', '/v1/namespaces/cm/configmaps/x', { data: {} }, viewer)).status).toBe(403);
    expect((await t.call('PUT', '/v1/namespaces/cm/configmaps/x', { data: {} }, deployer)).status).toBe(201);
    expect((await t.call('GET', '/v1/namespaces/other/configmaps', undefined, deployer)).status).toBe(403);
  });
});
