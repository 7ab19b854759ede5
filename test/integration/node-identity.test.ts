import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidrList } from '../../workers/auth/node-address.ts';
import { DATABASE_KINDS, deploymentBody, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually } from '../support/sim-agents.ts';

/**
 * Who may hold a node's name (workers/verbs/node-registration.ts): a join token lets a machine
 * in once, as a new node or into a name an admin reset; it never takes over a node that holds a
 * credential. And what a node may say about where it is: an IP address outside the ranges
 * that reach the control plane's own cloud (metadata services, link-local).
 */
describe.each(DATABASE_KINDS)('node identities on %s', (kind) => {
  let t: TestPlane;
  beforeAll(async () => {
    t = await startTestPlane(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const joinToken = async (body: Record<string, unknown> = {}) => {
    const res = await t.call('POST', '/v1/join-tokens', body);
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string; expiresAt: string; maxUses: number };
  };
  const register = (
    body: { joinToken?: string; name: string; address?: string; labels?: Record<string, string> },
    bearer: string | null = null,
  ) =>
    t.call(
      'POST',
      '/v1/agent/register',
      { capacity: { cpu: 2, memoryBytes: 2 ** 30 }, address: '10.0.0.1', ...body },
      bearer,
    );
  const poll = (token: string) =>
    t.plane.app.request('/v1/agent/assignments', { headers: { authorization: `Bearer ${token}` } });
  const nodeRow = async (name: string) => (await t.call('GET', `/v1/nodes/${name}`)).body;
  const uses = async (id: string) =>
    (await t.call('GET', '/v1/join-tokens')).body.items.find((j: { id: string }) => j.id === id).uses;

  /** A node that is registered, with a replica on it whose env carries a secret. */
  async function victim(name: string) {
    const jt = await joinToken();
    const reg = await register({ joinToken: jt.token, name, address: '10.0.0.7' });
    expect(reg.status).toBe(200);
    return reg.body as { nodeId: string; nodeToken: string };
  }

  it('refuses a join token for a name that holds a credential (409), and changes nothing', async () => {
    const real = await victim('held');
    expect(
      (await t.call('PUT', '/v1/namespaces/default/secrets/held-db', { data: { password: 'held-s3cret' } }))
        .status,
    ).toBe(201);
    const pinned = deploymentBody({ replicas: 1 });
    Object.assign(pinned.spec.template.spec, { nodeSelector: { 'berth.dev/node': 'held' } });
    (pinned.spec.template.spec.containers[0] as Record<string, unknown>).env = [
      { name: 'P', valueFrom: { secretKeyRef: { name: 'held-db', key: 'password' } } },
    ];
    expect((await t.call('PUT', '/v1/namespaces/default/deployments/held-app', pinned)).status).toBe(201);
    await eventually(async () => {
      await t.plane.reconciler.tick();
      return (await (await poll(real.nodeToken)).text()).includes('held-s3cret');
    });
    const before = await nodeRow('held');

    const attacker = await joinToken({ maxUses: 5 });
    const hijack = await register({ joinToken: attacker.token, name: 'held', address: '10.6.6.6' });
    expect(hijack.status).toBe(409);
    expect(hijack.body.code).toBe('CONFLICT');
    expect(hijack.body.detail).toContain('berth node reset held');
    expect(hijack.body.detail).toContain('Authorization: Bearer <node token>');
    expect(JSON.stringify(hijack.body)).not.toContain('held-s3cret');

    // The real agent still holds the node and its assignments; the attempt used nothing up.
    const still = await poll(real.nodeToken);
    expect(still.status).toBe(200);
    expect(await still.text()).toContain('held-s3cret');
    const after = await nodeRow('held');
    expect(after.address).toBe('10.0.0.7');
    expect(after.uid).toBe(before.uid);
    expect(await uses(attacker.id)).toBe(0);
  });

  it('lets a node register again with its own credential to update labels and address', async () => {
    const real = await victim('own');
    const again = await register(
      { name: 'own', address: '10.0.0.8', labels: { disk: 'ssd' } },
      real.nodeToken,
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ nodeId: real.nodeId, nodeToken: real.nodeToken });
    const node = await nodeRow('own');
    expect(node.address).toBe('10.0.0.8');
    expect(node.labels).toEqual({ disk: 'ssd', 'kubernetes.io/hostname': 'own', 'berth.dev/node': 'own' });
    expect((await poll(real.nodeToken)).status).toBe(200);
    // Its credential is its own name's only.
    await victim('other-own');
    const elsewhere = await register({ name: 'other-own', address: '10.0.0.9' }, real.nodeToken);
    expect(elsewhere.status).toBe(403);
    expect((await nodeRow('other-own')).address).toBe('10.0.0.7');
    // Neither a join token nor a credential: nothing to go on.
    const bare = await register({ name: 'own' });
    expect(bare.status).toBe(401);
    const unknown = await register({ name: 'own' }, 'berth_n_not-a-credential-at-all');
    expect(unknown.status).toBe(401);
  });

  it('lets a join token take the name once an admin reset it; the old credential is refused', async () => {
    const old = await victim('reinstalled');
    const waiting = t.plane.app.request('/v1/agent/assignments?wait=20', {
      headers: {
        authorization: `Bearer ${old.nodeToken}`,
        'if-none-match': (await poll(old.nodeToken)).headers.get('etag')!,
      },
    });
    const reset = await t.call('POST', '/v1/nodes/reinstalled/reset');
    expect(reset.status).toBe(200);
    expect(reset.body.name).toBe('reinstalled');
    // A long-poll held with the old credential is answered at once, refused.
    const started = Date.now();
    expect((await waiting).status).toBe(401);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await poll(old.nodeToken)).status).toBe(401);
    const again = await register({ name: 'reinstalled', address: '10.0.0.7' }, old.nodeToken);
    expect(again.status).toBe(401);

    const fresh = await register({ joinToken: (await joinToken()).token, name: 'reinstalled' });
    expect(fresh.status).toBe(200);
    expect(fresh.body.nodeId).toBe(old.nodeId);
    expect(fresh.body.nodeToken).not.toBe(old.nodeToken);
    expect((await poll(fresh.body.nodeToken)).status).toBe(200);
    expect((await poll(old.nodeToken)).status).toBe(401);
    // Taken again: the next join token is refused as before.
    expect((await register({ joinToken: (await joinToken()).token, name: 'reinstalled' })).status).toBe(409);
    const events = (await t.call('GET', '/v1/events?object=node/reinstalled')).body.items;
    expect(events.map((e: { reason: string }) => e.reason)).toEqual(
      expect.arrayContaining(['CredentialReset', 'Registered']),
    );
    expect((await t.call('POST', '/v1/nodes/never-was/reset')).status).toBe(404);
  });

  it('makes join tokens single-use and short-lived by default', async () => {
    const jt = await joinToken();
    expect(jt.maxUses).toBe(1);
    const ttl = new Date(jt.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);
    expect((await register({ joinToken: jt.token, name: 'single-1' })).status).toBe(200);
    const second = await register({ joinToken: jt.token, name: 'single-2' });
    expect(second.status).toBe(401);
    expect((await t.call('GET', '/v1/nodes/single-2')).status).toBe(404);
    const many = await joinToken({ maxUses: 2, ttlSeconds: 600 });
    expect((await register({ joinToken: many.token, name: 'many-1' })).status).toBe(200);
    expect((await register({ joinToken: many.token, name: 'many-2' })).status).toBe(200);
    expect((await register({ joinToken: many.token, name: 'many-3' })).status).toBe(401);
    const bounds = await t.call('POST', '/v1/join-tokens', { maxUses: 0, ttlSeconds: 10 });
    expect(bounds.status).toBe(422);
    expect(bounds.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['maxUses', 'ttlSeconds']);
  });

  it('refuses an expired join token; one created with the defaults expires after an hour', async () => {
    const short = await joinToken({ ttlSeconds: 60 });
    const hour = await joinToken();
    const realNow = t.plane.deps.now;
    try {
      t.plane.deps.now = () => new Date(Date.now() + 61_000);
      expect((await register({ joinToken: short.token, name: 'too-late' })).status).toBe(401);
      t.plane.deps.now = () => new Date(Date.now() + 3601_000);
      expect((await register({ joinToken: hour.token, name: 'an-hour-late' })).status).toBe(401);
    } finally {
      t.plane.deps.now = realNow;
    }
    expect(await uses(short.id)).toBe(0);
    expect((await t.call('GET', '/v1/nodes/an-hour-late')).status).toBe(404);
    expect((await register({ joinToken: short.token, name: 'in-time' })).status).toBe(200);
  });

  it('holds a bound join token to its node name and to exactly its labels', async () => {
    const jt = await joinToken({ nodeName: 'bound', labels: { region: 'eu' }, maxUses: 3 });
    const listed = (await t.call('GET', '/v1/join-tokens')).body.items.find(
      (j: { id: string }) => j.id === jt.id,
    );
    expect(listed).toMatchObject({ nodeName: 'bound', labels: { region: 'eu' }, maxUses: 3 });
    const wrongName = await register({ joinToken: jt.token, name: 'unbound', labels: { region: 'eu' } });
    expect(wrongName.status).toBe(403);
    expect(wrongName.body.detail).toContain('only node "bound"');
    const fewer = await register({ joinToken: jt.token, name: 'bound' });
    expect(fewer.status).toBe(403);
    const more = await register({ joinToken: jt.token, name: 'bound', labels: { region: 'eu', gpu: 'yes' } });
    expect(more.status).toBe(403);
    expect(more.body.detail).toContain('region=eu');
    const other = await register({ joinToken: jt.token, name: 'bound', labels: { region: 'us' } });
    expect(other.status).toBe(403);
    expect(await uses(jt.id)).toBe(0);
    expect((await t.call('GET', '/v1/nodes/unbound')).status).toBe(404);
    // The platform labels an agent detects are not held to a token that does not name them.
    const platform = { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' };
    const ok = await register({ joinToken: jt.token, name: 'bound', labels: { region: 'eu', ...platform } });
    expect(ok.status).toBe(200);
    expect((await nodeRow('bound')).labels).toEqual({
      region: 'eu',
      ...platform,
      'kubernetes.io/hostname': 'bound',
      'berth.dev/node': 'bound',
    });
    const bad = await t.call('POST', '/v1/join-tokens', {
      nodeName: 'Not A Name',
      labels: { 'bad key!': 'x' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['nodeName', 'labels["bad key!"]']),
    );
  });

  it('takes only an IP address outside link-local and metadata ranges as the node address', async () => {
    const jt = await joinToken({ maxUses: 20 });
    const refused = async (address: string, why: RegExp) => {
      const res = await register({ joinToken: jt.token, name: 'addr', address });
      expect(res.status, address).toBe(422);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors, address).toEqual([{ path: 'address', message: expect.stringMatching(why) }]);
    };
    await refused('metadata.google.internal', /IP address/);
    await refused('localhost', /IP address/);
    await refused('10.0.0.1:80', /IP address/);
    await refused('169.254.169.254', /link-local/);
    await refused('::ffff:169.254.169.254', /link-local/);
    await refused('169.254.170.2', /link-local/);
    await refused('fe80::1', /link-local/);
    await refused('fd00:ec2::254', /metadata/);
    await refused('100.100.100.200', /metadata/);
    await refused('0.0.0.0', /not a host address/);
    await refused('::', /not a host address/);
    await refused('224.0.0.1', /multicast/);
    expect(await uses(jt.id)).toBe(0);
    expect((await t.call('GET', '/v1/nodes/addr')).status).toBe(404);
    // Loopback stays allowed by default (npm start's own agent); IPv6 is stored in canonical form.
    expect((await register({ joinToken: jt.token, name: 'loop', address: '127.0.0.1' })).status).toBe(200);
    expect((await register({ joinToken: jt.token, name: 'six', address: '2001:DB8:0:0::1' })).status).toBe(
      200,
    );
    expect((await nodeRow('six')).address).toBe('2001:db8::1');
    // The node's own credential is held to the same rule.
    const own = await victim('addr-own');
    const moved = await register({ name: 'addr-own', address: '169.254.169.254' }, own.nodeToken);
    expect(moved.status).toBe(422);
    expect((await nodeRow('addr-own')).address).toBe('10.0.0.7');
  });
});

