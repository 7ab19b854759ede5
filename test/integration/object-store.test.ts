import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * Every kind goes through the one object store (workers/store/objects.ts): the same
 * "nothing changed" rule on canonical JSON, the same preconditions and messages, the same dry
 * run, whether written by PUT, PATCH or POST /v1/apply.
 */

/** The same object twice: every map's keys in reverse order. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reordered(v)]),
    );
  return value;
}

const KINDS = [
  {
    kind: 'Deployment',
    plural: 'deployments',
    body: {
      apiVersion: 'berth.dev/v1',
      kind: 'Deployment',
      metadata: { labels: { app: 'web', tier: 'front' }, annotations: { team: 'shop', owner: 'a' } },
      spec: {
        replicas: 0,
        template: {
          metadata: { labels: { app: 'web', tier: 'front' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'web:1',
                env: [{ name: 'MODE', value: 'prod' }],
                resources: { requests: { cpu: '100m', memory: '64Mi' } },
              },
            ],
            nodeSelector: { zone: 'a', disk: 'ssd' },
          },
        },
      },
    },
  },
  {
    kind: 'Service',
    plural: 'services',
    body: {
      apiVersion: 'berth.dev/v1',
      kind: 'Service',
      metadata: { labels: { app: 'web', tier: 'front' } },
      spec: {
        selector: { app: 'web', tier: 'front' },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      },
    },
  },
  {
    kind: 'Secret',
    plural: 'secrets',
    body: {
      apiVersion: 'berth.dev/v1',
      kind: 'Secret',
      metadata: { labels: { app: 'web', tier: 'front' } },
      type: 'opaque',
      data: { user: 'shop', password: 'hunter2', host: 'db.internal' },
    },
  },
] as const;

describe.each(DATABASE_KINDS)('the object store on %s', (db) => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane(db);
  });
  afterAll(async () => {
    await t?.close();
  });
  const apply = async (docs: unknown[], query = '') => {
    const res = await t.plane.app.request(`/v1/apply${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  describe.each(KINDS)('$kind', ({ kind, plural, body }) => {
    const path = (name: string) => `/v1/namespaces/store/${plural}/${name}`;

    it('writes nothing for the same object with its keys in another order, by PUT and by apply', async () => {
      const created = await t.call('PUT', path('same'), body);
      expect(created.status).toBe(201);
      const again = await t.call('PUT', path('same'), reordered(body));
      expect(again.status).toBe(200);
      expect(again.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
      expect(again.body.metadata.updatedAt).toBe(created.body.metadata.updatedAt);
      const applied = await apply(
        [reordered({ ...body, metadata: { ...body.metadata, name: 'same' } })],
        '?namespace=store',
      );
      expect(applied.status).toBe(200);
      expect(applied.body.items).toEqual([{ kind, namespace: 'store', name: 'same', action: 'unchanged' }]);
      const read = await t.call('GET', path('same'));
      expect(read.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
    });

    it('refuses a stale resourceVersion with the same conflict, and a name or namespace that disagrees with the URL', async () => {
      const created = await t.call('PUT', path('guarded'), body);
      const changed = { ...body, metadata: { ...body.metadata, labels: { app: 'other' } } };
      expect((await t.call('PUT', path('guarded'), changed)).status).toBe(200);
      const stale = await t.call('PUT', path('guarded'), {
        ...body,
        metadata: { ...body.metadata, resourceVersion: created.body.metadata.resourceVersion },
      });
      expect(stale.status).toBe(409);
      expect(stale.body.detail).toMatch(
        new RegExp(
          `^${kind.toLowerCase()} "store/guarded" was modified \\(resourceVersion \\d+, you sent \\d+\\); read it again and retry$`,
        ),
      );
      const missing = await t.call('PUT', path('absent'), {
        ...body,
        metadata: { ...body.metadata, resourceVersion: '1' },
      });
      expect(missing.status).toBe(409);
      expect(missing.body.detail).toBe(
        `${kind.toLowerCase()} "store/absent" does not exist, so resourceVersion cannot match`,
      );
      const elsewhere = await t.call('PUT', path('guarded'), {
        ...body,
        metadata: { ...body.metadata, name: 'other', namespace: 'elsewhere' },
      });
      expect(elsewhere.status).toBe(422);
      expect(elsewhere.body.errors.map((e: { path: string }) => e.path)).toEqual([
        'metadata.name',
        'metadata.namespace',
      ]);
    });

    it('answers a dry run as the write would, and writes nothing', async () => {
      const dry = await t.call('PUT', `${path('dry')}?dryRun=true`, body);
      expect(dry.status).toBe(201);
      expect(dry.body.metadata.name).toBe('dry');
      expect((await t.call('GET', path('dry'))).status).toBe(404);
      const applied = await apply(
        [{ ...body, metadata: { ...body.metadata, name: 'dry' } }],
        '?namespace=store&dryRun=true',
      );
      expect(applied.body).toEqual({
        items: [{ kind, namespace: 'store', name: 'dry', action: 'created' }],
        dryRun: true,
      });
      expect((await t.call('GET', path('dry'))).status).toBe(404);
      expect((await t.call('PUT', `${path('dry')}?dryRun=maybe`, body)).status).toBe(422);
    });
  });

  it('dry-runs a merge patch of a deployment without writing it', async () => {
    const created = await t.call('PUT', '/v1/namespaces/store/deployments/patched', KINDS[0].body);
    const res = await t.plane.app.request('/v1/namespaces/store/deployments/patched?dryRun=true', {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 2 } }),
    });
    expect(res.status).toBe(200);
    const dry = (await res.json()) as any;
    expect(dry.spec.replicas).toBe(2);
    expect(dry.metadata.generation).toBe(created.body.metadata.generation + 1);
    const read = await t.call('GET', '/v1/namespaces/store/deployments/patched');
    expect(read.body.spec.replicas).toBe(0);
    expect(read.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
  });
});
