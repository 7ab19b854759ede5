import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_CLAIMS, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.ts';
import { startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * CI without stored secrets: trust rules (API, manifest) and POST /v1/tokens/exchange against a
 * test issuer on 127.0.0.1 standing in for GitHub Actions'. Every refusal is a 401 naming its
 * check, and an event the admin reads; an exchanged token does what its rule says, for as long.
 */

/** An issuer Berth is told to trust that does not answer: its keys cannot be had. */
const DEAD_ISSUER = 'http://127.0.0.1:9';

let t: TestPlane;
let issuer: TestIssuer;
let clients = 0;

/** An exchange from a client address of its own, so the failure limiter counts only what a test means. */
async function exchange(body: unknown, client = `client-${++clients}`) {
  const res = await t.plane.app.request('/v1/tokens/exchange', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-test-client': client },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

const rule = (spec: Record<string, unknown>) => ({ spec: { issuer: issuer.url, ...spec } });

beforeAll(async () => {
  issuer = await startTestIssuer();
  t = await startTestPlane('postgres', { BERTH_OIDC_ISSUERS: `${issuer.url},${DEAD_ISSUER}` });
  t.plane.deps.clientAddress = (c) => c.req.header('x-test-client') ?? 'exchange-test';
  const put = await t.call(
    'PUT',
    '/v1/trustrules/shop-production',
    rule({
      claims: { repository: 'acme/shop', environment: 'production', ref: 'refs/heads/main' },
      role: 'deployer',
      namespaces: ['shop'],
    }),
  );
  expect(put.status, JSON.stringify(put.body)).toBe(201);
});

afterAll(async () => {
  await t?.close();
  await issuer?.close();
});

describe('trust rules', () => {
  it('are admin objects through the API and the apply path, validated with paths', async () => {
    const got = await t.call('GET', '/v1/trustrules/shop-production');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      apiVersion: 'berth.dev/v1',
      kind: 'TrustRule',
      metadata: { name: 'shop-production', resourceVersion: '1', generation: 1 },
      spec: { role: 'deployer', namespaces: ['shop'], ttlSeconds: 900, issuer: issuer.url },
    });
    expect(got.body.metadata.namespace).toBeUndefined();

    const yaml = [
      'apiVersion: berth.dev/v1',
      'kind: TrustRule',
      'metadata: {name: shop-preview}',
      'spec:',
      `  issuer: ${issuer.url}`,
      '  claims: {repository: acme/shop, ref: "refs/heads/feature-*"}',
      '  role: viewer',
      '  namespaces: [shop-preview]',
      '  ttlSeconds: 120',
      '',
    ].join('\n');
    const apply = (text: string, token?: string) =>
      t.plane.app.request('/v1/apply', {
        method: 'POST',
        headers: {
          'content-type': 'application/yaml',
          authorization: `Bearer ${token ?? 'test-admin-token-0123456789abcdef'}`,
        },
        body: text,
      });
    expect(await (await apply(yaml)).json()).toMatchObject({
      items: [{ kind: 'TrustRule', namespace: '', name: 'shop-preview', action: 'created' }],
    });
    expect(await (await apply(yaml)).json()).toMatchObject({ items: [{ action: 'unchanged' }] });
    // No namespace sprang into being for a cluster-scoped object.
    expect(
      (await t.call('GET', '/v1/namespaces')).body.items.map((n: { name: string }) => n.name),
    ).not.toContain('');
    expect((await t.call('GET', '/v1/trustrules')).body.items.map((r: any) => r.metadata.name)).toEqual([
      'shop-preview',
      'shop-production',
    ]);

    // A deployer can write neither through the apply path nor the route.
    const deployer = (
      await t.call('POST', '/v1/tokens', { name: 'd', role: 'deployer', namespaces: ['shop'] })
    ).body.token;
    expect((await apply(yaml, deployer)).status).toBe(403);
    expect(
      (
        await t.call(
          'PUT',
          '/v1/trustrules/x',
          rule({ claims: { repository: 'a/b' }, role: 'viewer', namespaces: ['shop'] }),
          deployer,
        )
      ).status,
    ).toBe(403);

    const bad = await t.call(
      'PUT',
      '/v1/trustrules/bad',
      rule({
        claims: { ref: 'refs/heads/main', actor: 'me' },
        role: 'admin',
        namespaces: [],
        ttlSeconds: 86400,
      }),
    );
    expect(bad.status).toBe(422);
    const paths = bad.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual([
      'spec.claims.actor',
      'spec.claims.repository',
      'spec.namespaces',
      'spec.role',
      'spec.ttlSeconds',
    ]);
    const anyone = await t.call(
      'PUT',
      '/v1/trustrules/bad',
      rule({ claims: { ref: 'refs/heads/main' }, role: 'viewer', namespaces: ['a'] }),
    );
    expect(anyone.body.errors).toEqual([
      expect.objectContaining({
        path: 'spec.claims.repository',
        message: expect.stringMatching(/every repository/),
      }),
    ]);
    const anyOwner = await t.call(
      'PUT',
      '/v1/trustrules/bad',
      rule({ claims: { repository: '*/shop' }, role: 'viewer', namespaces: ['a'] }),
    );
    expect(anyOwner.body.errors).toEqual([expect.objectContaining({ path: 'spec.claims.repository' })]);
    const withNamespace = await apply(yaml.replace('{name: shop-preview}', '{name: p, namespace: shop}'));
    expect(withNamespace.status).toBe(422);
    const putWithNamespace = await t.call('PUT', '/v1/trustrules/p', {
      metadata: { namespace: 'shop' },
      ...rule({ claims: { repository: 'a/b' }, role: 'viewer', namespaces: ['shop'] }),
    });
    expect(putWithNamespace.body.errors).toEqual([expect.objectContaining({ path: 'metadata.namespace' })]);
  });
});

describe('POST /v1/tokens/exchange', () => {
  it('trades a matching identity token for a short-lived token of the rule, recorded with its claims', async () => {
    const before = Date.now();
    const res = await exchange({ token: await issuer.sign() });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      role: 'deployer',
      namespaces: ['shop'],
      exchange: {
        issuer: issuer.url,
        subject: GITHUB_CLAIMS.sub,
        rules: ['shop-production'],
        claims: { repository: 'acme/shop', ref: 'refs/heads/main', environment: 'production' },
      },
    });
    const ttl = Date.parse(res.body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(890_000);
    expect(ttl).toBeLessThanOrEqual(900_000 + (Date.now() - before));

    const token = res.body.token as string;
    expect((await t.call('GET', '/v1/whoami', undefined, token)).body).toMatchObject({
      role: 'deployer',
      namespaces: ['shop'],
    });
    expect((await t.call('GET', '/v1/namespaces/shop/deployments', undefined, token)).status).toBe(200);
    expect((await t.call('GET', '/v1/namespaces/other/deployments', undefined, token)).status).toBe(403);
    expect((await t.call('GET', '/v1/tokens', undefined, token)).status).toBe(403);

    const listed = (await t.call('GET', '/v1/tokens')).body.items.find(
      (x: { id: string }) => x.id === res.body.id,
    );
    expect(listed).toMatchObject({ exchange: res.body.exchange, expiresAt: res.body.expiresAt });
    const events = (await t.call('GET', '/v1/events?object=tokenexchange/shop-production')).body.items;
    expect(events.at(-1)).toMatchObject({ reason: 'TokenExchanged', type: 'Normal' });
    expect(events.at(-1).message).toContain(res.body.id);
  });

  it('expires the exchanged token when its rule says', async () => {
    const res = await exchange({ token: await issuer.sign({ ref: 'refs/heads/feature-1' }) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // The preview rule: viewer, two minutes.
    expect(res.body).toMatchObject({
      role: 'viewer',
      namespaces: ['shop-preview'],
      exchange: { rules: ['shop-preview'] },
    });
    const token = res.body.token as string;
    const expiresAt = Date.parse(res.body.expiresAt);
    const realNow = t.plane.deps.now;
    try {
      t.plane.deps.now = () => new Date(expiresAt - 1000);
      expect((await t.call('GET', '/v1/whoami', undefined, token)).status).toBe(200);
      t.plane.deps.now = () => new Date(expiresAt);
      const late = await t.call('GET', '/v1/whoami', undefined, token);
      expect(late.status).toBe(401);
    } finally {
      t.plane.deps.now = realNow;
    }
  });

  it('refuses each failed check with a 401 that names it, and an event for the admin', async () => {
    const valid = await issuer.sign();
    const [header, payload] = valid.split('.') as [string, string, string];
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const hmac = await new SignJWT({ ...GITHUB_CLAIMS, iss: issuer.url, aud: 'berth' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a secret anyone could choose, 32b'));
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), repository: 'acme/other' })).toString('base64url')}.${valid.split('.')[2]}`;
    const cases: [string, string, string][] = [
      [
        'another repository',
        await issuer.sign({ repository: 'acme/other', repository_owner: 'acme' }),
        'no matching rule',
      ],
      [
        'another branch',
        await issuer.sign({ ref: 'refs/tags/v1', environment: 'production' }),
        'no matching rule',
      ],
      ['another environment', await issuer.sign({ environment: 'staging' }), 'no matching rule'],
      ['another audience', await issuer.sign({ aud: 'https://github.com/acme' }), 'audience'],
      ['another issuer', await issuer.sign({ iss: 'https://issuer.example.com' }), 'issuer'],
      ['expired', await issuer.sign({}, { iat: -600, exp: -120 }), 'expired'],
      ['not yet valid', await issuer.sign({}, { nbf: 300, exp: 600 }), 'not yet valid'],
      ['issued in the future', await issuer.sign({}, { iat: 300, exp: 600 }), 'issued in the future'],
      ['an unpublished key', await issuer.sign({}, { unpublished: true }), 'signature'],
      ['a changed payload', tampered, 'signature'],
      ['alg none', unsigned, 'algorithm'],
      ['an HMAC', hmac, 'algorithm'],
      ['not a JWT', 'not-a-jwt', 'malformed'],
    ];
    const wrong: string[] = [];
    for (const [what, token, check] of cases) {
      const res = await exchange({ token });
      const detail = String(res.body.detail);
      if (
        res.status !== 401 ||
        !detail.startsWith(`identity token refused (${check})`) ||
        res.body.code !== 'UNAUTHENTICATED'
      )
        wrong.push(`${what}: want 401 (${check}), got ${res.status} ${detail}`);
    }
    expect(wrong).toEqual([]);
    // Near the limit: within a minute's skew, the token still passes.
    expect((await exchange({ token: await issuer.sign({}, { iat: -400, exp: -30 }) })).status).toBe(200);

    const events = (await t.call('GET', '/v1/events?object=tokenexchange&limit=100')).body.items.filter(
      (e: { reason: string }) => e.reason === 'ExchangeRefused',
    );
    expect(events).toHaveLength(cases.length);
    for (const [, , check] of cases)
      expect(events.some((e: { message: string }) => e.message.startsWith(`refused (${check})`))).toBe(true);
    const otherRepo = events.find((e: { message: string }) => e.message.includes('repository acme/other'));
    expect(otherRepo).toMatchObject({ type: 'Warning', object: 'tokenexchange/-' });
    expect(otherRepo.message).toMatch(/from client-\d+$/);
  });

  it('uses the named rule, and refuses rules of different roles matched at once', async () => {
    await t.call(
      'PUT',
      '/v1/trustrules/shop-readers',
      rule({ claims: { repository_owner: 'acme' }, role: 'viewer', namespaces: ['shop'] }),
    );
    try {
      const token = await issuer.sign();
      const both = await exchange({ token });
      expect(both.status).toBe(422);
      expect(both.body.errors[0]).toMatchObject({
        path: 'rule',
        message: expect.stringContaining('shop-readers: viewer'),
      });
      const named = await exchange({ token, rule: 'shop-readers' });
      expect(named.body).toMatchObject({ role: 'viewer', exchange: { rules: ['shop-readers'] } });
      const unknown = await exchange({ token, rule: 'nope' });
      expect(unknown.body.detail).toMatch(
        /^identity token refused \(no matching rule\): no trust rule named "nope"/,
      );
    } finally {
      await t.call('DELETE', '/v1/trustrules/shop-readers');
    }
  });

  it("caches the issuer's keys, fetches them again for a new key id at most once per cooldown", async () => {
    const before = issuer.fetches;
    expect((await exchange({ token: await issuer.sign() })).status).toBe(200);
    expect(issuer.fetches).toBe(before);
    await issuer.rotate();
    // Past the cooldown since the keys were fetched: a new key id has them fetched again.
    const realNow = t.plane.deps.now;
    try {
      t.plane.deps.now = () => new Date(Date.now() + 31_000);
      const rotated = await exchange({ token: await issuer.sign({}, { alg: 'ES256' }) });
      expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    } finally {
      t.plane.deps.now = realNow;
    }
    expect(issuer.fetches).toBe(before + 1);
    // An unknown kid again, right after: no fetch, a refusal.
    const forged = await exchange({ token: await issuer.sign({}, { unpublished: true }) });
    expect(forged.body.detail).toMatch(/\(signature\): no key the issuer publishes has kid/);
    expect(issuer.fetches).toBe(before + 1);
  });

  it('answers 503 when an issuer has no keys to be had, and 429 to an address that keeps failing', async () => {
    const dead = await issuer.sign({ iss: DEAD_ISSUER });
    const unavailable = await exchange({ token: dead });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('5');

    const wrongAudience = await issuer.sign({ aud: 'else' });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await exchange({ token: wrongAudience }, 'hammer')).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
    // A valid identity token from that address still goes through.
    expect((await exchange({ token: await issuer.sign() }, 'hammer')).status).toBe(200);
    const refusals = (await t.call('GET', '/v1/events?object=tokenexchange&limit=200')).body.items.filter(
      (e: { message: string }) => e.message.endsWith('from hammer'),
    );
    expect(refusals).toHaveLength(20);
  });

  it('refuses a body that is not an exchange with a 422', async () => {
    const res = await exchange({ jwt: 'x' });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'jwt' })]);
    expect((await exchange({})).body.errors).toEqual([
      expect.objectContaining({ path: 'token', message: 'is required' }),
    ]);
  });
});

describe('the exchange path', () => {
  it('is public for POST only: another method on it is a route that takes a token', async () => {
    for (const method of ['DELETE', 'GET', 'PUT']) {
      const res = await t.plane.app.request('/v1/tokens/exchange', { method });
      expect(res.status, method).toBeLessThan(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const res = await t.plane.app.request('/v1/tokens/exchange', { method: 'DELETE' });
    expect(res.status).toBe(401);
  });
});
