import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  cleanupDir,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
  until,
} from './support/agent-harness.ts';
import {
  containerSnapshot,
  type FaultCluster,
  httpdDeployment,
  isComplete,
  replicasOf,
  sleep,
  startFaultCluster,
} from './support/fault-cluster.ts';

/**
 * Postgres disappears for at least 20 s under a running control plane and a real agent on real
 * Docker.
 *
 * The outage is a TCP proxy between the control plane and Postgres that is cut (open connections
 * reset, new ones refused), not `pg_ctlcluster stop`: the PostgreSQL server is shared by every
 * other test file and every engineer's run on this machine, and stopping it would fail them. From
 * the control plane's side the two look alike: its pooled and LISTEN connections die and new
 * connections fail.
 */
const OUTAGE_MS = 20_000;
const NS = '/v1/namespaces/default';
/** How many times what this run measured a wait or a timeout allows (never a quiet machine's figure). */
const MARGIN = 3;
const waitMs = (floorMs: number, measuredMs: number) => Math.max(floorMs, Math.ceil(MARGIN * measuredMs));

// Every wait inside is bounded and derived from this run; the deadline only backs them up.
describe('database outage of 20 s', { timeout: 600_000 }, () => {
  const node = uniqueNode('fault-db');
  let c: FaultCluster;
  let agent: AgentProcess;
  let dataDir: string;

  beforeAll(async () => {
    await requireDocker();
    c = await startFaultCluster({ proxyDatabase: true });
    dataDir = await tempDir('berth-fault-db');
    agent = startAgentProcess({ server: c.server.url, name: node, dataDir, joinToken: await c.joinToken() });
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await c?.close();
    await cleanupDir(dataDir);
  });

  it('keeps containers untouched, answers 503 with Retry-After, and recovers without a restart', async () => {
    const { server, dbProxy } = c;
    for (const [name, n] of [
      ['alpha', 2],
      ['beta', 1],
    ] as const) {
      expect((await server.call('PUT', `${NS}/deployments/${name}`, httpdDeployment(n))).status).toBe(201);
    }
    const appliedAt = Date.now();
    // The first wait is the measurement: what the waits after the outage are multiples of.
    await until(
      'alpha and beta to run',
      async () =>
        (await isComplete(server, 'alpha', 2)) && (await isComplete(server, 'beta', 1)) ? true : undefined,
      120_000,
    );
    const deployMs = Date.now() - appliedAt;
    // State written before the outage, to prove nothing of it is lost.
    expect(
      (await server.call('PUT', `${NS}/secrets/kept`, { type: 'opaque', data: { k: 'before-outage' } }))
        .status,
    ).toBe(201);
    const token = await server.call('POST', '/v1/tokens', {
      name: 'kept',
      role: 'viewer',
      namespaces: ['*'],
    });
    expect(token.status).toBe(201);
    const containersBefore = await containerSnapshot(node);
    expect(containersBefore.size).toBe(3);
    const endpoints = [...(await replicasOf(server, 'alpha')), ...(await replicasOf(server, 'beta'))].map(
      (r) => `http://127.0.0.1:${r.hostPorts[0]!.hostPort}/`,
    );
    // How long the replicas take to answer on this machine now: what "still served during the
    // outage" allows each request.
    let slowestAnswerMs = 0;
    for (let i = 0; i < 5; i++) {
      for (const url of endpoints) {
        const t0 = Date.now();
        expect((await (await fetch(url)).text()).trim()).toBe('v1');
        slowestAnswerMs = Math.max(slowestAnswerMs, Date.now() - t0);
      }
    }
    const answerTimeoutMs = waitMs(2000, slowestAnswerMs);
    const rowsBefore = await c.sql(
      `select 'deployment ' || name || ' generation ' || generation as row from deployments
       union all select 'secret ' || name || ' ' || ciphertext from secrets
       union all select 'token ' || name from tokens
       union all select 'revision ' || deployment_id || '/' || revision from revisions
       union all select 'replica ' || id || ' on ' || node_id from replicas
       union all select 'node ' || name from nodes`,
    );
    const eventsBefore = Number((await c.sql('select count(*) as n from events'))[0]!.n);

    // A change accepted the moment before the cut: its reconcile may be cut off halfway.
    expect((await server.call('PUT', `${NS}/deployments/alpha/scale`, { replicas: 3 })).status).toBe(200);
    dbProxy!.cut();
    const cutAt = Date.now();
    const placedBeforeCut = Number(
      (
        await c.sql(
          `select count(*) as n from replicas where deployment_name = 'alpha' and node_id is not null`,
        )
      )[0]!.n,
    );

    const writes = [
      () => server.call('PUT', `${NS}/deployments/beta/scale`, { replicas: 2 }),
      () => server.call('PUT', `${NS}/deployments/gamma`, httpdDeployment(1)),
      () => server.call('PATCH', `${NS}/deployments/alpha`, { spec: { paused: true } }),
      () => server.call('DELETE', `${NS}/deployments/beta`),
      () => server.call('POST', '/v1/tokens', { name: 'during', role: 'admin' }),
      () => server.call('PUT', `${NS}/secrets/during`, { data: { k: 'v' } }),
      () => server.call('POST', '/v1/nodes/whatever/cordon'),
    ];
    let writesSent = 0;
    const notUnavailable: string[] = [];
    let readyz503 = 0;
    let healthz200 = 0;
    let served = 0;
    let unserved = 0;
    // At least OUTAGE_MS, and long enough for every kind of write to meet the outage twice
    // however slowly this machine goes round the loop.
    while (Date.now() - cutAt < OUTAGE_MS || writesSent < 2 * writes.length) {
      const res = await writes[writesSent % writes.length]!();
      writesSent++;
      if (
        res.status !== 503 ||
        res.body?.code !== 'UNAVAILABLE' ||
        !res.headers.get('content-type')?.startsWith('application/problem+json') ||
        !(Number(res.headers.get('retry-after')) > 0)
      ) {
        notUnavailable.push(`${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      }
      if ((await server.call('GET', '/readyz', undefined, null)).status === 503) readyz503++;
      if ((await server.call('GET', '/healthz', undefined, null)).status === 200) healthz200++;
      for (const url of endpoints) {
        const ok = await fetch(url, { signal: AbortSignal.timeout(answerTimeoutMs) })
          .then(async (r) => (await r.text()).trim() === 'v1')
          .catch(() => false);
        if (ok) served++;
        else unserved++;
      }
      await sleep(250);
    }
    const containersDuring = await containerSnapshot(node);
    dbProxy!.restore();
    const restoredAt = Date.now();
    const outageMs = restoredAt - cutAt;

    await until(
      '/readyz to answer 200',
      async () => ((await server.call('GET', '/readyz', undefined, null)).status === 200 ? true : undefined),
      waitMs(30_000, deployMs),
    );
    const readyAfterMs = Date.now() - restoredAt;
    // A change issued just after the outage.
    const after = await until(
      'a write to be accepted',
      async () => {
        const res = await server.call('PUT', `${NS}/deployments/beta/scale`, { replicas: 2 });
        return res.status === 200 ? res : undefined;
      },
      waitMs(30_000, deployMs),
    );
    const writableAfterMs = Date.now() - restoredAt;
    expect(after.body.spec.replicas).toBe(2);
    const placedAfterMs = await until(
      'the controller to place the pending replicas',
      async () => {
        const [row] = await c.sql(
          `select count(*) filter (where node_id is not null and desired = 'running') as n from replicas`,
        );
        return Number(row!.n) === 5 ? Date.now() - restoredAt : undefined;
      },
      waitMs(30_000, deployMs),
    );
    await until(
      'alpha 3 and beta 2 to run',
      async () =>
        (await isComplete(server, 'alpha', 3)) && (await isComplete(server, 'beta', 2)) ? true : undefined,
      waitMs(60_000, deployMs),
    );
    const completeAfterMs = Date.now() - restoredAt;

    const containersAfter = await containerSnapshot(node);
    let unchanged = 0;
    for (const [id, how] of containersBefore) if (containersAfter.get(id) === how) unchanged++;
    const rowsAfter = await c.sql(
      `select 'deployment ' || name || ' generation ' || generation as row from deployments
       union all select 'secret ' || name || ' ' || ciphertext from secrets
       union all select 'token ' || name from tokens
       union all select 'revision ' || deployment_id || '/' || revision from revisions
       union all select 'replica ' || id || ' on ' || node_id from replicas
       union all select 'node ' || name from nodes`,
    );
    const eventsAfter = Number((await c.sql('select count(*) as n from events'))[0]!.n);
    console.log(
      `DB down ${outageMs} ms (TCP proxy cut; alpha+beta ready ${deployMs} ms after apply, replicas answered within ${slowestAnswerMs} ms before it): ` +
        `${unchanged}/${containersBefore.size} containers unchanged, ` +
        `${writesSent - notUnavailable.length}/${writesSent} writes answered 503 problem+json with Retry-After, ` +
        `/readyz 503 ${readyz503} times, /healthz 200 ${healthz200} times, replicas served ${served}/${served + unserved} requests; ` +
        `scale accepted before the cut had ${placedBeforeCut}/3 placed at the cut; ` +
        `after restore: /readyz 200 in ${readyAfterMs} ms, writes in ${writableAfterMs} ms, ` +
        `pending replicas placed in ${placedAfterMs} ms, both deployments complete in ${completeAfterMs} ms`,
    );

    expect(notUnavailable).toEqual([]);
    expect(readyz503).toBe(writesSent);
    expect(healthz200).toBe(writesSent);
    expect(unserved).toBe(0);
    expect([...containersDuring.entries()]).toEqual([...containersBefore.entries()]);
    expect(unchanged).toBe(containersBefore.size);
    // Two new containers (alpha's third replica, beta's second), nothing else.
    expect(containersAfter.size).toBe(containersBefore.size + 2);
    // Nothing written before the outage is lost; nothing attempted during it happened.
    const changedByPending = (r: string) => r.startsWith('deployment ') || r.startsWith('replica ');
    const kept = rowsAfter.map((r) => r.row);
    for (const { row } of rowsBefore) if (!changedByPending(row)) expect(kept).toContain(row);
    for (const { row } of rowsBefore.filter((r) => r.row.startsWith('replica '))) expect(kept).toContain(row);
    expect(kept.some((r) => r.startsWith('deployment gamma'))).toBe(false);
    expect(kept.some((r) => r.startsWith('token during') || r.startsWith('secret during'))).toBe(false);
    expect(eventsAfter).toBeGreaterThanOrEqual(eventsBefore);
    const alpha = (await server.call('GET', `${NS}/deployments/alpha`)).body;
    expect(alpha.spec.paused).toBe(false);
    expect((await server.call('GET', `${NS}/secrets/kept`)).body.keys).toEqual(['k']);
    expect((await server.call('GET', '/v1/whoami', undefined, token.body.token)).status).toBe(200);
    // The server process never restarted.
    expect(server.output()).not.toMatch(/listening on .*[\s\S]*listening on /);
  });
});
