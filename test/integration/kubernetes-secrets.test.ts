import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { ADMIN_TOKEN, DATABASE_KINDS, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * v1 Secrets as Kubernetes writes them, through /v1/apply: the fixtures are what `kubectl create
 * secret generic|docker-registry|tls --dry-run=client -o yaml` prints (test/fixtures/manifests/
 * kubectl-create.sh), applied unchanged.
 */
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/manifests/${name}`, import.meta.url), 'utf8');

describe.each(DATABASE_KINDS)('Kubernetes v1 Secrets on %s', (kind) => {
  let t: TestPlane;
  let fleet: SimFleet;
  beforeAll(async () => {
    t = await startTestPlane(kind);
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 1,
      fetch: t.fetch,
      prefix: 'ks',
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });
  const apply = async (body: string, query = '?namespace=ks') => {
    const res = await t.plane.app.request(`/v1/apply${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
      body,
    });
    return { status: res.status, body: await res.json() };
  };
  const secret = async (name: string) => (await t.call('GET', `/v1/namespaces/ks/secrets/${name}`)).body;
  /** The values an agent receives, through a replica whose env names every key of `name`. */
  const valuesOf = async (name: string, keys: string[]) => {
    const env = keys.map((key, i) => ({ name: `V${i}`, valueFrom: { secretKeyRef: { name, key } } }));
    const applied = await apply(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `use-${name}` },
        spec: {
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'c', image: 'x:1', env }] },
          },
        },
      }),
    );
    expect(applied.status).toBe(200);
    const a = await eventually(async () =>
      fleet.agents[0]!.assignments.find((x) => x.deployment === `use-${name}`),
    );
    return Object.fromEntries(a.containers[0]!.env.map((e, i) => [keys[i], e.value]));
  };

  it('applies what kubectl create secret generic prints: data decoded, values write-only, re-apply unchanged', async () => {
    const text = fixture('kubectl-create-secret-generic.yaml');
    const first = await apply(text);
    expect([first.status, first.body.items]).toEqual([
      200,
      [{ kind: 'Secret', namespace: 'ks', name: 'app-secrets', action: 'created' }],
    ]);
    const read = await secret('app-secrets');
    expect([read.type, read.keys, read.data]).toEqual(['opaque', ['DB_PASSWORD', 'DB_USER'], undefined]);
    expect((await apply(text)).body.items[0].action).toBe('unchanged');
    expect(await valuesOf('app-secrets', ['DB_PASSWORD', 'DB_USER'])).toEqual({
      DB_PASSWORD: 's3cr=t',
      DB_USER: 'app',
    });
  });

  it('lets stringData win over data for a key, and takes type Opaque', async () => {
    const res = await apply(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: mixed}\ntype: Opaque\ndata: {A: YQ==, B: Yg==}\nstringData: {B: plain, C: "c c"}\n',
    );
    expect(res.status).toBe(200);
    expect((await secret('mixed')).keys).toEqual(['A', 'B', 'C']);
    expect(await valuesOf('mixed', ['A', 'B', 'C'])).toEqual({ A: 'a', B: 'plain', C: 'c c' });
  });

  it('refuses data that is not base64 naming its key, and types and fields Berth does not honour', async () => {
    const bad = await apply(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\ndata: {ok: YQ==, "db.pass": "not base64!", raw: "/w=="}\n',
    );
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['data["db.pass"]', 'data.raw']);
    expect(bad.body.errors[0].message).toMatch(/must be base64/);
    expect(bad.body.errors[1].message).toMatch(/UTF-8/);
    const type = await apply(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\ntype: kubernetes.io/ssh-auth\n',
    );
    expect([type.status, type.body.errors[0].path]).toEqual([422, 'type']);
    const immutable = await apply('apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\nimmutable: true\n');
    expect([immutable.status, immutable.body.errors[0].path]).toEqual([422, 'immutable']);
    expect((await t.call('GET', '/v1/namespaces/ks/secrets/bad')).status).toBe(404);
  });

  it('applies kubectl create secret tls, and requires tls.crt and tls.key', async () => {
    expect((await apply(fixture('kubectl-create-secret-tls.yaml'))).status).toBe(200);
    const read = await secret('web-tls');
    expect([read.type, read.keys]).toEqual(['kubernetes.io/tls', ['tls.crt', 'tls.key']]);
    const values = await valuesOf('web-tls', ['tls.crt']);
    expect(values['tls.crt']).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    const half = await apply(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: half}\ntype: kubernetes.io/tls\nstringData: {tls.crt: x}\n',
    );
    expect(half.status).toBe(422);
    expect(half.body.errors).toMatchObject([
      { path: 'data["tls.key"]', message: 'is required for a kubernetes.io/tls secret', document: 0 },
    ]);
  });

  it('pulls with the credentials of kubectl create secret docker-registry named in imagePullSecrets', async () => {
    expect((await apply(fixture('kubectl-create-secret-docker-registry.yaml'))).status).toBe(200);
    expect((await secret('regcred')).type).toBe('kubernetes.io/dockerconfigjson');
    const applied = await apply(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: pulls}\nspec:\n  selector: {matchLabels: {app: pulls}}\n  template:\n    metadata: {labels: {app: pulls}}\n    spec:\n      automountServiceAccountToken: false\n      imagePullSecrets: [{name: regcred}]\n      containers: [{name: c, image: "127.0.0.1:5000/private/app:1"}]\n',
    );
    expect([applied.status, applied.body.warnings]).toEqual([200, undefined]);
    const a: Assignment = await eventually(async () =>
      fleet.agents[0]!.assignments.find((x) => x.deployment === 'pulls'),
    );
    expect([a.configError, a.imagePullAuth]).toEqual([
      undefined,
      [{ server: '127.0.0.1:5000', username: 'puller', password: 'pull-pass' }],
    ]);
    const broken = await apply(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: broken}\ntype: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: "{\\"auths\\": {\\"r\\": {\\"username\\": \\"u\\"}}}"}\n',
    );
    expect([broken.status, broken.body.errors[0].path]).toEqual([422, 'data[".dockerconfigjson"]']);
    expect(broken.body.errors[0].message).toMatch(/needs a username and a password/);
  });
});
