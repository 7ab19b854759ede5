import { type ChildProcess, spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { DeploymentInput } from '../../common/deployment.ts';
import { createLogger } from '../../common/logger.ts';
import { openDatabase } from '../../db/node-database.ts';
import { rowsOf } from '../../db/rows.ts';
import { createNodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import type { FleetStart, FleetStats } from '../fleet/poller-fleet.ts';
import { allReady, BerthApi, httpdDeployment } from '../lib/berth-api.ts';
import { benchDatabase, tempDir } from '../lib/berth-stack.ts';
import { onCleanup } from '../lib/cleanup.ts';
import { emptyServer, openLoop } from '../lib/open-loop.ts';
import { procStat, ROOT, startControlPlane } from '../lib/processes.ts';
import type { Section } from '../lib/report.ts';
import { fmtBytes, fmtCount, fmtMs, percentile, summarize } from '../lib/stats.ts';

/** Sizes at 1x; the run multiplies them (2x, 4x). 4x is the issue's 1,000 / 10,000 / 100,000. */
export const BASE = { nodes: 250, deployments: 2500, replicasPerDeployment: 10 };
const POLL_INTERVAL_SECONDS = 10;
const FAST_NODES = 4;
const PROBE_NODES = 50;

export interface ScaleFigures {
  scale: number;
  nodes: number;
  deployments: number;
  replicas: number;
  registerMs: number;
  noopTickMs: number[];
  placementMs: number;
  placementsPerSecond: number;
  /** User+system CPU of the benchmark's controller and the server during placement. */
  placementCpuMs: number;
  settleMs: number;
  settled: boolean;
  settledTickMs: number[];
  poll304: { p50: number; p99: number; count: number; notModified: number };
  /** The same client at the same moment against a server that answers 304 and does nothing else. */
  floor304: { p50: number; p99: number };
  fleetPoll304: { p50: number; p99: number; count: number };
  put: { p50: number; p99: number; count: number; ok: number };
  applyToReady: Record<number, number[]>;
  serverRssMaxBytes: number;
  serverRssEndBytes: number;
}

// --- the simulated fleet, in child processes ------------------------------------------------

interface Fleet {
  registered: Promise<{ count: number; ms: number }>;
  stats(): Promise<FleetStats>;
  stop(): Promise<void>;
}

function startFleet(cfg: Omit<FleetStart, 'type'>): Fleet {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/fleet/poller-fleet.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.send({ type: 'stop' }, () => {});
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
  };
  const undo = onCleanup(`stop the simulated fleet (pid ${child.pid})`, stop);
  const waiters: ((m: any) => void)[] = [];
  let failure: Error | undefined;
  const registered = new Promise<{ count: number; ms: number }>((resolve, reject) => {
    child.on('message', (m: any) => {
      if (m.type === 'registered') resolve(m);
      else if (m.type === 'error') {
        failure = new Error(`simulated fleet: ${m.message}`);
        reject(failure);
      } else if (m.type === 'stats') waiters.shift()?.(m);
    });
    child.once('exit', (code) => reject(failure ?? new Error(`simulated fleet exited (${code})`)));
  });
  registered.catch(() => {});
  child.send({ type: 'start', ...cfg });
  return {
    registered,
    stats: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
        child.send({ type: 'stats' });
      }),
    async stop() {
      await stop();
      await undo();
    },
  };
}

// --- helpers ----------------------------------------------------------------------------------

type Db = Awaited<ReturnType<typeof openDatabase>>['db'];

