import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlane, type TestPlane } from '../support/plane.ts';

/** The Job API: what a read gives back applies unchanged, what Kubernetes fixes stays fixed. */
const NS = '/v1/namespaces/default';
const spec = (image = 'shop/migrate:1') => ({
  completions: 2,
  suspend: true,
  template: {
    metadata: { labels: { app: 'migrate' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'm', image }] },
  },
});

describe('Jobs through the API', () => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane('pglite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows the labels naming the Job in its template, and takes its own read back as unchanged', async () => {
    expect((await t.call('PUT', `${NS}/jobs/migrate`, { spec: spec() })).status).toBe(201);
    const read = (await t.call('GET', `${NS}/jobs/migrate`)).body;
    expect(read.spec.template.metadata.labels).toEqual({
      app: 'migrate',
      'batch.kubernetes.io/job-name': 'migrate',
      'job-name': 'migrate',
    });
    expect(read.spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/job-name': 'migrate' } });
    const again = await t.call('PUT', `${NS}/jobs/migrate`, { metadata: read.metadata, spec: read.spec });
    expect([again.status, again.body.metadata.resourceVersion]).toEqual([200, read.metadata.resourceVersion]);
    // The file it came from, applied again: unchanged too.
    expect((await t.call('PUT', `${NS}/jobs/migrate`, { spec: spec() })).body.metadata.resourceVersion).toBe(
      read.metadata.resourceVersion,
    );
  });

  it('refuses a new template or completions (422 at each path), and takes a new parallelism', async () => {
    const changed = await t.call('PUT', `${NS}/jobs/migrate`, {
      spec: { ...spec('shop/migrate:2'), completions: 3 },
    });
    expect(changed.status).toBe(422);
    expect(changed.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'spec.completions',
      'spec.template',
    ]);
    const scaled = await t.call('PUT', `${NS}/jobs/migrate`, { spec: { ...spec(), parallelism: 2 } });
    expect([scaled.status, scaled.body.spec.parallelism]).toEqual([200, 2]);
  });

  it('keeps a Job and a Deployment of one name apart', async () => {
    const deployment = {
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'migrate' } },
        template: {
          metadata: { labels: { app: 'migrate' } },
          spec: { containers: [{ name: 'm', image: 'x:1' }] },
        },
      },
    };
    expect((await t.call('PUT', `${NS}/deployments/migrate`, deployment)).status).toBe(201);
    expect((await t.call('GET', `${NS}/jobs`)).body.items.map((j: { kind: string }) => j.kind)).toEqual([
      'Job',
    ]);
    expect(
      (await t.call('GET', `${NS}/deployments`)).body.items.map((d: { kind: string }) => d.kind),
    ).toEqual(['Deployment']);
    expect((await t.call('DELETE', `${NS}/jobs/migrate`)).status).toBe(200);
    expect((await t.call('GET', `${NS}/deployments/migrate`)).status).toBe(200);
    expect((await t.call('GET', `${NS}/jobs/migrate`)).status).toBe(404);
  });
});
