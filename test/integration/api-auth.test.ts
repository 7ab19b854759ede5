import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';

describe.each(DATABASE_KINDS)('tokens, roles and join tokens on %s', (kind) => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const token = async (role: string, namespaces: string[] = [], extra: Record<string, unknown> = {}) => {
    const res = await t.call('POST', '/v1/tokens', {
      name: `${role}-${namespaces.join('+')}`,
      role,
      namespaces,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  };

  it('rejects a missing or unknown token with 401 problem+json', async () => {
    const none = await t.call('GET', '/v1/namespaces/default/deployments', undefined, null);
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('UNAUTHENTICATED');
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const unknown = await t.call(
      'GET',
      '/v1/namespaces/default/deployments',
      undefined,
      'berth_u_not-a-real-token-at-all',
    );
    expect(unknown.status).toBe(401);
  });

  it('creates tokens whose secret is shown once and stored only as a hash', async () => {
    const { id, token: secret } = await token('viewer', ['default']);
    const listed = await t.call('GET', '/v1/tokens');
    const entry = listed.body.items.find((i: any) => i.id === id);
    expect(entry).toMatchObject({ role: 'viewer', namespaces: ['default'] });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const raw = await t.plane.handle.db.execute('select * from tokens' as never);
    expect(JSON.stringify(raw)).not.toContain(secret);
  });

  it('lets a deployer write only in its namespaces', async () => {
    const { token: dep } = await token('deployer', ['team-a']);
    expect((await t.call('PUT', '/v1/namespaces/team-a/deployments/web', deploymentBody(), dep)).status).toBe(
      201,
    );
    expect((await t.call('GET', '/v1/namespaces/team-a/deployments/web', undefined, dep)).status).toBe(200);
    const outside = await t.call('PUT', '/v1/namespaces/team-b/deployments/web', deploymentBody(), dep);
    expect(outside.status).toBe(403);
    expect(outside.body.code).toBe('FORBIDDEN');
    expect((await t.call('GET', '/v1/namespaces/team-b/deployments', undefined, dep)).status).toBe(403);
    expect((await t.call('POST', '/v1/tokens', { name: 'x', role: 'admin' }, dep)).status).toBe(403);
    expect((await t.call('POST', '/v1/join-tokens', {}, dep)).status).toBe(403);
    expect((await t.call('GET', '/v1/namespaces/team-b/deployments/web')).status).toBe(404);
  });

  it('lets a viewer read but not write', async () => {
    const { token: viewer } = await token('viewer', ['team-a']);
    expect((await t.call('GET', '/v1/namespaces/team-a/deployments', undefined, viewer)).status).toBe(200);
    expect((await t.call('GET', '/v1/namespaces/team-a/replicas', undefined, viewer)).status).toBe(200);
    const write = await t.call('PUT', '/v1/namespaces/team-a/deployments/other', deploymentBody(), viewer);
    expect(write.status).toBe(403);
    expect(
      (await t.call('PUT', '/v1/namespaces/team-a/deployments/web/scale', { replicas: 1 }, viewer)).status,
    ).toBe(403);
    expect((await t.call('DELETE', '/v1/namespaces/team-a/deployments/web', undefined, viewer)).status).toBe(
      403,
    );
    expect((await t.call('GET', '/v1/namespaces/team-a/deployments/other', undefined, viewer)).status).toBe(
      404,
    );
  });

  it('revokes a token from the next request on', async () => {
    const { id, token: secret } = await token('viewer', ['default']);
    expect((await t.call('GET', '/v1/namespaces/default/deployments', undefined, secret)).status).toBe(200);
    expect((await t.call('DELETE', `/v1/tokens/${id}`)).status).toBe(204);
    expect((await t.call('GET', '/v1/namespaces/default/deployments', undefined, secret)).status).toBe(401);
    expect((await t.call('DELETE', `/v1/tokens/${id}`)).status).toBe(404);
  });

  it('refuses an expired token', async () => {
    const { token: secret } = await token('viewer', ['default'], { expiresInSeconds: 60 });
    expect((await t.call('GET', '/v1/namespaces/default/deployments', undefined, secret)).status).toBe(200);
    const realNow = t.plane.deps.now;
    t.plane.deps.now = () => new Date(Date.now() + 61_000);
    try {
      expect((await t.call('GET', '/v1/namespaces/default/deployments', undefined, secret)).status).toBe(401);
    } finally {
      t.plane.deps.now = realNow;
    }
  });

  it('validates token requests', async () => {
    const bad = await t.call('POST', '/v1/tokens', { name: '', role: 'root', namespaces: ['Bad Name'] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: any) => e.path)).toEqual(
      expect.arrayContaining(['name', 'role', 'namespaces[0]']),
    );
  });

  it('creates join tokens that expire and honour maxUses', async () => {
    const res = await t.call('POST', '/v1/join-tokens', { ttlSeconds: 3600, maxUses: 1 });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^berth_j_/);
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 3500_000);
    const register = (name: string, joinToken: string) =>
      t.call(
        'POST',
        '/v1/agent/register',
        { joinToken, name, capacity: { cpu: 2, memoryBytes: 2 ** 30 }, address: '10.0.0.1' },
        null,
      );
    expect((await register('jt-node-1', res.body.token)).status).toBe(200);
    const second = await register('jt-node-2', res.body.token);
    expect(second.status).toBe(401);
    const dflt = await t.call('POST', '/v1/join-tokens');
    expect(dflt.status).toBe(201);
  });

  it('rate limits repeated authentication failures per client, not good clients', async () => {
    t.plane.deps.clientAddress = (c) => c.req.header('x-test-client') ?? 'good';
    try {
      let limited = 0;
      for (let i = 0; i < 25; i++) {
        const res = await t.plane.app.request('/v1/tokens', {
          headers: { authorization: 'Bearer berth_u_wrong-guess-0000', 'x-test-client': 'attacker' },
        });
        if (res.status === 429) {
          limited++;
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        }
      }
      expect(limited).toBeGreaterThan(0);
      expect((await t.call('GET', '/v1/tokens')).status).toBe(200);
    } finally {
      t.plane.deps.clientAddress = undefined;
    }
  });
});

