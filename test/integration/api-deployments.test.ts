import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  DATABASE_KINDS,
  deploymentBody,
  startTestPlane,
  type TestPlane,
} from '../support/plane.ts';

const D = '/v1/namespaces/default/deployments';

describe.each(DATABASE_KINDS)('deployments API on %s', (kind) => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates with 201, updates with 200, and an identical apply is a no-op', async () => {
    const created = await t.call('PUT', `${D}/apply-web`, deploymentBody());
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({
      name: 'apply-web',
      namespace: 'default',
      generation: 1,
      resourceVersion: '1',
    });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);

    const same = await t.call('PUT', `${D}/apply-web`, deploymentBody());
    expect(same.status).toBe(200);
    expect(same.body.metadata).toMatchObject({ generation: 1, resourceVersion: '1' });

    const changed = await t.call(
      'PUT',
      `${D}/apply-web`,
      deploymentBody({ image: 'registry.example.com/web:2' }),
    );
    expect(changed.status).toBe(200);
    expect(changed.body.metadata).toMatchObject({ generation: 2, resourceVersion: '2' });

    const relabelled = await t.call(
      'PUT',
      `${D}/apply-web`,
      deploymentBody({ image: 'registry.example.com/web:2', labels: { app: 'web', tier: 'front' } }),
    );
    expect(relabelled.body.metadata).toMatchObject({ generation: 2, resourceVersion: '3' });
  });

  it('fills Kubernetes defaults and shows them on GET', async () => {
    await t.call('PUT', `${D}/defaults`, {
      spec: {
        template: {
          spec: { containers: [{ name: 'c', image: 'x:1', readinessProbe: { httpGet: { port: 80 } } }] },
        },
      },
    });
    const { status, body } = await t.call('GET', `${D}/defaults`);
    expect(status).toBe(200);
    expect(body.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      minReadySeconds: 0,
      paused: false,
    });
    expect(body.spec.template.spec.restartPolicy).toBe('Always');
    expect(body.spec.template.spec.containers[0].readinessProbe).toMatchObject({
      httpGet: { path: '/', port: 80, scheme: 'HTTP' },
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
      initialDelaySeconds: 0,
    });
  });

  it('rejects invalid specs with 422 and one JSON path per problem, changing nothing', async () => {
    const res = await t.call('PUT', `${D}/bad`, {
      spec: {
        replicas: -1,
        colour: 'blue',
        template: { spec: { containers: [{ name: 'Web', image: 42 }] } },
        strategy: { rollingUpdate: { maxSurge: '250%' } },
      },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 422, code: 'VALIDATION_FAILED', title: 'Validation failed' });
    expect(res.body.requestId).toBeTruthy();
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'spec.replicas',
        'spec.colour',
        'spec.template.spec.containers[0].name',
        'spec.template.spec.containers[0].image',
        'spec.strategy.rollingUpdate.maxSurge',
      ]),
    );
    expect((await t.call('GET', `${D}/bad`)).status).toBe(404);
  });

  it('answers malformed JSON with 400, a wrong content type with 415, a huge body with 413', async () => {
    const bad = await t.plane.app.request(`${D}/x`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"spec": ',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('BAD_REQUEST');
    const wrongType = await t.plane.app.request(`${D}/x`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    expect((await wrongType.json()).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const huge = await t.plane.app.request(`${D}/x`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(huge.status).toBe(413);
    expect((await huge.json()).code).toBe('PAYLOAD_TOO_LARGE');
    expect((await t.call('GET', `${D}/x`)).status).toBe(404);
  });

  it('rejects names that are not DNS labels, in the URL and in metadata', async () => {
    const res = await t.call('PUT', `${D}/Not_A_Name`, deploymentBody());
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('name');
    const traversal = await t.call('GET', '/v1/namespaces/..%2F..%2Fetc/deployments');
    expect([404, 422]).toContain(traversal.status);
    const mismatch = await t.call('PUT', `${D}/a-name`, { ...deploymentBody(), metadata: { name: 'other' } });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.errors[0].path).toBe('metadata.name');
  });

  it('lists with labelSelector', async () => {
    await t.call('PUT', `${D}/sel-a`, deploymentBody({ labels: { app: 'sel', tier: 'front' } }));
    await t.call('PUT', `${D}/sel-b`, deploymentBody({ labels: { app: 'sel', tier: 'back' } }));
    const names = async (selector: string) =>
      (await t.call('GET', `${D}?labelSelector=${encodeURIComponent(selector)}`)).body.items.map(
        (d: any) => d.metadata.name,
      );
    expect(await names('app=sel')).toEqual(['sel-a', 'sel-b']);
    expect(await names('app=sel,tier=back')).toEqual(['sel-b']);
    expect(await names('app=sel,tier!=back')).toEqual(['sel-a']);
    expect(await names('app=sel,tier in (front,x)')).toEqual(['sel-a']);
    const bad = await t.call('GET', `${D}?labelSelector=${encodeURIComponent('a==b==c')}`);
    expect(bad.status).toBe(422);
  });

  it('scales, patches, pauses and resumes, and bumps generation only on spec change', async () => {
    await t.call('PUT', `${D}/ops`, deploymentBody({ replicas: 2 }));
    const scaled = await t.call('PUT', `${D}/ops/scale`, { replicas: 5 });
    expect(scaled.status).toBe(200);
    expect(scaled.body.spec.replicas).toBe(5);
    expect(scaled.body.metadata.generation).toBe(2);
    expect((await t.call('PUT', `${D}/ops/scale`, { replicas: -3 })).status).toBe(422);

    const patched = await t.plane.app.request(`${D}/ops`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({
        spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/web:9' }] } } },
      }),
    });
    expect(patched.status).toBe(200);
    const body = await patched.json();
    expect(body.spec.template.spec.containers[0].image).toBe('registry.example.com/web:9');
    expect(body.spec.replicas).toBe(5);
    expect(body.metadata.generation).toBe(3);

    const badPatch = await t.call('PATCH', `${D}/ops`, { spec: { replicas: 'many' } });
    expect(badPatch.status).toBe(422);
    expect(badPatch.body.errors[0].path).toBe('spec.replicas');

    const paused = await t.call('POST', `${D}/ops/pause`);
    expect(paused.body.spec.paused).toBe(true);
    expect(paused.body.metadata.generation).toBe(4);
    const resumed = await t.call('POST', `${D}/ops/resume`);
    expect(resumed.body.spec.paused).toBe(false);
  });

  it('enforces optimistic concurrency with metadata.resourceVersion', async () => {
    const first = await t.call('PUT', `${D}/occ`, deploymentBody());
    const rv = first.body.metadata.resourceVersion;
    const ok = await t.call('PUT', `${D}/occ`, {
      ...deploymentBody({ replicas: 4 }),
      metadata: { resourceVersion: rv },
    });
    expect(ok.status).toBe(200);
    const stale = await t.call('PUT', `${D}/occ`, {
      ...deploymentBody({ replicas: 6 }),
      metadata: { resourceVersion: rv },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('CONFLICT');
    expect((await t.call('GET', `${D}/occ`)).body.spec.replicas).toBe(4);
    const stalePatch = await t.call('PATCH', `${D}/occ`, {
      metadata: { resourceVersion: rv },
      spec: { replicas: 1 },
    });
    expect(stalePatch.status).toBe(409);
  });

  it('deletes, after which the deployment is gone from the API', async () => {
    await t.call('PUT', `${D}/gone`, deploymentBody());
    expect((await t.call('DELETE', `${D}/gone`)).status).toBe(200);
    expect((await t.call('GET', `${D}/gone`)).status).toBe(404);
    expect((await t.call('DELETE', `${D}/gone`)).status).toBe(404);
    const listed = (await t.call('GET', D)).body.items.map((d: any) => d.metadata.name);
    expect(listed).not.toContain('gone');
    // The name can be used again at once.
    expect((await t.call('PUT', `${D}/gone`, deploymentBody())).status).toBe(201);
  });

  it('keeps revision history and rolls back to the previous template', async () => {
    await t.call('PUT', `${D}/hist`, deploymentBody({ image: 'img:1' }));
    await t.plane.reconciler.reconcile([(await t.call('GET', `${D}/hist`)).body.metadata.uid]);
    await t.call('PUT', `${D}/hist`, deploymentBody({ image: 'img:2' }));
    await t.plane.reconciler.reconcile([(await t.call('GET', `${D}/hist`)).body.metadata.uid]);
    const revs = await t.call('GET', `${D}/hist/revisions`);
    expect(revs.body.items.map((r: any) => r.revision)).toEqual([2, 1]);
    expect(revs.body.items[1].template.spec.containers[0].image).toBe('img:1');
    const back = await t.call('POST', `${D}/hist/rollback`);
    expect(back.status).toBe(200);
    expect(back.body.spec.template.spec.containers[0].image).toBe('img:1');
    const missing = await t.call('POST', `${D}/hist/rollback`, { toRevision: 99 });
    expect(missing.status).toBe(422);
    expect(missing.body.errors[0].path).toBe('toRevision');
  });

  it('serves /healthz, /readyz, /openapi.json and /docs', async () => {
    expect((await t.call('GET', '/healthz', undefined, null)).status).toBe(200);
    expect((await t.call('GET', '/readyz', undefined, null)).status).toBe(200);
    const doc = await t.call('GET', '/openapi.json', undefined, null);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/namespaces/{ns}/deployments/{name}',
        '/v1/tokens',
        '/v1/join-tokens',
        '/v1/agent/assignments',
      ]),
    );
    const put = doc.body.paths['/v1/namespaces/{ns}/deployments/{name}'].put;
    const schema = JSON.stringify(put.requestBody);
    expect(schema).toContain('progressDeadlineSeconds');
    const docs = await t.plane.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/v1/namespaces/{ns}/deployments/{name}');
  });

  it('answers unknown routes with a problem+json 404', async () => {
    const res = await t.call('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with request counts per route and reconcile figures', async () => {
    const t = await startTestPlane('pglite');
    try {
      await t.call('PUT', `${D}/metered`, deploymentBody({ replicas: 1 }));
      await t.call('GET', `${D}/metered`);
      await t.plane.reconciler.tick();
      const res = await t.plane.app.request('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toMatch(
        /berth_http_requests_total\{method="GET",route="\/v1\/namespaces\/:ns\/deployments\/:name",status="200"\} 1/,
      );
      expect(text).toContain('# TYPE berth_http_request_duration_seconds histogram');
      expect(text).toContain('berth_reconcile_tick_duration_seconds_count 1');
      expect(text).toMatch(/berth_process_resident_memory_bytes \d+/);
    } finally {
      await t.close();
    }
  });
});
