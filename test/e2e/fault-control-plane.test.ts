import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../support/databases.ts';
import { deploymentBody } from '../support/plane.ts';
import { dropDatabase, type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import { agentProblems } from './support/fault-agents.ts';
import { convergedProblems, startBoundsSampler } from './support/fault-invariants.ts';

/**
 * `kill -9` of a control-plane process in the middle of a rolling update and of a scale-up.
 * The agents are simulated (test/support/sim-agents.ts speaking the real protocol over HTTP to
 * the real server processes): what is under test is the control plane's state in Postgres, and
 * simulated agents make the rollout long and many-replica'd without minutes of Docker work.
 */
const NS = '/v1/namespaces/default';
const ENV = { BERTH_RECONCILE_INTERVAL_MS: '300' };
/**
 * Waits are multiples of what this run measured (a first rollout, a restart), never a quiet
 * machine's figures; the floors are what a quiet machine needs anyway.
 */
const MARGIN = 3;
const waitMs = (floorMs: number, measuredMs: number) => Math.max(floorMs, Math.ceil(MARGIN * measuredMs));

// Every wait inside is bounded and derived from this run; the deadline only backs them up.
describe('control-plane crash (kill -9)', { timeout: 600_000 }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  let a: ServerProcess;
  let b: ServerProcess | undefined;
  let fleet: SimFleet | undefined;
  const sql = async <T = Record<string, any>>(text: string, params?: unknown[]) =>
    (await pool.query(text, params as unknown[])).rows as T[];

  /** A control-plane process started from nothing to answering /readyz, on this run (ms). */
  let serverStartMs = 0;
  /** 12 replicas applied to all ready on simulated agents, on this run (ms). */
  let rolloutMs = 0;

  beforeAll(async () => {
    database = await freshPostgres();
    pool = new pg.Pool({ connectionString: database.url, max: 3 });
    const t0 = Date.now();
    a = await startServerProcess({ databaseUrl: database.url, env: ENV });
    serverStartMs = Date.now() - t0;
  });
  afterAll(async () => {
    await fleet?.stop();
    await a?.close();
    await b?.close();
    await pool?.end();
    if (database) await dropDatabase(database.drop);
  });

  const complete = async (server: ServerProcess, name: string, replicas: number, revision?: number) => {
    const res = await server.call('GET', `${NS}/deployments/${name}`).catch(() => undefined);
    const s = res?.body?.status;
    return (
      res?.status === 200 &&
      s.observedGeneration === res.body.metadata.generation &&
      s.replicas === replicas &&
      s.readyReplicas === replicas &&
      s.updatedReplicas === replicas &&
      (revision === undefined || s.revision === revision)
    );
  };

  it('finishes a rolling update interrupted by kill -9 after a restart, within its bounds', async () => {
    fleet = await startSimAgents({
      server: a.url,
      adminToken: a.adminToken,
      count: 3,
      prefix: 'crash',
      options: { readyAfterMs: 300, heartbeatMs: 1000, waitSeconds: 5 },
    });
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } };
    expect(
      (await a.call('PUT', `${NS}/deployments/roll`, deploymentBody({ replicas: 12, spec: { strategy } })))
        .status,
    ).toBe(201);
    const appliedAt = Date.now();
    // The first rollout is the measurement the later waits are multiples of.
    await eventually(async () => complete(a, 'roll', 12), 120_000, 'roll to run 12 replicas');
    rolloutMs = Date.now() - appliedAt;

    const sampler = startBoundsSampler(sql, { checkAvailability: () => true });
    const patched = await a.call('PATCH', `${NS}/deployments/roll`, {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/web:2' }] } } },
    });
    expect(patched.status).toBe(200);
    // Kill it once the new revision is partly out: some replicas of revision 2, not all.
    const updatedAtKill = await eventually(
      async () => {
        const [row] = await sql<{ n: string }>(
          `select count(*)::text as n from replicas where deployment_name = 'roll' and revision = 2 and desired = 'running'`,
        );
        const n = Number(row!.n);
        return n >= 2 && n < 12 ? n : undefined;
      },
      waitMs(20_000, rolloutMs),
      'the rollout to be under way',
    );
    await a.kill9();
    const killedAt = Date.now();
    const frozen = await sql(`select id, desired, revision from replicas order by id`);
    await new Promise((r) => setTimeout(r, 1000));
    // Nothing moves while no control plane runs (the agents keep what they have).
    expect(await sql(`select id, desired, revision from replicas order by id`)).toEqual(frozen);
    await a.restart();
    const restartedAt = Date.now();
    await eventually(
      async () => complete(a, 'roll', 12, 2),
      waitMs(30_000, rolloutMs + serverStartMs),
      'the rollout to finish after the restart',
    );
    const finishedMs = Date.now() - restartedAt;
    await eventually(
      async () => (await agentProblems(sql, fleet!.agents)).length === 0,
      waitMs(10_000, rolloutMs),
      'agents to agree',
    );
    const report = await sampler.stop();
    console.log(
      `kill -9 mid-rollout (${updatedAtKill}/12 of revision 2 at the kill; first rollout ${rolloutMs} ms, server start ${serverStartMs} ms): ` +
        `restart took ${restartedAt - killedAt} ms, ` +
        `rollout finished ${finishedMs} ms later; ${report.samples} samples, ${report.judged} judged, ` +
        `at most ${report.maxOver.get('default/roll')} above replicas (maxSurge 2), ${report.violations.length} bound violations`,
    );
    expect(report.violations).toEqual([]);
    expect(await convergedProblems(sql)).toEqual([]);
    expect(await agentProblems(sql, fleet.agents)).toEqual([]);
    // The last old replica's row goes once its agent confirms the stop, which may come just after
    // the rollout counts as complete.
    const revisions = () =>
      sql<{ revision: number; n: string }>(
        `select revision, count(*)::text as n from replicas where deployment_name = 'roll' group by revision`,
      );
    await eventually(
      async () => JSON.stringify(await revisions()) === JSON.stringify([{ revision: 2, n: '12' }]),
      waitMs(10_000, rolloutMs),
      'the old revision to be gone',
    ).catch(() => undefined);
    expect(await revisions()).toEqual([{ revision: 2, n: '12' }]);
  });

  it('finishes a scale-up interrupted by kill -9 on a second copy already running', async () => {
    b = await startServerProcess({ databaseUrl: database.url, env: ENV });
    // The agents move to the second copy: the first is about to die.
    await fleet?.stop();
    for (const agent of fleet?.agents ?? []) await b.call('DELETE', `/v1/nodes/${agent.name}`);
    fleet = await startSimAgents({
      server: b.url,
      adminToken: b.adminToken,
      count: 3,
      prefix: 'grow',
      options: { readyAfterMs: 100, heartbeatMs: 1000, waitSeconds: 5 },
    });
    await eventually(
      async () => complete(b!, 'roll', 12),
      waitMs(20_000, rolloutMs),
      'roll to be replaced on the new agents',
    );
    expect((await a.call('PUT', `${NS}/deployments/grow`, deploymentBody({ replicas: 4 }))).status).toBe(201);
    await eventually(async () => complete(a, 'grow', 4), waitMs(20_000, rolloutMs), 'grow to run 4 replicas');

    const sampler = startBoundsSampler(sql);
    const scaled = await a.call('PUT', `${NS}/deployments/grow/scale`, { replicas: 40 });
    expect(scaled.status).toBe(200);
    // The write kicked a reconcile on `a`; kill it while that runs.
    await a.kill9();
    const [placed] = await sql<{ n: string }>(
      `select count(*)::text as n from replicas where deployment_name = 'grow' and desired = 'running'`,
    );
    const killedAt = Date.now();
    // 40 replicas where the first rollout placed 12.
    await eventually(
      async () => complete(b!, 'grow', 40),
      waitMs(30_000, (rolloutMs * 40) / 12),
      'the second copy to finish the scale-up',
    );
    const finishedMs = Date.now() - killedAt;
    await eventually(
      async () => (await agentProblems(sql, fleet!.agents)).length === 0,
      waitMs(10_000, rolloutMs),
      'agents to agree',
    );
    const report = await sampler.stop();
    console.log(
      `kill -9 mid-scale-up 4→40 (${placed!.n} replica rows at the kill): the second copy finished in ${finishedMs} ms; ` +
        `${report.judged} samples judged, ${report.violations.length} violations`,
    );
    expect(report.violations).toEqual([]);
    expect(await convergedProblems(sql)).toEqual([]);
    expect(await agentProblems(sql, fleet.agents)).toEqual([]);
    const [total] = await sql<{ n: string }>(
      `select count(*)::text as n from replicas where desired = 'running'`,
    );
    expect(Number(total!.n)).toBe(52);
  });
});