describe('BERTH_NODE_ADDRESS_CIDRS', () => {
  it('takes only addresses in the listed ranges; a refused range opens only to a range inside it', async () => {
    const t = await startTestPlane('pglite', {
      BERTH_NODE_ADDRESS_CIDRS: '10.20.0.0/16, fd00::/8,169.254.10.0/24',
    });
    try {
      const jt = (await t.call('POST', '/v1/join-tokens', { maxUses: 20 })).body.token;
      const register = (name: string, address: string) =>
        t.call(
          'POST',
          '/v1/agent/register',
          { joinToken: jt, name, capacity: { cpu: 1, memoryBytes: 2 ** 30 }, address },
          null,
        );
      expect((await register('in-v4', '10.20.3.4')).status).toBe(200);
      expect((await register('in-v6', 'fd00::5')).status).toBe(200);
      expect((await register('in-ll', '169.254.10.9')).status).toBe(200);
      for (const address of ['10.21.0.1', '127.0.0.1', '192.168.1.1', '169.254.169.254', '2001:db8::1']) {
        const res = await register('out', address);
        expect(res.status, address).toBe(422);
        expect(res.body.errors[0].path).toBe('address');
      }
      expect((await register('out', '10.21.0.1')).body.errors[0].message).toContain('10.20.0.0/16');
      // Everything listed is still not the metadata service: 0.0.0.0/0 lies outside no refused range.
      t.plane.deps.config.nodeAddressCidrs = parseCidrList('0.0.0.0/0').cidrs;
      expect((await register('anywhere', '203.0.113.9')).status).toBe(200);
      expect((await register('meta', '169.254.169.254')).status).toBe(422);
    } finally {
      await t.close();
    }
  });
});

describe('two registrations racing for one reset name, on Postgres', () => {
  it('lets exactly one take it', async () => {
    const t = await startTestPlane('postgres');
    try {
      const jt = (await t.call('POST', '/v1/join-tokens', { maxUses: 20 })).body.token;
      const register = () =>
        t.call(
          'POST',
          '/v1/agent/register',
          {
            joinToken: jt,
            name: 'contended',
            capacity: { cpu: 1, memoryBytes: 2 ** 30 },
            address: '10.0.0.1',
          },
          null,
        );
      expect((await register()).status).toBe(200);
      expect((await t.call('POST', '/v1/nodes/contended/reset')).status).toBe(200);
      const statuses = (await Promise.all(Array.from({ length: 8 }, register))).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
      const used = (await t.call('GET', '/v1/join-tokens')).body.items[0].uses;
      expect(used).toBe(2);
    } finally {
      await t.close();
    }
  });
});
