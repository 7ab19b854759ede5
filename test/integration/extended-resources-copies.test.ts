import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { createNodeControlPlane, type NodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import { freshPostgres } from '../support/databases.ts';
import { ADMIN_TOKEN, deploymentBody } from '../support/plane.ts';
import { eventually } from '../support/sim-agents.ts';

/**
 * Two control-plane copies on one PostgreSQL hand out a node's extended resources: deployments
 * written at once through both never get more devices than the node advertises.
 */
describe('extended resources across control-plane copies', () => {
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

  const call = async (
    plane: NodeControlPlane,
    method: string,
    path: string,
    body?: unknown,
    token = ADMIN_TOKEN,
  ) => {
    const res = await plane.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  it('never gives two copies the same device', async () => {
    const [a, b] = planes as [NodeControlPlane, NodeControlPlane];
    const join = (await call(a, 'POST', '/v1/join-tokens', {})).body;
    const reg = await call(
      b,
      'POST',
      '/v1/agent/register',
      {
        joinToken: join.token,
        name: 'dongles',
        capacity: { cpu: 8, memoryBytes: 8 * 1024 ** 3 },
        address: '127.0.0.1',
        extendedResources: { 'example.com/dongle': 3 },
      },
      '',
    );
    expect(reg.status).toBe(200);
    const wanting = (i: number) => {
      const body = deploymentBody({ replicas: 1, labels: { app: `d-${i}` } });
      body.spec.template.metadata.labels = { app: `d-${i}` };
      const pod = body.spec.template.spec as Record<string, unknown>;
      (pod.containers as Record<string, unknown>[])[0]!.resources = { limits: { 'example.com/dongle': 1 } };
      return body;
    };
    // Eight deployments written at the same time, half through each copy, each placing at once.
    const written = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(i % 2 ? b : a, 'PUT', `/v1/namespaces/default/deployments/d-${i}`, wanting(i)),
      ),
    );
    expect(written.map((w) => w.status)).toEqual(Array(8).fill(201));
    // Each write's own reconcile may still run when the ticks come (a tick skips a deployment
    // another reconcile holds): what is checked is the state once every deployment has its replica.
    const replicas = await eventually(
      async () => {
        for (const p of planes) await p.reconciler.tick();
        const all = (
          await Promise.all(
            Array.from({ length: 8 }, async (_, i) => {
              const list = await call(a, 'GET', `/v1/namespaces/default/replicas?deployment=d-${i}`);
              return list.body.items as { node: string | null; message: string | null }[];
            }),
          )
        ).flat();
        return all.length === 8 && all.every((r) => r.node || r.message) ? all : undefined;
      },
      30_000,
      'a replica of each deployment, placed or said why not',
    );
    expect(replicas.filter((r) => r.node === 'dongles')).toHaveLength(3);
    expect(replicas.filter((r) => !r.node).map((r) => r.message)).toEqual(
      Array(5).fill('0/1 nodes available: 1 Insufficient example.com/dongle'),
    );
    const node = (await call(b, 'GET', '/v1/nodes/dongles')).body;
    expect(node.allocated.extendedResources).toEqual({ 'example.com/dongle': 3 });
  });
});
