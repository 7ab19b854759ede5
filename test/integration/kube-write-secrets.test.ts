import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secrets } from '../../db/schema/index.ts';
import { resolveSecrets } from '../../workers/verbs/secrets.ts';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * Secrets and ServiceAccounts written through the Kubernetes API face: the same verbs as `/v1`,
 * values still never read back (nor kept readable in kubectl's last-applied annotation), and what
 * kubectl writes back after reading (a label, an edit, a PUT of an object read) keeps the values
 * it never saw. kubectl itself drives it in test/e2e/kubectl-write.test.ts.
 */

let t: TestPlane;
let viewer: string;
let deployer: string;

const SECRETS = '/api/v1/namespaces/default/secrets';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function send(
  method: string,
  path: string,
  body?: unknown,
  options: { type?: string; token?: string } = {},
) {
  const res = await t.plane.app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${options.token ?? ADMIN_TOKEN}`,
      ...(body !== undefined ? { 'content-type': options.type ?? 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The stored values, decrypted as an agent's assignment gets them. */
async function values(name: string, ns = 'default') {
  const found = await resolveSecrets(t.plane.deps.db, t.plane.deps.config.secretKey, ns, [name]);
  return found.get(name)?.data;
}

/** The stored annotations, as the row holds them. */
async function storedAnnotations(name: string) {
  const [row] = await t.plane.deps.db
    .select({ annotations: secrets.annotations })
    .from(secrets)
    .where(and(eq(secrets.namespace, 'default'), eq(secrets.name, name)));
  return row?.annotations;
}

/** What kubectl's client-side apply sends: the manifest, and itself as the last-applied annotation. */
function applied(name: string, data: Record<string, string>) {
  const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data };
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      annotations: { [LAST_APPLIED]: `${JSON.stringify(manifest)}\n` },
    },
  };
}

beforeAll(async () => {
  t = await startTestPlane('pglite');
  viewer = (await t.call('POST', '/v1/tokens', { name: 'v', role: 'viewer', namespaces: ['default'] })).body
    .token;
  deployer = (await t.call('POST', '/v1/tokens', { name: 'ci', role: 'deployer', namespaces: ['team'] })).body
    .token;
});

afterAll(async () => {
  await t?.close();
});

describe('Secrets through the Kubernetes API face', () => {
  it('creates one as kubectl apply does: values stored sealed, shown nowhere, redacted in last-applied', async () => {
    const created = await send('POST', SECRETS, applied('db', { user: b64('app'), password: b64('s3cret') }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.data).toBeUndefined();
    expect(created.body.metadata.annotations['berth.dev/keys']).toBe('password,user');
    expect(await values('db')).toEqual({ user: 'app', password: 's3cret' });
    // Nothing of the values in what is stored in clear, nor in what a read shows.
    const stored = JSON.stringify(await storedAnnotations('db'));
    const read = JSON.stringify((await send('GET', `${SECRETS}/db`)).body);
    for (const text of [stored, read, JSON.stringify(created.body)]) {
      expect(text).not.toContain(b64('s3cret'));
      expect(text).not.toContain('s3cret');
    }
    const lastApplied = JSON.parse((await storedAnnotations('db'))?.[LAST_APPLIED] ?? '');
    expect(lastApplied.data).toEqual({ user: '<redacted>', password: '<redacted>' });
    // /v1 reads it as its own.
    expect((await t.call('GET', '/v1/namespaces/default/secrets/db')).body.keys).toEqual([
      'password',
      'user',
    ]);
  });

  it("applies again as kubectl's three-way patch: the same values change nothing, a new value is stored, a dropped key goes", async () => {
    const before = (await send('GET', `${SECRETS}/db`)).body;
    // kubectl sees no data on the live object, so its patch carries every value and the new annotation.
    const patch = (data: Record<string, unknown>, manifest: Record<string, string>) => ({
      metadata: { annotations: applied('db', manifest).metadata.annotations },
      data,
    });
    const same = await send(
      'PATCH',
      `${SECRETS}/db`,
      patch({ user: b64('app'), password: b64('s3cret') }, { user: b64('app'), password: b64('s3cret') }),
      { type: 'application/strategic-merge-patch+json' },
    );
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(same.body.metadata.resourceVersion).toBe(before.metadata.resourceVersion);

    const changed = await send(
      'PATCH',
      `${SECRETS}/db`,
      patch({ password: b64('n3w') }, { user: b64('app'), password: b64('n3w') }),
      { type: 'application/strategic-merge-patch+json' },
    );
    expect(changed.status).toBe(200);
    expect(changed.body.metadata.resourceVersion).not.toBe(before.metadata.resourceVersion);
    expect(await values('db')).toEqual({ user: 'app', password: 'n3w' });

    // The redacted annotation still names `user`, so kubectl's patch deletes it by name.
    const dropped = await send(
      'PATCH',
      `${SECRETS}/db`,
      patch({ password: b64('n3w'), user: null }, { password: b64('n3w') }),
      { type: 'application/strategic-merge-patch+json' },
    );
    expect(dropped.status).toBe(200);
    expect(await values('db')).toEqual({ password: 'n3w' });
    expect(dropped.body.metadata.annotations['berth.dev/keys']).toBe('password');
  });

  it('keeps the values it never showed through label, merge and JSON patches and a PUT of what was read', async () => {
    await send('POST', SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api' },
      stringData: { a: 'one', b: 'two' },
    });
    const labelled = await send(
      'PATCH',
      `${SECRETS}/api`,
      { metadata: { labels: { tier: 'db' } } },
      {
        type: 'application/strategic-merge-patch+json',
      },
    );
    expect(labelled.body.metadata.labels).toEqual({ tier: 'db' });
    expect(await values('api')).toEqual({ a: 'one', b: 'two' });

    await send(
      'PATCH',
      `${SECRETS}/api`,
      { data: { a: b64('uno') } },
      { type: 'application/merge-patch+json' },
    );
    expect(await values('api')).toEqual({ a: 'uno', b: 'two' });

    await send('PATCH', `${SECRETS}/api`, [{ op: 'remove', path: '/data/b' }], {
      type: 'application/json-patch+json',
    });
    expect(await values('api')).toEqual({ a: 'uno' });

    const read = (await send('GET', `${SECRETS}/api`)).body;
    read.metadata.annotations = { ...read.metadata.annotations, note: 'edited' };
    const replaced = await send('PUT', `${SECRETS}/api`, read);
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body.metadata.annotations).toMatchObject({ note: 'edited', 'berth.dev/keys': 'a' });
    expect(await values('api')).toEqual({ a: 'uno' });

    // Values named are the caller's: `data: {}` empties it.
    const emptied = await send('PUT', `${SECRETS}/api`, { ...replaced.body, data: {} });
    expect(emptied.status).toBe(200);
    expect(await values('api')).toEqual({});
  });

  it('server-side applies (creating, then merging), dry-runs without storing, and deletes', async () => {
    const yaml = (value: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls-ish\nstringData:\n  token: ${value}\n`;
    const first = await send('PATCH', `${SECRETS}/tls-ish?fieldManager=kubectl`, yaml('t1'), {
      type: 'application/apply-patch+yaml',
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await send('PATCH', `${SECRETS}/tls-ish?fieldManager=kubectl`, yaml('t2'), {
      type: 'application/apply-patch+yaml',
    });
    expect(second.status).toBe(200);
    expect(await values('tls-ish')).toEqual({ token: 't2' });

    // Server-side apply must name its manager, as in Kubernetes.
    const nameless = await send('PATCH', `${SECRETS}/tls-ish?dryRun=All`, yaml('t3'), {
      type: 'application/apply-patch+yaml',
    });
    expect(nameless.status).toBe(422);
    expect(nameless.body.details.causes[0].field).toBe('fieldManager');
    const dry = await send('PATCH', `${SECRETS}/tls-ish?dryRun=All&fieldManager=kubectl`, yaml('t3'), {
      type: 'application/apply-patch+yaml',
    });
    expect(dry.status).toBe(200);
    expect(dry.body.data).toBeUndefined();
    expect(await values('tls-ish')).toEqual({ token: 't2' });
    const dryCreate = await send('POST', `${SECRETS}?dryRun=All`, applied('never', { k: b64('v') }));
    expect(dryCreate.status).toBe(201);
    expect((await send('GET', `${SECRETS}/never`)).status).toBe(404);

    const gone = await send('DELETE', `${SECRETS}/tls-ish`);
    expect(gone.body).toMatchObject({ kind: 'Status', status: 'Success', details: { kind: 'secrets' } });
    expect((await t.call('GET', '/v1/namespaces/default/secrets/tls-ish')).status).toBe(404);
  });

  it('answers what /v1 refuses as Invalid, and roles as /v1: a viewer neither reads nor writes, a deployer only its namespaces', async () => {
    const bad = await send('POST', SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bad' },
      data: { k: 'not base64!' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('data.k');

    const read = await send('GET', `${SECRETS}/db`, undefined, { token: viewer });
    expect(read).toMatchObject({ status: 403, body: { reason: 'Forbidden' } });
    const write = await send('POST', SECRETS, applied('v', { k: b64('v') }), { token: viewer });
    expect(write.status).toBe(403);
    expect(write.body.message).toBe(
      'secrets is forbidden: User "v" cannot create resource "secrets" in API group "" in the namespace "default"',
    );
    const own = await send(
      'POST',
      '/api/v1/namespaces/team/secrets',
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ci' }, stringData: { k: 'v' } },
      { token: deployer },
    );
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(await values('ci', 'team')).toEqual({ k: 'v' });
    const other = await send('DELETE', `${SECRETS}/db`, undefined, { token: deployer });
    expect(other.status).toBe(403);
  });
});

describe('ServiceAccounts through the Kubernetes API face', () => {
  const ACCOUNTS = '/api/v1/namespaces/default/serviceaccounts';

  it('creates, labels, replaces and deletes one, as /v1 records it', async () => {
    const created = await send('POST', ACCOUNTS, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'builder' },
      automountServiceAccountToken: false,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ kind: 'ServiceAccount', automountServiceAccountToken: false });
    const labelled = await send(
      'PATCH',
      `${ACCOUNTS}/builder`,
      { metadata: { labels: { a: 'b' } } },
      {
        type: 'application/merge-patch+json',
      },
    );
    expect(labelled.body.metadata.labels).toEqual({ a: 'b' });
    expect((await t.call('GET', '/v1/namespaces/default/serviceaccounts/builder')).body).toMatchObject({
      metadata: { labels: { a: 'b' } },
      automountServiceAccountToken: false,
    });
    const refused = await send('PUT', `${ACCOUNTS}/builder`, {
      ...labelled.body,
      secrets: [{ name: 'token' }],
    });
    expect(refused.status).toBe(422);
    expect(refused.body.details.causes[0].field).toBe('secrets');
    expect((await send('DELETE', `${ACCOUNTS}/builder`)).body.status).toBe('Success');
    expect((await t.call('GET', '/v1/namespaces/default/serviceaccounts/builder')).status).toBe(404);
    const viewed = await send('POST', ACCOUNTS, { metadata: { name: 'x' } }, { token: viewer });
    expect(viewed.status).toBe(403);
  });

  it('lists secrets and serviceaccounts as written in discovery', async () => {
    const core = (await send('GET', '/api/v1')).body;
    for (const name of ['secrets', 'serviceaccounts'])
      expect(core.resources.find((r: { name: string }) => r.name === name).verbs).toEqual([
        'create',
        'delete',
        'get',
        'list',
        'patch',
        'update',
        'watch',
      ]);
  });
});
