import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimAgent, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * Init containers through the control plane: the secrets they name are read as containers' are
 * (a missing one warns on apply and keeps the replica waiting; writing it wakes the node at
 * once), their statuses come back through the API apart from the app containers'.
 */
const NS = '/v1/namespaces/default';

const deployment = (name: string, init: Record<string, unknown>) => ({
  apiVersion: 'berth.dev/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    template: {
      metadata: { labels: { app: name } },
      spec: {
        initContainers: [{ name: 'migrate', image: 'app:1', ...init }],
        containers: [{ name: 'web', image: 'app:1' }],
      },
    },
  },
});

describe.each(DATABASE_KINDS)('init containers through the control plane on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'ic',
      options: {
        // As berth-agent reports a pod: waiting on a configError, else its init container done.
        observe: (a) =>
          a.configError
            ? { phase: 'Pending', ready: false, message: `CreateContainerConfigError: ${a.configError}` }
            : {
                phase: 'Running',
                ready: true,
                containers: a.containers.map((c) => ({
                  name: c.name,
                  state: 'running',
                  restartCount: 0,
                  hostPorts: [],
                })),
                initContainers: (a.initContainers ?? []).map((c) => ({
                  name: c.name,
                  state: 'terminated',
                  reason: 'Completed',
                  exitCode: 0,
                  restartCount: 2,
                  hostPorts: [],
                })),
              },
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  const apply = async (docs: unknown[]) => {
    const res = await t.plane.app.request('/v1/apply', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    return { status: res.status, body: await res.json() };
  };
  const replica = async (name: string) =>
    (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items[0] as
      | {
          id: string;
          node: string | null;
          phase: string;
          ready: boolean;
          restartCount: number;
          containers: { name: string }[];
          initContainers?: { name: string; state: string; reason?: string }[];
        }
      | undefined;
  const assignments = async (agent: SimAgent) => {
    const res = await t.plane.app.request('/v1/agent/assignments', {
      headers: { authorization: `Bearer ${agent.token}` },
    });
    return ((await res.json()) as { replicas: Assignment[] }).replicas;
  };

  it('waits for a secret only an init container names, and starts once it is written', async () => {
    const applied = await apply([
      deployment('migrates', {
        env: [{ name: 'DB_URL', valueFrom: { secretKeyRef: { name: 'migrations-db', key: 'url' } } }],
      }),
    ]);
    expect(applied.status).toBe(200);
    expect(applied.body.warnings).toEqual([
      expect.objectContaining({
        name: 'migrates',
        message: expect.stringMatching(/^secret "migrations-db" not found: /),
      }),
    ]);
    await eventually(async () => (await replica('migrates'))?.phase === 'Pending', 20_000, 'Pending');
    const put = await t.call('PUT', `${NS}/secrets/migrations-db`, {
      type: 'opaque',
      data: { url: 'postgres://m' },
    });
    expect(put.status).toBe(201);
    // Bumped in the write's transaction: the agent reads the value at once.
    const sent = (await assignments(fleet.agents[0]!)).find((a) => a.deployment === 'migrates')!;
    expect(sent.configError).toBeUndefined();
    expect(sent.initContainers![0]!.env).toEqual([{ name: 'DB_URL', value: 'postgres://m' }]);
    expect(sent.containers.map((c) => c.name)).toEqual(['web']);

    const running = await eventually(
      async () => {
        const r = await replica('migrates');
        return r?.ready ? r : undefined;
      },
      20_000,
      'Running',
    );
    expect(running.containers.map((c) => c.name)).toEqual(['web']);
    expect(running.initContainers).toEqual([
      expect.objectContaining({ name: 'migrate', state: 'terminated', reason: 'Completed' }),
    ]);
    expect(running.restartCount).toBe(2);
  });
});
