import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatchReader } from '../support/kube-watch.ts';
import { ADMIN_TOKEN, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * Watches on the Kubernetes face, in-process: a list's resourceVersion is a point a watch starts
 * from; the changes after it come in commit order (ADDED, MODIFIED, DELETED); a point the change
 * log no longer reaches is 410 Expired; bookmarks; selectors; Tables; one log read per change
 * however many watch.
 */

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

let t: TestPlane;

async function get(path: string, accept = 'application/json') {
  const res = await t.plane.app.request(path, {
    headers: { accept, authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function watch(path: string, accept = 'application/json'): Promise<WatchReader> {
  const res = await t.plane.app.request(path, {
    headers: { accept, authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return new WatchReader(res);
}

const put = (name: string, body = deploymentBody({ replicas: 1 })) =>
  t.call('PUT', `/v1/namespaces/default/deployments/${name}`, body);

beforeAll(async () => {
  t = await startTestPlane('pglite');
  expect((await put('base')).status).toBe(201);
});

afterAll(async () => {
  await t?.close();
});

describe('watching the Kubernetes face', () => {
  it('sees the changes after a list resourceVersion, in order, deletion included', async () => {
    const list = await get(DEPLOYMENTS);
    const from = list.body.metadata.resourceVersion as string;
    expect(Number(from)).toBeGreaterThan(0);
    // Every object's resourceVersion is a point of the same clock, not past the list's.
    for (const item of list.body.items)
      expect(Number(item.metadata.resourceVersion)).toBeLessThanOrEqual(Number(from));

    const w = await watch(`${DEPLOYMENTS}?watch=true&resourceVersion=${from}&timeoutSeconds=30`);
    expect((await put('one')).status).toBe(201);
    const added = await w.until((e) => e.object.metadata.name === 'one');
    expect(added.type).toBe('ADDED');
    expect(added.object).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 1 } });

    expect((await put('one', deploymentBody({ replicas: 2 }))).status).toBe(200);
    const modified = await w.until((e) => e.object.metadata.name === 'one' && e.object.spec.replicas === 2);
    expect(modified.type).toBe('MODIFIED');
    expect(Number(modified.object.metadata.resourceVersion)).toBeGreaterThan(
      Number(added.object.metadata.resourceVersion),
    );

    expect((await t.call('DELETE', '/v1/namespaces/default/deployments/one')).status).toBeLessThan(300);
    const deleted = await w.until((e) => e.type === 'DELETED');
    expect(deleted.object.metadata.name).toBe('one');
    // Its last state, at the deletion's point of the clock.
    expect(deleted.object.spec.replicas).toBe(2);
    expect(Number(deleted.object.metadata.resourceVersion)).toBeGreaterThan(
      Number(modified.object.metadata.resourceVersion),
    );
    await w.end();

    // A watch from the list's point again replays the same story (the log still holds it).
    const again = await watch(`${DEPLOYMENTS}?watch=true&resourceVersion=${from}&timeoutSeconds=30`);
    const replayed = await again.until((e) => e.object.metadata.name === 'one');
    expect(replayed.type).toBe('DELETED');
    await again.end();
    // And a GET shows the same clock value the watch's events carry.
    const base = await get(`${DEPLOYMENTS}/base`);
    expect(Number(base.body.metadata.resourceVersion)).toBeLessThanOrEqual(Number(from));
  });

  it('starts with ADDED for what there is when given no resourceVersion', async () => {
    const w = await watch(`${DEPLOYMENTS}?watch=1&timeoutSeconds=30`);
    const first = await w.next();
    expect(first).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'base' } } });
    await w.end();
  });

  it('answers 410 Expired for a point the change log no longer reaches', async () => {
    const { body } = await get(DEPLOYMENTS);
    await t.plane.deps.db.execute(sql`update kube_clock set pruned_through = rv where id = 1`);
    try {
      const w = await watch(`${DEPLOYMENTS}?watch=true&resourceVersion=1`);
      expect(await w.next()).toMatchObject({
        type: 'ERROR',
        object: { kind: 'Status', code: 410, reason: 'Expired' },
      });
      await w.closed(5000);
      // The point a list gives now is still good.
      const fresh = await get(DEPLOYMENTS);
      const ok = await watch(
        `${DEPLOYMENTS}?watch=true&resourceVersion=${fresh.body.metadata.resourceVersion}&timeoutSeconds=1`,
      );
      await ok.closed(10_000);
      expect(ok.events.filter((e) => e.type === 'ERROR')).toEqual([]);
    } finally {
      await t.plane.deps.db.execute(sql`update kube_clock set pruned_through = 0 where id = 1`);
    }
    expect(body.kind).toBe('DeploymentList');
  });

  it('ends at timeoutSeconds, with a bookmark at the point reached before it', async () => {
    const { body } = await get(DEPLOYMENTS);
    const started = Date.now();
    const w = await watch(
      `${DEPLOYMENTS}?watch=true&resourceVersion=${body.metadata.resourceVersion}&timeoutSeconds=2&allowWatchBookmarks=true`,
    );
    await w.closed(15_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    const marks = w.events.filter((e) => e.type === 'BOOKMARK');
    expect(marks.length).toBeGreaterThanOrEqual(1);
    expect(marks[0]!.object).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1' });
    expect(Number(marks[0]!.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(
      Number(body.metadata.resourceVersion),
    );
  });

  it('filters by label and field selectors: an object that stops matching is DELETED for the watch', async () => {
    expect((await put('picky', deploymentBody({ replicas: 1, labels: { tier: 'front' } }))).status).toBe(201);
    const { body } = await get(DEPLOYMENTS);
    const from = body.metadata.resourceVersion;
    const byLabel = await watch(
      `${DEPLOYMENTS}?watch=true&resourceVersion=${from}&labelSelector=tier%3Dfront`,
    );
    const byName = await watch(
      `${DEPLOYMENTS}?watch=true&resourceVersion=${from}&fieldSelector=metadata.name%3Dpicky`,
    );
    const notName = await watch(
      `${DEPLOYMENTS}?watch=true&resourceVersion=${from}&fieldSelector=metadata.name!%3Dpicky`,
    );
    expect((await put('other', deploymentBody({ replicas: 1, labels: { tier: 'front' } }))).status).toBe(201);
    expect((await put('picky', deploymentBody({ replicas: 1, labels: { tier: 'back' } }))).status).toBe(200);

    expect(await byLabel.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'other' } } });
    expect(await byLabel.next()).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'picky' } } });
    expect(await byName.next()).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'picky' } } });
    expect(await notName.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'other' } } });
    // Nothing else came to the name-selected watches.
    await new Promise((r) => setTimeout(r, 300));
    expect(byName.events.length).toBe(1);
    expect(notName.events.length).toBe(1);
    for (const w of [byLabel, byName, notName]) await w.end();

    const list = await get(`${DEPLOYMENTS}?fieldSelector=metadata.name%3Dpicky,metadata.namespace%3Ddefault`);
    expect(list.body.items.map((i: any) => i.metadata.name)).toEqual(['picky']);
    const pods = await get('/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3D');
    expect(pods.status).toBe(200);
    const bad = await get(`${DEPLOYMENTS}?fieldSelector=spec.paused%3Dtrue`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect(bad.body.message).toContain('field label not supported: spec.paused');
  });

  it('sends each event as a one-row Table when asked (kubectl get -w)', async () => {
    const { body } = await get(DEPLOYMENTS, TABLE);
    expect(body.kind).toBe('Table');
    const w = await watch(
      `${DEPLOYMENTS}?watch=true&resourceVersion=${body.metadata.resourceVersion}`,
      TABLE,
    );
    expect((await put('tabled')).status).toBe(201);
    const e = await w.until((x) => x.object.rows?.[0]?.cells?.[0] === 'tabled');
    expect(e.type).toBe('ADDED');
    expect(e.object).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    expect(e.object.rows).toHaveLength(1);
    expect(e.object.rows[0].object.metadata.name).toBe('tabled');
    await w.end();
  });

  it('reads the change log once per change, however many watch', async () => {
    const hub = t.plane.deps.kubeWatch!;
    const { body } = await get(DEPLOYMENTS);
    const watchers = await Promise.all(
      Array.from({ length: 50 }, () =>
        watch(
          `${DEPLOYMENTS}?watch=true&resourceVersion=${body.metadata.resourceVersion}&fieldSelector=metadata.name%3Dshared`,
        ),
      ),
    );
    const before = hub.logReads;
    expect((await put('shared')).status).toBe(201);
    for (const w of watchers) expect(await w.next()).toMatchObject({ type: 'ADDED' });
    // The commit's notification wakes one read (a poll tick may add one more).
    expect(hub.logReads - before).toBeLessThanOrEqual(3);
    for (const w of watchers) await w.end();
  });
});
