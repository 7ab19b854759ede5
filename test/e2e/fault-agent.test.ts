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
  replicasOf,
  sleep,
  startFaultCluster,
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
 */
const NS = '/v1/namespaces/default';
const GRACE = 2;
const LOST = 2;
const INTERVAL_MS = 500;

describe('agent faults on real Docker', () => {
  const nodeA = uniqueNode('fault-a');
  const nodeB = uniqueNode('fault-b');
  let engine: IsolatedEngine;
  let c: FaultCluster;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let a: AgentProcess;
  let b: AgentProcess;
  let joinToken: string;
  const dirs: string[] = [];

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
    a = startA();
    b = startB();
    await waitFor('both nodes to register', async () => {
      const nodes = (await c.server.call('GET', '/v1/nodes')).body.items as { name: string }[];
      return nodes.length === 2 ? true : undefined;
    });
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
    await waitFor('pinned and roam to run', settled, 60_000);
  });

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
    await waitFor('the restarted agent to report', async () => {
      const [row] = await c.sql(`select last_heartbeat from nodes where name = $1`, [nodeA]);
      return row && row.last_heartbeat > restartedAt ? true : undefined;
    });
    await waitFor('everything ready again', settled, 30_000);
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
    const restarted = await engine.restart();
    const downAt = Date.now();
    await waitFor(
      'every container to run again',
      async () => {
        const list = await engine.docker.listContainers({ all: true });
        return list.length === before.size && list.every((x) => x.State === 'running') ? true : undefined;
      },
      60_000,
    );
    const runningMs = Date.now() - downAt;
    await waitFor('the server to see every replica ready', settled, 60_000);
    const readyMs = Date.now() - downAt;
    const after = new Map([...(await containersOf(nodeA)), ...(await containersOf(nodeB))]);
    const kept = [...before.keys()].filter((id) => after.has(id)).length;
    const replicas = [...(await replicasOf(c.server, 'pinned')), ...(await replicasOf(c.server, 'roam'))];
    console.log(
      `dockerd restart (down ${restarted.downMs} ms): all ${after.size} containers running ${runningMs} ms after it answered again, ` +
        `${kept}/${before.size} with the same container id, every replica ready by the server ${readyMs} ms after; ` +
        `restart counts ${replicas.map((r) => (r as { restartCount?: number }).restartCount).join(',')}`,
    );
    // One container per replica, no leftovers, and the server's view matches the engine's.
    expect(after.size).toBe(before.size);
    const byReplica = new Set([...after.values()].map((how) => how.split(' ')[0]));
    expect(byReplica.size).toBe(after.size);
    expect(replicas.every((r) => r.phase === 'Running' && r.ready)).toBe(true);
    expect(new Set(replicas.map((r) => r.id))).toEqual(byReplica);
    // Docker stopped each container once: one restart each, none spent (nor backed off) on an
    // engine that was not answering.
    expect(replicas.map((r) => (r as { restartCount?: number }).restartCount)).toEqual(replicas.map(() => 1));
  });

  it('replaces replicas of a node cut off past the lost timeout, and the returning agent stops only those', async () => {
    // Phase two: the same server restarted with short node timeouts.
    await c.server.restart({
      BERTH_NODE_GRACE_SECONDS: String(GRACE),
      BERTH_NODE_LOST_SECONDS: String(LOST),
    });
    await waitFor('everything ready after the server restart', settled, 30_000);
    // Quiet for longer than grace + lost: healthy, idle agents must not be declared lost.
    await sleep((GRACE + LOST + 2) * 1000);
    const lostEvents = await c.sql(`select count(*)::int as n from events where reason = 'NodeLost'`);
    expect(lostEvents[0]!.n).toBe(0);

    const pinnedBefore = await containersOf(nodeA);
    const roamOnA = (await replicasOf(c.server, 'roam')).filter((r) => r.node === nodeA).map((r) => r.id);
    expect(roamOnA.length).toBeGreaterThan(0);
    proxy.cut();
    const cutAt = Date.now();
    await waitFor(
      'roam to run 4 ready replicas on B',
      async () => {
        const list = (await replicasOf(c.server, 'roam')).filter((r) => r.desired === 'running');
        return list.filter((r) => r.node === nodeB && r.ready).length === 4 ? true : undefined;
      },
      30_000,
    );
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
    await waitFor(
      'A to stop the replaced replicas and keep pinned',
      async () => {
        const now = await containersOf(nodeA);
        return now.size === 1 && now.has(pinnedIds[0]!) ? true : undefined;
      },
      45_000,
    );
    const cleanedMs = Date.now() - restoredAt;
    await waitFor('everything settled', settled, 30_000);
    const after = await containersOf(nodeA);
    console.log(
      `agent cut off for ${Math.round((restoredAt - cutAt) / 1000)} s (grace ${GRACE} s + lost ${LOST} s): ` +
        `${roamOnA.length} replicas replaced on the other node ${replacedMs} ms after the cut; ` +
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
      30_000,
    );
    await waitFor(
      'roam to run 4 ready replicas on A',
      async () =>
        (await replicasOf(c.server, 'roam')).filter(
          (r) => r.node === nodeA && r.desired === 'running' && r.ready,
        ).length === 4
          ? true
          : undefined,
      30_000,
    );
    const readyAt = Date.now();
    const budgetMs = (GRACE + LOST) * 1000 + INTERVAL_MS;
    console.log(
      `node B SIGKILLed: last heartbeat ${killedAt - lastHeartbeat} ms before the kill; replicas placed on A ` +
        `${placedAt - lastHeartbeat} ms after it (budget grace+lost+reconcile = ${budgetMs} ms), ready ${readyAt - lastHeartbeat} ms after it`,
    );
    // A tick's own duration and the sampling of this check come on top of the budget.
    expect(placedAt - lastHeartbeat).toBeLessThanOrEqual(budgetMs + 1500);
    expect(await convergedProblems(c.sql)).toEqual([]);
  });
});