describe('failures that are not the caller\u2019s fault', () => {
  it('hides internal errors behind a request id', async () => {
    const t = await startTestPlane('pglite');
    const logged: unknown[] = [];
    t.plane.deps.log = {
      debug() {},
      info() {},
      warn() {},
      error: (m, f) => logged.push([m, f]),
      debugEnabled: false,
    };
    const realSelect = t.plane.deps.db.select.bind(t.plane.deps.db);
    (t.plane.deps.db as { select: unknown }).select = () => {
      throw new Error('relation "secret_internal_table" does not exist at SELECT * FROM x');
    };
    try {
      const res = await t.call('GET', '/v1/namespaces/default/deployments');
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('INTERNAL');
      expect(JSON.stringify(res.body)).not.toContain('secret_internal_table');
      expect(res.body.requestId).toBeTruthy();
      expect(JSON.stringify(logged)).toContain(res.body.requestId);
    } finally {
      (t.plane.deps.db as { select: unknown }).select = realSelect;
      await t.close();
    }
  });

  it('answers 503 with Retry-After to a request Postgres rolled back as a deadlock victim', async () => {
    const t = await startTestPlane('pglite');
    const realSelect = t.plane.deps.db.select.bind(t.plane.deps.db);
    (t.plane.deps.db as { select: unknown }).select = () => {
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    };
    try {
      const res = await t.call('GET', '/v1/namespaces/default/deployments');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.detail).toContain('nothing was changed');
    } finally {
      (t.plane.deps.db as { select: unknown }).select = realSelect;
      await t.close();
    }
  });

  it('answers 503 with Retry-After while Postgres is unreachable and recovers without a restart', async () => {
    const { startTcpProxy } = await import('../support/tcp-proxy.ts');
    const { freshPostgres } = await import('../support/databases.ts');
    const db = await freshPostgres();
    const upstream = new URL(db.url);
    const proxy = await startTcpProxy(Number(upstream.port || 5432), upstream.hostname);
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const t = await startTestPlane('pglite', { DATABASE_URL: viaProxy.toString() });
    try {
      expect(
        (await t.call('PUT', '/v1/namespaces/default/deployments/before', deploymentBody())).status,
      ).toBe(201);
      proxy.cut();
      const down = await t.call('PUT', '/v1/namespaces/default/deployments/during', deploymentBody());
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('UNAVAILABLE');
      expect(down.headers.get('retry-after')).toBeTruthy();
      expect((await t.call('GET', '/readyz', undefined, null)).status).toBe(503);
      proxy.restore();
      let recovered = 0;
      for (let i = 0; i < 50 && recovered !== 200; i++) {
        recovered = (await t.call('GET', '/readyz', undefined, null)).status;
        if (recovered !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(recovered).toBe(200);
      expect((await t.call('GET', '/v1/namespaces/default/deployments/before')).status).toBe(200);
      expect((await t.call('PUT', '/v1/namespaces/default/deployments/after', deploymentBody())).status).toBe(
        201,
      );
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const names = (await c.query('select name from deployments order by name')).rows.map((r) => r.name);
      await c.end();
      expect(names).toEqual(['after', 'before']);
    } finally {
      await t.close();
      await proxy.close();
      await db.drop();
    }
  });
});

describe('GET /v1/namespaces', () => {
  it('lists what the caller may see', async () => {
    const t = await startTestPlane('pglite');
    try {
      await t.call('PUT', '/v1/namespaces/team-x/deployments/a', deploymentBody());
      await t.call('PUT', '/v1/namespaces/team-y/deployments/a', deploymentBody());
      const all = await t.call('GET', '/v1/namespaces');
      expect(all.body.items.map((n: { name: string }) => n.name)).toEqual(['default', 'team-x', 'team-y']);
      const viewer = (
        await t.call('POST', '/v1/tokens', { name: 'v', role: 'viewer', namespaces: ['team-x'] })
      ).body.token;
      const mine = await t.call('GET', '/v1/namespaces', undefined, viewer);
      expect(mine.body.items).toEqual([{ name: 'team-x', phase: 'Active' }]);
    } finally {
      await t.close();
    }
  });
});
