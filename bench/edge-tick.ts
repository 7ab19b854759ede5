import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { DeploymentInput } from '../common/deployment.ts';
import { createLogger } from '../common/logger.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { openNeonDatabase } from '../db/neon-database.ts';
import { openDatabase } from '../db/node-database.ts';
import { rowsOf } from '../db/rows.ts';
import { freshPostgres } from '../test/support/databases.ts';
import { parseConfig } from '../workers/config.ts';
import { buildPlane } from '../workers/runtime/plane.ts';

/**
 * What one cron invocation of the Worker costs, at 1,000 and 10,000 deployments.
 *
 * Workers bill and limit CPU time, but inside workerd `performance.now()` and `Date.now()`
 * only advance on I/O (a Spectre mitigation), so CPU cannot be read there. This runs the same
 * code path in Node instead: the Worker's dependencies (workers/runtime/plane.ts), the reconciler,
 * Drizzle over the Neon driver's WebSocket Pool, through the dev WebSocket-to-TCP proxy (in a
 * child process, so its CPU is not counted), to the real PostgreSQL. CPU is this process's
 * user+system time around `tick()`; wall time includes the database's own work.
 *
 * Two states per size: settled (every deployment Available, nothing due: the common minute)
 * and all dirty (every deployment due at once, e.g. after an outage: the worst minute).
 *
 *   node --import tsx bench/edge-tick.ts [--sizes 1000,10000] [--driver neon|pg]
 *
 * Needs the PostgreSQL of test/support/databases.ts (BERTH_TEST_DATABASE_URL).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const sizes = arg('sizes', '1000,10000').split(',').map(Number);
const driver = arg('driver', 'neon') as 'neon' | 'pg';
const NODES = 50;
const REPLICAS = 2;
/** What one Workers cron invocation takes at most by default (BERTH_CRON_MAX_BATCHES). */
const CRON_MAX_BATCHES = 10;

interface Sample {
  cpuMs: number;
  wallMs: number;
}

async function measure<T>(fn: () => Promise<T>): Promise<Sample & { value: T }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wall };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (n: number) => n.toFixed(1).padStart(8);

async function startProxyProcess(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'infra/neon-ws-proxy.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /BERTH_NEON_WS_PROXY=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`proxy exited (${code})`)));
  });
  return { url, proc };
}

async function seed(handle: DatabaseHandle, count: number): Promise<void> {
  const spec = DeploymentInput.parse({
    spec: {
      replicas: REPLICAS,
      template: {
        metadata: { labels: { app: 'bench' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'registry.example.com/web:1',
              ports: [{ containerPort: 8080 }],
              resources: { requests: { cpu: '10m', memory: '16Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
            },
          ],
        },
      },
    },
  }).spec;
  // Nodes that stay Ready for the whole run (heartbeat in the future), with room for everything.
  await handle.db.execute(sql`
    insert into nodes (id, name, labels, address, agent_version, capacity_cpu_millis, capacity_memory_bytes,
                       allocatable_cpu_millis, allocatable_memory_bytes, last_heartbeat)
    select gen_random_uuid(), 'bench-' || i, '{}'::jsonb, '10.0.0.' || i, 'bench', 1000000, 1099511627776,
           1000000, 1099511627776, now() + interval '1 day'
    from generate_series(1, ${NODES}) i`);
  await handle.db.execute(sql`
    insert into deployments (id, namespace, name, labels, spec, generation, resource_version, reconcile_at, progress_at)
    select gen_random_uuid(), 'default', 'bench-' || i, '{"app":"bench"}'::jsonb, ${JSON.stringify(spec)}::jsonb,
           1, 1, now(), now()
    from generate_series(1, ${count}) i`);
}

async function drain(tick: (maxBatches: number) => Promise<{ more: boolean }>): Promise<void> {
  while ((await tick(1000)).more) {
    // keep going: more than one tick's worth was due
  }
}

async function run(count: number) {
  const pgdb = await freshPostgres();
  const direct = await openDatabase({ url: pgdb.url, dataDir: '.berth' });
  let proxy: { url: string; proc: ChildProcess } | undefined;
  let handle: DatabaseHandle = direct;
  try {
    await migrateDatabase(direct);
    await seed(direct, count);
    if (driver === 'neon') {
      proxy = await startProxyProcess();
      handle = openNeonDatabase(pgdb.url, {
        webSocketProxy: proxy.url,
        webSocketConstructor: WebSocket as never,
        maxConnections: 2,
      });
    }
    const { reconciler } = buildPlane({
      runtime: 'workers',
      config: await parseConfig({}, { longPollMaxSeconds: 0 }),
      handle,
      log: createLogger('silent'),
    });
    const tick = (maxBatches: number) => reconciler.tick({ maxBatches });

    // First rollout: revisions, replicas, placement. Then the agents' word: all Running and ready.
    const rollout = await measure(() => drain(tick));
    await direct.db.execute(sql`
      update replicas set phase = 'Running', ready = true, ready_since = now() - interval '1 hour'`);
    await direct.db.execute(sql`update deployments set reconcile_at = now()`);
    await drain(tick);
    const [left] = rowsOf<{ n: number }>(
      await direct.db.execute(sql`select count(*)::int as n from deployments where reconcile_at is not null`),
    );

    const settled: Sample[] = [];
    for (let i = 0; i < 15; i++) settled.push(await measure(() => tick(10)));

    const dirty: Sample[] = [];
    const perTick: Sample[] = [];
    for (let i = 0; i < 3; i++) {
      await direct.db.execute(sql`update deployments set reconcile_at = now()`);
      dirty.push(await measure(() => drain(tick)));
      // One cron invocation's bounded share (10 batches of 200) from an all-dirty start.
      await direct.db.execute(sql`update deployments set reconcile_at = now()`);
      perTick.push(await measure(() => tick(CRON_MAX_BATCHES)));
      await drain(tick);
    }
    return { count, rollout, left: left?.n ?? 0, settled, dirty, perTick };
  } finally {
    if (handle !== direct) await handle.close();
    await direct.close();
    proxy?.proc.kill('SIGTERM');
    await dropWithRetry(pgdb.drop);
  }
}

/** Autovacuum (a superuser process) may still be working on the big tables, which blocks a forced drop. */
async function dropWithRetry(drop: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await drop();
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

console.log(
  `edge tick: driver ${driver === 'neon' ? 'Neon WebSocket Pool via the dev proxy' : 'node-postgres'}`,
);
console.log(`${NODES} nodes, ${REPLICAS} replicas per deployment, batch 200; CPU and wall in ms (median)`);
console.log('deployments  state                              CPU      wall');
for (const count of sizes) {
  const r = await run(count);
  const row = (state: string, samples: Sample[]) =>
    console.log(
      `${String(count).padStart(11)}  ${state.padEnd(30)} ${fmt(median(samples.map((s) => s.cpuMs)))} ${fmt(median(samples.map((s) => s.wallMs)))}`,
    );
  row('first rollout (all batches)', [r.rollout]);
  row('settled (nothing due)', r.settled);
  row('all dirty, one cron tick', r.perTick);
  row('all dirty, drained', r.dirty);
  if (r.left) console.log(`             (${r.left} deployments were still due after settling)`);
}
