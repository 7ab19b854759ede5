import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { createNodeControlPlane, type NodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import { freshPostgres } from '../support/databases.ts';
import { ADMIN_TOKEN, deploymentBody } from '../support/plane.ts';

/** Two control-plane copies on one database: an agent long-polling one is woken by a write on the other. */
describe('several control-plane copies on one PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  const planes: NodeControlPlane[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    db = await freshPostgres();
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'berth-copy-'));
      dirs.push(dir);
      planes.push(
        await createNodeControlPlane({
          env: { BERTH_DATA_DIR: dir, BERTH_ADMIN_TOKEN: ADMIN_TOKEN, DATABASE_URL: db.url },
          log: createLogger('silent'),
        }),
      );
    }
  });
  afterAll(async () => {
    for (const p of planes) await p.close();
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const call = (plane: NodeControlPlane, method: string, path: string, body?: unknown, token = ADMIN_TOKEN) =>
    plane.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('wakes a long-poll held by copy A when copy B places a replica (LISTEN/NOTIFY)', async () => {
    const [a, b] = planes as [NodeControlPlane, NodeControlPlane];
    const join = await (await call(a, 'POST', '/v1/join-tokens', {})).json();
    const reg = await (
      await call(
        a,
        'POST',
        '/v1/agent/register',
        {
          joinToken: join.token,
          name: 'copy-node',
          capacity: { cpu: 2, memoryBytes: 2 ** 31 },
          address: '127.0.0.1',
        },
        '',
      )
    ).json();
    const auth = { authorization: `Bearer ${reg.nodeToken}` };
    const first = await a.app.request('/v1/agent/assignments', { headers: auth });
    const etag = first.headers.get('etag')!;
    const started = Date.now();
    const waiting = a.app.request('/v1/agent/assignments?wait=20', {
      headers: { ...auth, 'if-none-match': etag },
    });
    await new Promise((r) => setTimeout(r, 300));
    // The write and its reconcile happen on copy B only.
    expect(
      (await call(b, 'PUT', '/v1/namespaces/default/deployments/cross', deploymentBody({ replicas: 1 })))
        .status,
    ).toBe(201);
    const woke = await waiting;
    const elapsed = Date.now() - started;
    expect(woke.status).toBe(200);
    expect(elapsed).toBeLessThan(5000);
    const body = await woke.json();
    expect(body.replicas.map((r: { deployment: string }) => r.deployment)).toContain('cross');
  });

  it('never lets two copies over-commit a node between them', async () => {
    const [a, b] = planes as [NodeControlPlane, NodeControlPlane];
    const join = await (await call(a, 'POST', '/v1/join-tokens', {})).json();
    const reg = await call(
      b,
      'POST',
      '/v1/agent/register',
      {
        joinToken: join.token,
        name: 'tight',
        capacity: { cpu: 8, memoryBytes: 1024 ** 3 },
        address: '127.0.0.1',
      },
      '',
    );
    expect(reg.status).toBe(200);
    // Room for 3 of these on the node (3 × 300Mi ≤ 1Gi), written alternately through both
    // copies, each of which places at once with its own remembered allocation.
    const pinned = (i: number) => {
      const body = deploymentBody({ replicas: 1, labels: { app: `tight-${i}` } });
      body.spec.template.metadata.labels = { app: `tight-${i}` };
      const pod = body.spec.template.spec as Record<string, unknown>;
      pod.nodeSelector = { 'berth.dev/node': 'tight' };
      (pod.containers as Record<string, unknown>[])[0]!.resources = { requests: { memory: '300Mi' } };
      return body;
    };
    for (let i = 0; i < 6; i++) {
      const via = i % 2 ? b : a;
      expect(
        (await call(via, 'PUT', `/v1/namespaces/default/deployments/tight-${i}`, pinned(i))).status,
      ).toBe(201);
    }
    const placed = async () => {
      let n = 0;
      for (let i = 0; i < 6; i++) {
        const list = await (
          await call(a, 'GET', `/v1/namespaces/default/replicas?deployment=tight-${i}`)
        ).json();
        n += list.items.filter((r: { node: string | null }) => r.node === 'tight').length;
      }
      return n;
    };
    // Let both copies' immediate reconciles finish (and retry what did not fit).
    for (const p of planes) await p.reconciler.tick();
    await new Promise((r) => setTimeout(r, 1200));
    for (const p of planes) await p.reconciler.tick();
    expect(await placed()).toBe(3);
  });

  it('serves the same objects from either copy, with optimistic concurrency across them', async () => {
    const [a, b] = planes as [NodeControlPlane, NodeControlPlane];
    const created = await (
      await call(a, 'PUT', '/v1/namespaces/default/deployments/shared', deploymentBody())
    ).json();
    const rv = created.metadata.resourceVersion;
    expect(
      (
        await call(b, 'PUT', '/v1/namespaces/default/deployments/shared', {
          ...deploymentBody({ replicas: 2 }),
          metadata: { resourceVersion: rv },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(a, 'PUT', '/v1/namespaces/default/deployments/shared', {
          ...deploymentBody({ replicas: 5 }),
          metadata: { resourceVersion: rv },
        })
      ).status,
    ).toBe(409);
    expect(
      (await (await call(a, 'GET', '/v1/namespaces/default/deployments/shared')).json()).spec.replicas,
    ).toBe(2);
  });
});