async function count(db: Db, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = rowsOf<{ n: number }>(await db.execute(query));
  return Number(row?.n ?? 0);
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Seeds deployments straight into the database (10,000 PUTs would take longer than the rest). */
async function seedDeployments(db: Db, count: number, perDeployment: number): Promise<void> {
  const spec = DeploymentInput.parse(
    httpdDeployment({
      replicas: perDeployment,
      app: 'seed',
      image: 'registry.example.com/web:1',
      nodeSelector: { pool: 'fleet' },
      requests: { cpu: '10m', memory: '16Mi' },
    }),
  ).spec;
  await db.execute(sql`
    insert into deployments (id, namespace, name, labels, spec, generation, resource_version)
    select gen_random_uuid(), 'default', 'seed-' || i, '{"app":"seed"}'::jsonb, ${JSON.stringify(spec)}::jsonb, 1, 1
    from generate_series(1, ${count}) i`);
  await db.execute(sql`analyze`);
}

/** Samples a process's RSS every second until stopped; resolves with the largest. */
function watchRss(pid: number): { stop: () => number } {
  let max = 0;
  const sample = () => {
    try {
      max = Math.max(max, procStat(pid).rssBytes);
    } catch {
      // the process is gone
    }
  };
  sample();
  const timer = setInterval(sample, 1000);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return max;
    },
  };
}

// --- one size -------------------------------------------------------------------------------

