import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import {
  type AgentProcess,
  cleanupDir,
  HTTPD_1,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
  until,
} from './support/agent-harness.ts';
import {
  containerSnapshot,
  describeState,
  type FaultCluster,
  httpdDeployment,
  isComplete,
  longestGap,
  replicasOf,
  sleep,
  startFaultCluster,
  watchHeartbeats,
} from './support/fault-cluster.ts';
import { type IsolatedEngine, startIsolatedEngine } from './support/fault-engine.ts';
import { convergedProblems } from './support/fault-invariants.ts';

/**
 * Faults on the node side, with real berth-agent processes on a real Docker Engine: the agent
 * killed, dockerd restarted, the agent cut off from the control plane for longer than the lost
 * timeout, and a node lost for good. The engine is one this file starts for itself
 * (support/fault-engine.ts): restarting the shared dockerd would stop every other test's
 * containers.
 *
 * Node A reaches the server through a TCP proxy (to cut it off); node B directly. `pinned` may
 * only run on A; `roam` (4 replicas) runs anywhere.
 *
 * Timing comes from this run, never from a quiet machine: how long agents take to start, how
 * long a rollout takes to get ready, how long nodes go without a heartbeat across a server
 * restart and between polls. Node timeouts and waits are multiples of those (`measured`), so a
 * busy machine makes the test slower, not wrong. On a quiet machine phase two runs with a grace
 * of about 4 s and a lost timeout of about 8 s; on one busy enough that agents go 9 s between
 * heartbeats, with about 27 s and 50 s.
 */
const NS = '/v1/namespaces/default';
const INTERVAL_MS = 500;
/** How many times what was measured a timeout or a wait allows. */
const MARGIN = 3;

