import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimAgent, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * A replica naming a secret or key that does not exist waits, as in Kubernetes: the control plane
 * sends its agent the reason instead of an empty value, the agent reports it Pending with a
 * CreateContainerConfigError, and writing the secret bumps that node's assignments in the same
 * transaction, so the agent gets the value (and starts it) at once. Applies warn about it ahead.
 */
const NS = '/v1/namespaces/default';
const WAITING = 'its replicas stay Pending (CreateContainerConfigError) until it exists';

const app = (name: string, spec: Record<string, unknown> = {}) => ({
  spec: {
    replicas: 1,
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'web:1',
            env: [
              { name: 'MODE', value: 'prod' },
              { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
            ],
          },
        ],
        ...spec,
      },
    },
  },
});

describe.each(DATABASE_KINDS)('replicas waiting for a missing secret on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 2,
      fetch: t.fetch,
      prefix: 'sw',
      options: {
        // As berth-agent does: a pod its assignment cannot configure is not created.
        observe: (a) =>
          a.configError
            ? { phase: 'Pending', ready: false, message: `CreateContainerConfigError: ${a.configError}` }
            : { phase: 'Running', ready: true },
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  const apply = async (docs: unknown[], query = '') => {
    const res = await t.plane.app.request(`/v1/apply${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    return { status: res.status, body: await res.json() };
  };
  const deployment = (name: string, spec?: Record<string, unknown>) => ({
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { name },
    ...app(name, spec),
  });
  const replica = async (name: string) =>
    (await t.call('GET', `${NS}/replicas?deployment=${name}`)).body.items[0] as
      | { id: string; node: string | null; phase: string; ready: boolean; message: string | null }
      | undefined;
  /** The node's assignments as its agent reads them now, with their ETag. */
  const assignments = async (agent: SimAgent) => {
    const res = await t.plane.app.request('/v1/agent/assignments', {
      headers: { authorization: `Bearer ${agent.token}` },
    });
    const body = (await res.json()) as { replicas: Assignment[] };
    return { etag: res.headers.get('etag'), replicas: body.replicas };
  };
  const holderOf = async (name: string) => {
    const r = await eventually(async () => {
      const x = await replica(name);
      return x?.node ? x : undefined;
    });
    return { replica: r, agent: fleet.agents.find((a) => a.name === r.node)! };
  };

  it('sends the reason instead of an empty value, and starts the replica when the secret is written', async () => {
    const applied = await apply([deployment('waits')]);
    expect(applied.status).toBe(200);
    expect(applied.body.warnings).toEqual([
      {
        kind: 'Deployment',
        namespace: 'default',
        name: 'waits',
        message: `secret "db" not found: ${WAITING}`,
      },
    ]);

    const { replica: placed, agent } = await holderOf('waits');
    const before = await assignments(agent);
    const sent = before.replicas.find((a) => a.id === placed.id)!;
    expect(sent.configError).toBe('secret "db" not found');
    expect(sent.containers[0]!.env).toEqual([{ name: 'MODE', value: 'prod' }]);
    const pending = await eventually(async () => {
      const r = await replica('waits');
      return r?.phase === 'Pending' && r.message ? r : undefined;
    });
    expect(pending.message).toBe('CreateContainerConfigError: secret "db" not found');

    // A long-poll held by the waiting node is answered by the secret's write.
    const polled = t.plane.app.request('/v1/agent/assignments?wait=20', {
      headers: { authorization: `Bearer ${agent.token}`, 'if-none-match': before.etag! },
    });
    const started = performance.now();
    const put = await t.call('PUT', `${NS}/secrets/db`, { type: 'opaque', data: { user: 'app' } });
    expect(put.status).toBe(201);
    // Bumped in the write's transaction: the new version is there as the write answers.
    const missingKey = await assignments(agent);
    expect(missingKey.etag).not.toBe(before.etag);
    expect(missingKey.replicas.find((a) => a.id === placed.id)!.configError).toBe(
      'key "password" not found in secret "db"',
    );
    const woken = await polled;
    expect(woken.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(10_000);
    await woken.body?.cancel();

    await eventually(async () => (await replica('waits'))?.message?.includes('key "password"'));
    await t.call('PUT', `${NS}/secrets/db`, { type: 'opaque', data: { user: 'app', password: 'hunter2' } });
    const after = await assignments(agent);
    expect(after.etag).not.toBe(missingKey.etag);
    const resolved = after.replicas.find((a) => a.id === placed.id)!;
    expect(resolved.configError).toBeUndefined();
    expect(resolved.containers[0]!.env).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'DB_PASSWORD', value: 'hunter2' },
    ]);
    const running = await eventually(async () => {
      const r = await replica('waits');
      return r?.phase === 'Running' && r.ready ? r : undefined;
    });
    expect(running.message).toBeNull();
  });

  it('leaves nodes alone when no replica waits for the secret written', async () => {
    await eventually(async () => (await replica('waits'))?.ready);
    const before = await Promise.all(fleet.agents.map(async (a) => (await assignments(a)).etag));
    // Running replicas keep the values their containers were made with: nothing to send them.
    await t.call('PUT', `${NS}/secrets/db`, { type: 'opaque', data: { user: 'app', password: 'rotated' } });
    await t.call('PUT', `${NS}/secrets/unused`, { type: 'opaque', data: { k: 'v' } });
    const after = await Promise.all(fleet.agents.map(async (a) => (await assignments(a)).etag));
    expect(after).toEqual(before);
  });

  it('marks a missing registry secret of imagePullSecrets, and counts a secret the same apply creates', async () => {
    expect((await t.call('DELETE', `${NS}/secrets/db`)).status).toBe(200);
    const pulls = await apply([deployment('pulls', { imagePullSecrets: [{ name: 'regcred' }] })]);
    expect(pulls.body.warnings).toEqual([
      expect.objectContaining({ name: 'pulls', message: `secret "db" not found: ${WAITING}` }),
      expect.objectContaining({ name: 'pulls', message: `secret "regcred" not found: ${WAITING}` }),
    ]);
    const { replica: placed, agent } = await holderOf('pulls');
    expect((await assignments(agent)).replicas.find((a) => a.id === placed.id)!.configError).toBe(
      'secret "db" not found',
    );

    const together = await apply([
      deployment('pulls', { imagePullSecrets: [{ name: 'regcred' }] }),
      { apiVersion: 'berth.dev/v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'hunter2' } },
      {
        apiVersion: 'berth.dev/v1',
        kind: 'Secret',
        metadata: { name: 'regcred' },
        type: 'registry',
        data: { server: 'registry.example.com', username: 'u', password: 'p' },
      },
    ]);
    expect(together.status).toBe(200);
    expect(together.body.warnings).toBeUndefined();
    const resolved = await eventually(async () => {
      const a = (await assignments(agent)).replicas.find((x) => x.id === placed.id);
      return a && !a.configError ? a : undefined;
    });
    expect(resolved.imagePullAuth).toEqual([
      { server: 'registry.example.com', username: 'u', password: 'p' },
    ]);
    await eventually(async () => (await replica('pulls'))?.ready);
  });

  it('warns on a dry run and on PUT of a deployment (a Warning: 299 header, as Kubernetes sends)', async () => {
    const dry = await apply([deployment('dry', { imagePullSecrets: [{ name: 'nope' }] })], '?dryRun=true');
    expect(dry.body).toMatchObject({
      dryRun: true,
      warnings: [{ name: 'dry', message: `secret "nope" not found: ${WAITING}` }],
    });
    const put = await t.call(
      'PUT',
      `${NS}/deployments/put`,
      app('put', { imagePullSecrets: [{ name: 'nope' }] }),
    );
    expect(put.status).toBe(201);
    expect(put.headers.get('warning')).toBe(`299 - "secret \\"nope\\" not found: ${WAITING}"`);
    const fine = await t.call('PUT', `${NS}/deployments/put`, app('put'));
    expect(fine.status).toBe(200);
    expect(fine.headers.get('warning')).toBeNull();
  });
});