async function runScale(scale: number, log: (s: string) => void): Promise<ScaleFigures> {
  const nodes = BASE.nodes * scale;
  const deployments = BASE.deployments * scale;
  const replicas = deployments * BASE.replicasPerDeployment;
  const databaseUrl = await benchDatabase();
  const cp = await startControlPlane({
    databaseUrl,
    dataDir: tempDir('berth-bench-cp'),
    env: {
      BERTH_POLL_INTERVAL_SECONDS: String(POLL_INTERVAL_SECONDS),
      ...(process.env.BENCH_CP_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_CP_NODE_OPTIONS } : {}),
    },
    // BENCH_CPU_PROF=DIR: a V8 CPU profile of the server, written when it stops.
    ...(process.env.BENCH_CPU_PROF
      ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] }
      : {}),
  });
  const rss = watchRss(cp.pid);
  const api = new BerthApi(cp.url, cp.adminToken);
  // The same controller code in this process, against the same database, for tick timings.
  const localDir = tempDir('berth-bench-local');
  const handle = await openDatabase({ url: databaseUrl, dataDir: localDir });
  onCleanup('close the benchmark database pool', () => handle.close());
  const plane = await createNodeControlPlane({
    env: { DATABASE_URL: databaseUrl, BERTH_ADMIN_TOKEN: cp.adminToken, BERTH_DATA_DIR: localDir },
    database: handle,
    log: createLogger('silent'),
  });
  onCleanup('close the in-process controller', () => plane.close());
  const db = handle.db;
  const stopAll: (() => Promise<void>)[] = [];
  try {
    const joinToken = await api.joinToken(nodes + FAST_NODES + PROBE_NODES);
    const fleet = startFleet({
      server: cp.url,
      joinToken,
      names: Array.from({ length: nodes }, (_, i) => `sim-${i + 1}`),
      labels: { pool: 'fleet' },
      pollIntervalMs: POLL_INTERVAL_SECONDS * 1000,
      longPoll: false,
    });
    stopAll.push(() => fleet.stop());
    const fast = startFleet({
      server: cp.url,
      joinToken,
      names: Array.from({ length: FAST_NODES }, (_, i) => `fast-${i + 1}`),
      labels: { pool: 'fast' },
      pollIntervalMs: 0,
      longPoll: true,
    });
    stopAll.push(() => fast.stop());
    const reg = await fleet.registered;
    await fast.registered;
    log(`${scale}x: ${reg.count} nodes registered in ${Math.round(reg.ms)} ms`);

    // Nodes for the 304 measurement that nothing selects, so their ETags never move. Several,
    // so that concurrent polls are different nodes' heartbeats, as in a real fleet.
    const probes: { nodeToken: string }[] = [];
    for (let i = 0; i < PROBE_NODES; i++) {
      probes.push(
        await api.call('POST', '/v1/agent/register', {
          joinToken,
          name: `probe-${i + 1}`,
          labels: { pool: 'probe' },
          capacity: { cpu: 1, memoryBytes: 1024 ** 3 },
          address: '127.0.0.1',
          agentVersion: 'bench-probe',
        }),
      );
    }

    await seedDeployments(db, deployments, BASE.replicasPerDeployment);
    const tick = () => plane.reconciler.tick();
    const noopTickMs: number[] = [];
    for (let i = 0; i < 15; i++) noopTickMs.push(await timed(tick));

    // Placement: every deployment due at once, drained by this process's controller (the
    // server's own safety-net loop joins in, as another copy would).
    const placedQuery = sql`select count(*)::int as n from replicas where node_id is not null`;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const serverCpu0 = procStat(cp.pid).cpuMs;
    await db.execute(sql`update deployments set reconcile_at = now()`);
    let ownPlacements = 0;
    for (;;) {
      const r = await plane.reconciler.tick({ maxBatches: 1000 });
      ownPlacements += r.placements;
      if (!r.more) break;
    }
    if (process.env.BENCH_DEBUG)
      log(`${scale}x: in-process ticks placed ${ownPlacements} in ${Math.round(performance.now() - t0)} ms`);
    while ((await count(db, placedQuery)) < replicas) {
      if (performance.now() - t0 > 600_000) throw new Error('placement did not finish in 10 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const placementMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    // CPU of both controllers (this process and the server, which also serves the fleet then).
    const placementCpuMs = (cpu.user + cpu.system) / 1000 + (procStat(cp.pid).cpuMs - serverCpu0);
    log(`${scale}x: ${fmtCount(replicas)} replicas placed in ${fmtMs(placementMs)}`);

    // Settling: the fleet picks up its assignments at its poll interval and reports them ready.
    const s0 = performance.now();
    let settled = false;
    let lastNote = 0;
    const target = deployments;
    for (;;) {
      const [row] = rowsOf<{ available: number; due: number }>(
        await db.execute(sql`
          select count(*) filter (where (status->>'availableReplicas')::int = ${BASE.replicasPerDeployment})::int as available,
                 count(*) filter (where reconcile_at is not null)::int as due
          from deployments where name like 'seed-%'`),
      );
      if ((row?.available ?? 0) >= target && (row?.due ?? 1) === 0) {
        settled = true;
        break;
      }
      if (performance.now() - s0 > lastNote + 10_000) {
        lastNote = performance.now() - s0;
        const f = await fleet.stats();
        const ready = await count(db, sql`select count(*)::int as n from replicas where ready`);
        log(
          `${scale}x: settling: ${row?.available} of ${target} available, ${row?.due} due, ${ready} replicas ready; ` +
            `fleet: ${f.polls} polls, ${f.changed} changed, ${f.reports} reports, ${f.errors + f.reportErrors} errors ${JSON.stringify(f.reasons)}`,
        );
      }
      if (performance.now() - s0 > 120_000) {
        log(`${scale}x: not settled after 120 s: ${JSON.stringify(row)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const settleMs = performance.now() - s0;
    log(`${scale}x: settled in ${fmtMs(settleMs)}`);
    // Settled is not yet steady: nodes that polled before the last changes have still to see
    // them and report, and their reports still move deployments' status. Steady state, where
    // the figures below belong, begins after a whole poll interval in which no node saw a change.
    const q0 = performance.now();
    await fleet.stats();
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_SECONDS * 1000));
      const f = await fleet.stats();
      if (f.changed === 0 && f.reports === 0) break;
      if (performance.now() - q0 > 60_000) {
        log(`${scale}x: still changing 60 s after settling (${f.changed} changed, ${f.reports} reports)`);
        break;
      }
    }
    log(`${scale}x: quiet ${fmtMs(performance.now() - q0)} after settling`);
    const settledTickMs: number[] = [];
    for (let i = 0; i < 15; i++) settledTickMs.push(await timed(tick));

    // API latency under the fleet's load: the 304 poll path and PUT deployment, each at a
    // fixed rate (an open loop: latencies count from when each request was due). First the
    // floor: the same client against a server that does nothing, at the same moment.
    await fleet.stats(); // reset the fleet's counters: from here on is steady state
    if (process.env.BENCH_DEBUG)
      log(`${scale}x: steady state from ${new Date().toISOString().slice(11, 19)}`);
    const pollHeaders = await Promise.all(
      probes.map(async (p) => {
        const res = await fetch(`${cp.url}/v1/agent/assignments`, {
          headers: { authorization: `Bearer ${p.nodeToken}` },
        });
        await res.text();
        return { authorization: `Bearer ${p.nodeToken}`, 'if-none-match': res.headers.get('etag') ?? '' };
      }),
    );
    const pollLoad = { ratePerSecond: 200, durationMs: 8000, connections: 8 };
    const empty = await emptyServer();
    stopAll.push(() => empty.stop());
    const floor = await openLoop({ ...pollLoad, base: empty.base, next: () => ({ path: '/' }) });
    const polls = await openLoop({
      ...pollLoad,
      base: cp.url,
      next: (i) => ({ path: '/v1/agent/assignments', headers: pollHeaders[i % pollHeaders.length] }),
    });
    const pollsDone = new Date().toISOString().slice(11, 19);
    const churnSpec = (i: number, image: string) =>
      JSON.stringify(
        httpdDeployment({
          replicas: 2,
          app: `churn-${i}`,
          image,
          nodeSelector: { pool: 'fleet' },
          requests: { cpu: '10m', memory: '16Mi' },
        }),
      );
    // Each PUT changes a spec (a new image on one of 50 deployments): a real rollout.
    const puts = await openLoop({
      base: cp.url,
      ratePerSecond: 20,
      durationMs: 8000,
      connections: 4,
      next: (n) => ({
        method: 'PUT',
        path: `/v1/namespaces/default/deployments/churn-${n % 50}`,
        headers: { authorization: `Bearer ${cp.adminToken}`, 'content-type': 'application/json' },
        body: churnSpec(n % 50, `registry.example.com/churn:${Math.floor(n / 50)}`),
      }),
    });
    const fleetStats = await fleet.stats();
    if (process.env.BENCH_DEBUG)
      log(
        `${scale}x: steady state until ${new Date().toISOString().slice(11, 19)}, polls done at ${pollsDone}`,
      );

    // Apply to all ready through long-polling simulated agents, with the fleet running.
    const applyToReady: Record<number, number[]> = { 3: [], 30: [] };
    for (const [n, reps] of [
      [3, 3],
      [30, 2],
    ] as const) {
      for (let rep = 0; rep < reps; rep++) {
        const name = `latency-${n}-${rep}`;
        const a0 = performance.now();
        await api.putDeployment(
          name,
          httpdDeployment({ replicas: n, app: name, nodeSelector: { pool: 'fast' } }),
        );
        const { at } = await api.waitFor(name, allReady(n), { what: `${n} ready` });
        applyToReady[n]!.push(at - a0);
        await api.deleteDeployment(name);
      }
    }
    const serverRssEndBytes = procStat(cp.pid).rssBytes;
    const figures: ScaleFigures = {
      scale,
      nodes,
      deployments,
      replicas,
      registerMs: reg.ms,
      noopTickMs,
      placementMs,
      placementsPerSecond: replicas / (placementMs / 1000),
      placementCpuMs,
      settleMs,
      settled,
      settledTickMs,
      poll304: {
        p50: polls.p50,
        p99: polls.p99,
        count: polls.count,
        notModified: polls.statuses['304'] ?? 0,
      },
      floor304: { p50: floor.p50, p99: floor.p99 },
      fleetPoll304: {
        p50: percentile(fleetStats.latencies304, 50),
        p99: percentile(fleetStats.latencies304, 99),
        count: fleetStats.latencies304.length,
      },
      put: {
        p50: puts.p50,
        p99: puts.p99,
        count: puts.count,
        ok: (puts.statuses['200'] ?? 0) + (puts.statuses['201'] ?? 0),
      },
      applyToReady,
      serverRssMaxBytes: rss.stop(),
      serverRssEndBytes,
    };
    log(
      `${scale}x: placements ${fmtCount(figures.placementsPerSecond)}/s, no-op tick ${fmtMs(summarize(noopTickMs).median)}, ` +
        `settled tick ${fmtMs(summarize(settledTickMs).median)}, poll p99 ${fmtMs(figures.poll304.p99)}, ` +
        `PUT p99 ${fmtMs(figures.put.p99)}, RSS ${fmtBytes(figures.serverRssMaxBytes)}`,
    );
    return figures;
  } finally {
    const dbg = (s: string) => process.env.BENCH_DEBUG && log(`${scale}x: ${s}`);
    for (const stop of stopAll.reverse()) await stop();
    dbg('fleets stopped');
    rss.stop();
    await plane.close();
    dbg('in-process controller closed');
    await cp.stop();
    dbg('server stopped');
  }
}

// --- the part -------------------------------------------------------------------------------

export async function controlPlaneAtScale(o: {
  scales: number[];
  log: (s: string) => void;
}): Promise<{ section: Section; figures: ScaleFigures[] }> {
  const figures: ScaleFigures[] = [];
  for (const scale of o.scales) figures.push(await runScale(scale, o.log));

  const base = figures[0]!;
  const columns = [
    'figure',
    ...figures.map((f) => `${f.scale}x`),
    ...figures.slice(1).map((f) => `cost ${f.scale}x ÷ ${base.scale}x`),
    'goal',
  ];
  const med = (xs: number[]) => summarize(xs).median;
  const row = (
    what: string,
    value: (f: ScaleFigures) => number,
    fmt: (v: number) => string,
    goal: string,
    text?: (f: ScaleFigures) => string,
    /** A rate (more is better): its cost is the time per unit, the inverse. */
    rate = false,
  ) => [
    what,
    ...figures.map((f) => (text ? text(f) : fmt(value(f)))),
    ...figures.slice(1).map((f) => `${(rate ? value(base) / value(f) : value(f) / value(base)).toFixed(2)}`),
    goal,
  ];
  const biggest = figures.at(-1)!;
  const at10k = figures.find((f) => f.deployments === 10_000);
  const at1000 = figures.find((f) => f.nodes === 1000);
  const rows = [
    row(
      'nodes / deployments / replicas',
      (f) => f.nodes,
      fmtCount,
      '',
      (f) => `${fmtCount(f.nodes)} / ${fmtCount(f.deployments)} / ${fmtCount(f.replicas)}`,
    ),
    row(
      'placements per second (all deployments due at once)',
      (f) => f.placementsPerSecond,
      (v) => `${fmtCount(v)}/s`,
      `≥ 5,000/s: ${biggest.placementsPerSecond >= 5000 ? 'met' : 'NOT met'} at ${biggest.scale}x`,
      (f) => `${fmtCount(f.placementsPerSecond)}/s (${fmtCount(f.replicas)} in ${fmtMs(f.placementMs)})`,
      true,
    ),
    row(
      'placements per CPU-second (both controllers, Postgres not counted)',
      (f) => f.replicas / (f.placementCpuMs / 1000),
      (v) => `${fmtCount(v)}`,
      '',
      undefined,
      true,
    ),
    row(
      'no-op reconcile tick, nothing due (median of 15)',
      (f) => med(f.noopTickMs),
      fmtMs,
      at10k ? `≤ 50 ms at 10,000: ${med(at10k.noopTickMs) <= 50 ? 'met' : 'NOT met'}` : '≤ 50 ms at 10,000',
    ),
    row(
      'no-op reconcile tick, everything settled (median of 15)',
      (f) => med(f.settledTickMs),
      fmtMs,
      at10k
        ? `≤ 50 ms at 10,000: ${med(at10k.settledTickMs) <= 50 ? 'met' : 'NOT met'}`
        : '≤ 50 ms at 10,000',
    ),
    row(
      'assignment poll, 304 path: p50 / p99 (200/s on top of the fleet)',
      (f) => f.poll304.p99,
      fmtMs,
      at1000
        ? `p99 ≤ 10 ms at 1,000 nodes: ${at1000.poll304.p99 <= 10 ? 'met' : 'NOT met'}`
        : 'p99 ≤ 10 ms at 1,000 nodes',
      (f) =>
        `${fmtMs(f.poll304.p50)} / ${fmtMs(f.poll304.p99)}${f.poll304.notModified < f.poll304.count ? ` (${f.poll304.count - f.poll304.notModified} not 304)` : ''}`,
    ),
    row(
      "the measurement's floor: a server that only answers 304, same client, just before",
      (f) => f.floor304.p99,
      fmtMs,
      '',
      (f) => `${fmtMs(f.floor304.p50)} / ${fmtMs(f.floor304.p99)}`,
    ),
    row(
      "the fleet's own 304 polls: p50 / p99",
      (f) => f.fleetPoll304.p99,
      fmtMs,
      '',
      (f) =>
        `${fmtMs(f.fleetPoll304.p50)} / ${fmtMs(f.fleetPoll304.p99)} (n=${fmtCount(f.fleetPoll304.count)})`,
    ),
    row(
      'PUT deployment (a new image each, 20/s): p50 / p99',
      (f) => f.put.p99,
      fmtMs,
      '',
      (f) =>
        `${fmtMs(f.put.p50)} / ${fmtMs(f.put.p99)}${f.put.ok < f.put.count ? ` (${f.put.count - f.put.ok} failed)` : ''}`,
    ),
    row(
      'apply → all ready, 3 replicas, long-polling simulated agents',
      (f) => med(f.applyToReady[3]!),
      fmtMs,
      '',
    ),
    row(
      'apply → all ready, 30 replicas, long-polling simulated agents',
      (f) => med(f.applyToReady[30]!),
      fmtMs,
      '',
    ),
    row(
      'fleet settled: all Available, nothing due (after placement)',
      (f) => f.settleMs,
      fmtMs,
      '',
      (f) => `${fmtMs(f.settleMs)}${f.settled ? '' : ' (did not settle)'}`,
    ),
    row('server RSS (max during the run)', (f) => f.serverRssMaxBytes, fmtBytes, ''),
  ];
  return {
    figures,
    section: {
      title: 'Control plane at scale (simulated agents over HTTP, real Postgres, no Docker)',
      intro:
        'The Node control plane in its own process on a fresh real-Postgres database; simulated nodes in a ' +
        `child process register through the API, then poll \`GET /v1/agent/assignments\` with their ETag every ` +
        `${POLL_INTERVAL_SECONDS} s (the server's pollIntervalSeconds), spread evenly, and report status only ` +
        `when their set changes (everything Running and ready). Deployments (${BASE.replicasPerDeployment} replicas of ` +
        '10m CPU / 16Mi each) are inserted with SQL. Reconcile ticks and placement run the same controller code in ' +
        "the benchmark's process against the same database (the server's own safety-net loop runs too). " +
        `Latencies come from an open-loop client at a fixed rate, counted from when each request was due; apply → ready uses ${FAST_NODES} more simulated nodes that ` +
        'long-poll as the real agent does. The cost columns divide a figure at a size by the same figure at ' +
        '1x (for a rate: the time per placement), so at 2x a figure that grows linearly shows 2.00.',
      columns,
      rows,
      notes: [
        'Placements per second: from marking every deployment due until every replica has a node, with 2 cores shared ' +
          'by Postgres, the server, the simulated fleet and the benchmark.',
      ],
      data: figures,
    },
  };
}