// Every wait inside is bounded and derived from this run; the deadline only backs them up.
describe('agent faults on real Docker', { timeout: 900_000 }, () => {
  const nodeA = uniqueNode('fault-a');
  const nodeB = uniqueNode('fault-b');
  let engine: IsolatedEngine;
  let c: FaultCluster;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let a: AgentProcess;
  let b: AgentProcess;
  let joinToken: string;
  const dirs: string[] = [];
  /** Measured on this run (ms), in the order the tests learn them. */
  const measured = {
    /** Spawn of both agents to both registered. */
    agentStartMs: 0,
    /** Deployments applied to every replica ready (5 containers on a fresh engine). */
    settleMs: 0,
    /** Longest a node went without a heartbeat across a restart of the server. */
    restartOutageMs: 0,
    /** Longest gap between two heartbeats of a node polling every second. */
    heartbeatGapMs: 0,
    /** How long past grace + lost the controller took to declare a cut-off node Lost. */
    sweepLagMs: 0,
  };
  /** Phase two's node timeouts (s), set from `measured` before the server restarts with them. */
  let GRACE = 2;
  let LOST = 2;
  const waitMs = (floorMs: number, measuredMs: number) => Math.max(floorMs, Math.ceil(MARGIN * measuredMs));

  const startA = () =>
    startAgentProcess({
      server: `http://127.0.0.1:${proxy.port}`,
      name: nodeA,
      dataDir: dirs[0]!,
      joinToken,
      env: { DOCKER_HOST: engine.host },
    });
  const startB = () =>
    startAgentProcess({
      server: c.server.url,
      name: nodeB,
      dataDir: dirs[1]!,
      joinToken,
      env: { DOCKER_HOST: engine.host },
    });
  const settled = async () =>
    (await isComplete(c.server, 'pinned', 1)) &&
    (await isComplete(c.server, 'roam', 4)) &&
    (await convergedProblems(c.sql)).length === 0
      ? true
      : undefined;
  /** `until`, and on a timeout the cluster's state in the error. */
  const waitFor = async <T>(
    what: string,
    fn: () => Promise<T | undefined>,
    timeoutMs = 30_000,
  ): Promise<T> => {
    try {
      return await until(what, fn, timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await describeState(c)}`);
    }
  };
  const containersOf = async (node: string) => containerSnapshot(node, engine.docker);

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    engine = await startIsolatedEngine([HTTPD_1]);
    // Phase one runs with the default node timeouts: an agent restart must not count as a loss.
    c = await startFaultCluster({ env: { BERTH_RECONCILE_INTERVAL_MS: String(INTERVAL_MS) } });
    proxy = await startTcpProxy(c.server.port);
    // One token for both nodes: join tokens are single-use unless told otherwise.
    joinToken = await c.joinToken(2);
    dirs.push(await tempDir('berth-fault-a'), await tempDir('berth-fault-b'));
    const spawnedAt = Date.now();
    a = startA();
    b = startB();
    await waitFor(
      'both nodes to register',
      async () => {
        const nodes = (await c.server.call('GET', '/v1/nodes')).body.items as { name: string }[];
        return nodes.length === 2 ? true : undefined;
      },
      120_000,
    );
    measured.agentStartMs = Date.now() - spawnedAt;
    const appliedAt = Date.now();
    expect(
      (
        await c.server.call(
          'PUT',
          `${NS}/deployments/pinned`,
          httpdDeployment(1, { nodeSelector: { 'berth.dev/node': nodeA } }),
        )
      ).status,
    ).toBe(201);
    expect((await c.server.call('PUT', `${NS}/deployments/roam`, httpdDeployment(4))).status).toBe(201);
    await waitFor('pinned and roam to run', settled, 120_000);
    measured.settleMs = Date.now() - appliedAt;
    console.log(
      `measured: agents registered ${measured.agentStartMs} ms after spawn, 5 replicas ready ${measured.settleMs} ms after apply`,
    );
  }, 600_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await c?.close();
    await proxy?.close();
    await engine?.close();
    for (const d of dirs) await cleanupDir(d);
  });

  it('adopts its containers after kill -9 and a restart of the agent, duplicating none', async () => {
    const before = await containersOf(nodeA);
    expect(before.size).toBe(3);
    await a.kill9();
    const restartedAt = new Date();
    a = startA();
    await waitFor(
      'the restarted agent to report',
      async () => {
        const [row] = await c.sql(`select last_heartbeat from nodes where name = $1`, [nodeA]);
        return row && row.last_heartbeat > restartedAt ? true : undefined;
      },
      waitMs(30_000, measured.agentStartMs),
    );
    await waitFor('everything ready again', settled, waitMs(30_000, measured.settleMs));
    const after = await containersOf(nodeA);
    console.log(
      `agent kill -9 + restart: ${[...before].filter(([id, how]) => after.get(id) === how).length}/${before.size} containers kept untouched, ${after.size - before.size} new`,
    );
    expect([...after.entries()]).toEqual([...before.entries()]);
    expect(a.output()).toMatch(/adopted container/);
  });

  it('brings every container back after dockerd restarts, and reports them ready', async () => {
    const before = new Map([...(await containersOf(nodeA)), ...(await containersOf(nodeB))]);
    expect(before.size).toBe(5);
    const logFrom = [a.output().length, b.output().length] as const;
    const restarted = await engine.restart();
    const downAt = Date.now();
    // An engine that took long to come back is slow to start containers too.
    const engineMs = restarted.downMs + measured.settleMs;
    await waitFor(
      'every container to run again',
      async () => {
        const list = await engine.docker.listContainers({ all: true });
        return list.length === before.size && list.every((x) => x.State === 'running') ? true : undefined;
      },
      waitMs(60_000, engineMs),
    );
    const runningMs = Date.now() - downAt;
    await waitFor('the server to see every replica ready', settled, waitMs(60_000, engineMs));
    const readyMs = Date.now() - downAt;
    const after = new Map([...(await containersOf(nodeA)), ...(await containersOf(nodeB))]);
    const kept = [...before.keys()].filter((id) => after.has(id)).length;
    const replicas = [...(await replicasOf(c.server, 'pinned')), ...(await replicasOf(c.server, 'roam'))];
    // The agents' own account of each start the engine accepted since the restart began.
    const started = new Map<string, number>();
    for (const line of [a.output().slice(logFrom[0]), b.output().slice(logFrom[1])].join('\n').split('\n')) {
      const entry = parseLogLine(line);
      if (entry?.message === 'container started' && typeof entry.replica === 'string')
        started.set(entry.replica, (started.get(entry.replica) ?? 0) + 1);
    }
    const engineStarts = replicas.map((r) => started.get(r.id) ?? 0);
    const restartCounts = replicas.map((r) => (r as { restartCount?: number }).restartCount);
    console.log(
      `dockerd restart (down ${restarted.downMs} ms): all ${after.size} containers running ${runningMs} ms after it answered again, ` +
        `${kept}/${before.size} with the same container id, every replica ready by the server ${readyMs} ms after; ` +
        `restart counts ${restartCounts.join(',')}, starts the engine accepted ${engineStarts.join(',')}`,
    );
    // One container per replica, no leftovers, and the server's view matches the engine's.
    expect(after.size).toBe(before.size);
    const byReplica = new Set([...after.values()].map((how) => how.split(' ')[0]));
    expect(byReplica.size).toBe(after.size);
    expect(replicas.every((r) => r.phase === 'Running' && r.ready)).toBe(true);
    expect(new Set(replicas.map((r) => r.id))).toEqual(byReplica);
    // Each container was restarted at least once, and the agent counts exactly the starts the
    // engine accepted: none for attempts against an engine that was not answering. Usually that
    // is one each; a slow dockerd shutdown (a busy machine) still accepts a start and then stops
    // that container too, which is a second restart, really made.
    expect(engineStarts.every((n) => n >= 1)).toBe(true);
    expect(restartCounts).toEqual(engineStarts);
  });

  it('replaces replicas of a node cut off past the lost timeout, and the returning agent stops only those', async () => {
    // Phase two: the same server restarted with short node timeouts. First measure what they
    // must allow for, with a lost timeout nothing reaches: a restart exactly like the one below
    // (agents lose the server and come back on their backoff), then agents polling every second.
    const polling = { BERTH_POLL_INTERVAL_SECONDS: '1', BERTH_LONG_POLL_MAX_SECONDS: '1' };
    const watch = watchHeartbeats(c);
    const restartAt = Date.now();
    await c.server.restart({ ...polling, BERTH_NODE_GRACE_SECONDS: '2', BERTH_NODE_LOST_SECONDS: '86400' });
    await waitFor(
      'both agents to poll the restarted server',
      async () => {
        const rows = await c.sql(`select count(*)::int as n from nodes where last_heartbeat > $1`, [
          new Date(restartAt),
        ]);
        return rows[0]!.n === 2 ? true : undefined;
      },
      waitMs(60_000, measured.agentStartMs),
    );
    const backAt = Date.now();
    await sleep(Math.max(6000, 2 * (backAt - restartAt)));
    const beats = await watch.stop();
    measured.heartbeatGapMs = longestGap(beats, backAt);
    // Phase one's agents long-poll for 15 s, so their last heartbeat before this restart says
    // little; before the next one they poll every second: a node's heartbeat is then at most
    // one gap old when the restart begins, and the outage that gap plus the time to come back.
    const firstBack = [...beats.values()].map((list) => list.find((t) => t > restartAt) ?? Date.now());
    measured.restartOutageMs = Math.max(...firstBack) - restartAt + measured.heartbeatGapMs;
    GRACE = Math.max(2, Math.ceil((MARGIN * measured.heartbeatGapMs) / 1000));
    LOST = Math.max(2, Math.ceil((MARGIN * measured.restartOutageMs) / 1000) - GRACE);
    console.log(
      `measured: nodes went ${measured.restartOutageMs} ms without a heartbeat across a server restart ` +
        `(agents back ${backAt - restartAt} ms after it began), then ${measured.heartbeatGapMs} ms at most between heartbeats; ` +
        `node timeouts for phase two: grace ${GRACE} s, lost ${LOST} s`,
    );
    await c.server.restart({
      BERTH_NODE_GRACE_SECONDS: String(GRACE),
      BERTH_NODE_LOST_SECONDS: String(LOST),
    });
    await waitFor('everything ready after the server restart', settled, waitMs(30_000, measured.settleMs));
    // Quiet for longer than grace + lost: healthy, idle agents must not be declared lost.
    await sleep((GRACE + LOST) * 1000 + waitMs(2000, measured.heartbeatGapMs));
    const lostEvents = await c.sql(`select count(*)::int as n from events where reason = 'NodeLost'`);
    expect(lostEvents[0]!.n).toBe(0);

    const pinnedBefore = await containersOf(nodeA);
    const roamOnA = (await replicasOf(c.server, 'roam')).filter((r) => r.node === nodeA).map((r) => r.id);
    expect(roamOnA.length).toBeGreaterThan(0);
    const [beforeCut] = await c.sql(`select last_heartbeat from nodes where name = $1`, [nodeA]);
    proxy.cut();
    const cutAt = Date.now();
    await waitFor(
      'roam to run 4 ready replicas on B',
      async () => {
        const list = (await replicasOf(c.server, 'roam')).filter((r) => r.desired === 'running');
        return list.filter((r) => r.node === nodeB && r.ready).length === 4 ? true : undefined;
      },
      (GRACE + LOST) * 1000 + waitMs(30_000, measured.settleMs),
    );
    // How late the controller's sweeps act on this machine: NodeLost came this long after the
    // last heartbeat it could have seen plus grace + lost.
    const [lostEvent] = await c.sql(
      `select created_at from events where reason = 'NodeLost' and object_name = $1 order by id desc limit 1`,
      [nodeA],
    );
    const [afterCut] = await c.sql(`select last_heartbeat from nodes where name = $1`, [nodeA]);
    const lastBeat = Math.max(beforeCut!.last_heartbeat.getTime(), afterCut!.last_heartbeat.getTime());
    measured.sweepLagMs = Math.max(0, lostEvent!.created_at.getTime() - lastBeat - (GRACE + LOST) * 1000);
    const replacedMs = Date.now() - cutAt;
    // Static stability: the cut-off agent stopped nothing.
    expect([...(await containersOf(nodeA)).entries()]).toEqual([...pinnedBefore.entries()]);
    await sleep(500);
    proxy.restore();
    const restoredAt = Date.now();
    const pinnedIds = [...pinnedBefore]
      .filter(([, how]) => !roamOnA.some((id) => how.startsWith(`${id} `)))
      .map(([id]) => id);
    expect(pinnedIds).toHaveLength(1);
    // The cut-off agent retries with a doubling backoff (at most 30 s): after an outage of some
    // length its next attempt can be about as long again. Then it stops two containers.
    const backoffMs = Math.min(30_000, restoredAt - cutAt);
    await waitFor(
      'A to stop the replaced replicas and keep pinned',
      async () => {
        const now = await containersOf(nodeA);
        return now.size === 1 && now.has(pinnedIds[0]!) ? true : undefined;
      },
      backoffMs + waitMs(45_000, measured.settleMs),
    );
    const cleanedMs = Date.now() - restoredAt;
    await waitFor('everything settled', settled, waitMs(30_000, measured.settleMs));
    const after = await containersOf(nodeA);
    console.log(
      `agent cut off for ${Math.round((restoredAt - cutAt) / 1000)} s (grace ${GRACE} s + lost ${LOST} s): ` +
        `${roamOnA.length} replicas replaced on the other node ${replacedMs} ms after the cut (declared Lost ${measured.sweepLagMs} ms past grace + lost); ` +
        `on return the agent removed them in ${cleanedMs} ms and kept pinned's container (same id, not restarted)`,
    );
    expect(after.get(pinnedIds[0]!)).toBe(pinnedBefore.get(pinnedIds[0]!));
  });

  it('moves the replicas of a SIGKILLed agent to the other node within grace + lost + one reconcile', async () => {
    const onB = (await replicasOf(c.server, 'roam')).filter((r) => r.node === nodeB).map((r) => r.id);
    expect(onB).toHaveLength(4);
    await b.kill9();
    const killedAt = Date.now();
    const [hb] = await c.sql(`select last_heartbeat from nodes where name = $1`, [nodeB]);
    const lastHeartbeat = (hb!.last_heartbeat as Date).getTime();
    const placedAt = await waitFor(
      'roam to be placed on A',
      async () => {
        const [row] = await c.sql(
          `select count(*)::int as n from replicas r join nodes n on n.id = r.node_id
           where r.deployment_name = 'roam' and r.desired = 'running' and n.name = $1`,
          [nodeA],
        );
        return row!.n === 4 ? Date.now() : undefined;
      },
      (GRACE + LOST) * 1000 + waitMs(30_000, measured.sweepLagMs),
    );
    await waitFor(
      'roam to run 4 ready replicas on A',
      async () =>
        (await replicasOf(c.server, 'roam')).filter(
          (r) => r.node === nodeA && r.desired === 'running' && r.ready,
        ).length === 4
          ? true
          : undefined,
      waitMs(30_000, measured.settleMs),
    );
    const readyAt = Date.now();
    const budgetMs = (GRACE + LOST) * 1000 + INTERVAL_MS;
    // A tick's own duration and the sampling of this check come on top of the budget: as much
    // as the sweeps were measured to lag on this run (the cut above), with room to spare.
    // Over a wait of minutes, timers and ticks on a loaded machine also drift with its length
    // (4.3 s past 151.5 s in one run): 5% of it, when that is more.
    const slackMs = Math.max(waitMs(3000, measured.sweepLagMs), Math.round(budgetMs * 0.05));
    console.log(
      `node B SIGKILLed: last heartbeat ${killedAt - lastHeartbeat} ms before the kill; replicas placed on A ` +
        `${placedAt - lastHeartbeat} ms after it (budget grace+lost+reconcile = ${budgetMs} ms, + ${slackMs} ms for the ` +
        `sweep lag measured on this run), ready ${readyAt - lastHeartbeat} ms after it`,
    );
    expect(placedAt - lastHeartbeat).toBeLessThanOrEqual(budgetMs + slackMs);
    expect(await convergedProblems(c.sql)).toEqual([]);
  });
});

/** One line of a process's log (JSON lines, common/logger.ts), or undefined for anything else. */
function parseLogLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
