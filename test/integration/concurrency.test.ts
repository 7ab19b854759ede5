import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { createNodeControlPlane, type NodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import { agentProblems } from '../e2e/support/fault-agents.ts';
import { convergedProblems, startBoundsSampler } from '../e2e/support/fault-invariants.ts';
import { freshPostgres } from '../support/databases.ts';
import { deploymentBody } from '../support/plane.ts';
import {
  dropDatabase,
  PROCESS_ADMIN_TOKEN,
  PROCESS_SECRET_KEY,
  type ServerProcess,
  startServerProcess,
} from '../support/processes.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * Concurrency is settled by Postgres, never by "only one runs" (DESIGN.md). Two control-plane
 * processes (what `npm start` runs) on one database, each with its own safety-net loop and
 * post-write reconciles, plus two in-process reconcilers ticking as fast as they can, while
 * writers churn 30 deployments through both processes and simulated agents (split between the
 * two processes) run what they are told. Afterwards every deployment has exactly its replicas,
 * nothing is on two nodes, and the rollout bounds held at every sample in between.
 */
const DEPLOYMENTS = 30;
const CHURN_MS = 12_000;
const SEED = Number(process.env.BERTH_CHURN_SEED ?? Date.now() % 1_000_000);

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
}

describe('two control-plane processes and two in-process reconcilers under churn', () => {
  let database: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  const servers: ServerProcess[] = [];
  const planes: NodeControlPlane[] = [];
  const dataDirs: string[] = [];
  const fleets: SimFleet[] = [];

  beforeAll(async () => {
    database = await freshPostgres();
    pool = new pg.Pool({ connectionString: database.url, max: 3 });
    const env = { BERTH_RECONCILE_INTERVAL_MS: '250' };
    servers.push(
      ...(await Promise.all([0, 1].map(() => startServerProcess({ databaseUrl: database.url, env })))),
    );
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'berth-churn-'));
      dataDirs.push(dataDir);
      planes.push(
        await createNodeControlPlane({
          env: {
            DATABASE_URL: database.url,
            BERTH_DATA_DIR: dataDir,
            BERTH_ADMIN_TOKEN: PROCESS_ADMIN_TOKEN,
            BERTH_SECRET_KEY: PROCESS_SECRET_KEY,
          },
          log: createLogger('silent'),
        }),
      );
    }
    for (const [i, server] of servers.entries()) {
      fleets.push(
        await startSimAgents({
          server: server.url,
          adminToken: server.adminToken,
          count: 2,
          prefix: `churn-p${i + 1}`,
          options: { readyAfterMs: 80, heartbeatMs: 1000, waitSeconds: 5 },
        }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop();
    for (const p of planes) await p.close();
    for (const s of servers) await s.close();
    await pool?.end();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    if (database) await dropDatabase(database.drop);
  });

  it('converges to exactly the desired replicas, never over maxSurge, with no duplicates', async () => {
    const sql = async <T = Record<string, any>>(text: string, params?: unknown[]) =>
      (await pool.query(text, params as unknown[])).rows as T[];
    const rand = random(SEED);
    const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)]!;
    const strategies = [
      { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
      { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: '50%' } },
      { type: 'Recreate' },
    ];
    const names = Array.from({ length: DEPLOYMENTS }, (_, i) => `churn-${i}`);
    const strategyOf = new Map(names.map((n) => [n, pick(strategies)]));
    const body = (name: string, replicas: number, image: number) =>
      deploymentBody({
        replicas,
        image: `registry.example.com/churn:${image}`,
        spec: { strategy: strategyOf.get(name) },
      });

    // The in-process reconcilers: each loops tick() with no pause but a yield.
    let ticking = true;
    const tickErrors: string[] = [];
    let ticks = 0;
    const tickers = planes.map(async (p) => {
      while (ticking) {
        try {
          await p.reconciler.tick();
          ticks++;
        } catch (e) {
          tickErrors.push(String(e));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    const sampler = startBoundsSampler(sql);

    for (const name of names) {
      const res = await pick(servers).call(
        'PUT',
        `/v1/namespaces/default/deployments/${name}`,
        body(name, 3, 1),
      );
      expect(res.status).toBe(201);
    }
    const counts = { create: 0, scale: 0, image: 0, delete: 0 };
    const failures: string[] = [];
    const latencies: number[] = [];
    const stopAt = Date.now() + CHURN_MS;
    const writer = async () => {
      while (Date.now() < stopAt) {
        const name = pick(names);
        const server = pick(servers);
        const path = `/v1/namespaces/default/deployments/${name}`;
        const roll = rand();
        const sent = performance.now();
        let res: { status: number; body: any };
        if (roll < 0.4) {
          counts.scale++;
          res = await server.call('PUT', `${path}/scale`, { replicas: Math.floor(rand() * 7) });
        } else if (roll < 0.7) {
          counts.image++;
          res = await server.call('PATCH', path, {
            spec: {
              template: {
                spec: {
                  containers: [
                    { name: 'web', image: `registry.example.com/churn:${1 + Math.floor(rand() * 4)}` },
                  ],
                },
              },
            },
          });
        } else if (roll < 0.85) {
          counts.delete++;
          res = await server.call('DELETE', path);
        } else {
          counts.create++;
          res = await server.call(
            'PUT',
            path,
            body(name, Math.floor(rand() * 6), 1 + Math.floor(rand() * 4)),
          );
        }
        latencies.push(performance.now() - sent);
        // 404: scaled, patched or deleted while deleted; anything else must succeed.
        if (res.status >= 300 && res.status !== 404)
          failures.push(`${res.status} ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, 20 + rand() * 60));
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    const churnEnded = Date.now();

    const agents = fleets.flatMap((f) => f.agents);
    let last: string[] = [];
    await eventually(
      async () => {
        last = [...(await convergedProblems(sql)), ...(await agentProblems(sql, agents))];
        return last.length === 0;
      },
      30_000,
      'convergence',
    ).catch((e) => {
      throw new Error(
        `${(e as Error).message}\n${last.slice(0, 20).join('\n')}\n${servers.map((s) => s.output().slice(-3000)).join('\n----\n')}`,
      );
    });
    const convergedMs = Date.now() - churnEnded;
    ticking = false;
    await Promise.all(tickers);
    const report = await sampler.stop();

    const [sum] = await sql<{ want: string; running: string }>(`
      select (select coalesce(sum((spec->>'replicas')::int), 0) from deployments where deleted_at is null)::text as want,
             (select count(*) from replicas where desired = 'running')::text as running`);
    // Per agent and deployment, never more running than the deployment asks for.
    const perAgent = new Map<string, number>();
    for (const agent of agents)
      for (const a of agent.running()) {
        const key = `${agent.name} ${a.deployment}`;
        perAgent.set(key, (perAgent.get(key) ?? 0) + 1);
      }
    const wanted = new Map(
      (
        await sql<{ name: string; want: number }>(
          `select name, (spec->>'replicas')::int as want from deployments where deleted_at is null`,
        )
      ).map((r) => [r.name, r.want]),
    );
    const overloaded = [...perAgent].filter(([key, n]) => n > (wanted.get(key.split(' ')[1]!) ?? 0));
    const logErrors = servers
      .flatMap((s) => s.output().split('\n'))
      .filter((l) => /"level":"(error|warn)"/.test(l) && !/notify failed/.test(l));
    console.log(
      `churn seed ${SEED}: ${JSON.stringify(counts)} over ${CHURN_MS / 1000} s through 2 processes, ` +
        `write latency p50 ${percentile(latencies, 0.5)} ms p99 ${percentile(latencies, 0.99)} ms, ` +
        `${ticks} in-process ticks; converged ${convergedMs} ms after the churn: ${wanted.size} deployments, ` +
        `${sum!.running} running rows = ${sum!.want} wanted; ${report.samples} samples, ${report.judged} judged, ` +
        `${report.violations.length} bound violations; ${tickErrors.length} tick errors, ${logErrors.length} server warnings`,
    );
    expect(failures).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(tickErrors).toEqual([]);
    expect(logErrors).toEqual([]);
    expect(Number(sum!.running)).toBe(Number(sum!.want));
    expect(overloaded).toEqual([]);
  });
});
