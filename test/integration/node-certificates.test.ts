import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGRESS_HTTPS_LABEL } from '../../common/ingress.ts';
import {
  claimDueCertificate,
  putChallenge,
  storeIssued,
  syncCertificateRows,
} from '../../workers/certificates/store.ts';
import { issue, makeCa } from '../support/certificates.ts';
import { startTestPlane, type TestPlane } from '../support/plane.ts';

/**
 * What a node's HTTPS ingress is given: the pairs of the cluster's service and ingress hosts
 * (ACME's, or an Ingress's Secret, which wins), never the API's own; an ETag so an idle poll is a
 * 304; the HTTP-01 answers it relays; and only to a node's credential.
 */
describe('certificates for the nodes', () => {
  let t: TestPlane;
  let dir: string;
  let ca: ReturnType<typeof makeCa>;
  let nodeToken: string;
  const pem = (names: string[], name: string) => {
    const pair = issue(dir, ca, names, name);
    return { certPem: pair.cert, keyPem: readFileSync(pair.keyFile, 'utf8') };
  };
  const asNode = (path: string, headers: Record<string, string> = {}) =>
    t.plane.app.request(path, { headers: { authorization: `Bearer ${nodeToken}`, ...headers } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-node-certs-'));
    ca = makeCa(dir);
    t = await startTestPlane('postgres');
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tlsIngress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'blog' },
    spec: {
      rules: [
        {
          host: 'blog.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
            ],
          },
        },
      ],
      tls: [{ hosts: ['blog.example.com'], secretName: 'blog-tls' }],
    },
  };

  it("refuses an Ingress's tls until a node serves HTTPS, naming the field", async () => {
    const res = await t.call('PUT', '/v1/namespaces/shop/ingresses/blog', tlsIngress);
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ path: 'spec.tls' });
    expect(res.body.errors[0].message).toContain('--ingress-tls-listen');
  });

  it('gives a node the pairs of service and ingress hosts, a Secret over ACME, never the API host', async () => {
    const join = await t.call('POST', '/v1/join-tokens', {});
    const registered = await t.call(
      'POST',
      '/v1/agent/register',
      {
        joinToken: join.body.token,
        name: 'edge-1',
        capacity: { cpu: 1, memoryBytes: 2 ** 30 },
        address: '10.1.1.1',
        labels: { [INGRESS_HTTPS_LABEL]: 'true' },
      },
      null,
    );
    expect(registered.status).toBe(200);
    nodeToken = registered.body.nodeToken;

    const service = (hosts: string[]) => ({
      apiVersion: 'berth.dev/v1',
      kind: 'Service',
      metadata: {},
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }], hosts },
    });
    expect(
      (await t.call('PUT', '/v1/namespaces/shop/services/web', service(['shop.example.com']))).status,
    ).toBe(201);
    // ACME pairs for the service's host, for the ingress's host (which its Secret overrides), and
    // for the API's own host, which stays with the control plane.
    const db = t.plane.deps.db;
    const key = t.plane.deps.config.secretKey!;
    await syncCertificateRows(
      db,
      new Map([
        ['shop.example.com', 'shop'],
        ['blog.example.com', 'shop'],
        ['berth.example.com', 'default'],
      ]),
    );
    for (;;) {
      const row = await claimDueCertificate(db, 'test');
      if (!row) break;
      const now = new Date();
      await storeIssued(
        db,
        key,
        row.host,
        'test',
        {
          ...pem([row.host], `acme-${row.host}`),
          issuer: 'Test CA',
          notBefore: now,
          notAfter: new Date(now.getTime() + 86_400_000),
        },
        new Date(now.getTime() + 3_600_000),
      );
    }

    const blogPair = pem(['blog.example.com'], 'blog');
    const secret = await t.call('PUT', '/v1/namespaces/shop/secrets/blog-tls', {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': blogPair.certPem, 'tls.key': blogPair.keyPem },
    });
    expect(secret.status, JSON.stringify(secret.body)).toBeLessThan(300);
    expect((await t.call('PUT', '/v1/namespaces/shop/ingresses/blog', tlsIngress)).status).toBe(201);

    const res = await asNode('/v1/agent/certificates');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { certificates: { host: string; certPem: string; keyPem: string }[] };
    const byHost = new Map(body.certificates.map((c) => [c.host, c]));
    expect([...byHost.keys()].sort()).toEqual(['blog.example.com', 'shop.example.com']);
    expect(byHost.get('blog.example.com')!.certPem).toBe(blogPair.certPem);
    expect(byHost.get('shop.example.com')!.keyPem).toContain('PRIVATE KEY');

    // Unchanged: a 304 with the same ETag. A Secret's update moves it.
    const etag = res.headers.get('etag')!;
    expect((await asNode('/v1/agent/certificates', { 'if-none-match': etag })).status).toBe(304);
    const renewed = pem(['blog.example.com'], 'blog-2');
    await t.call('PUT', '/v1/namespaces/shop/secrets/blog-tls', {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': renewed.certPem, 'tls.key': renewed.keyPem },
    });
    const moved = await asNode('/v1/agent/certificates', { 'if-none-match': etag });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('etag')).not.toBe(etag);
  });

  it("serves a Service's tlsSecretName for its hosts, a wildcard included, and refuses it without hosts", async () => {
    const wildcard = pem(['*.apps.example.com'], 'apps');
    expect(
      (
        await t.call('PUT', '/v1/namespaces/shop/secrets/apps-tls', {
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': wildcard.certPem, 'tls.key': wildcard.keyPem },
        })
      ).status,
    ).toBeLessThan(300);
    const service = (spec: Record<string, unknown>) => ({
      apiVersion: 'berth.dev/v1',
      kind: 'Service',
      metadata: {},
      spec: { selector: { app: 'apps' }, ports: [{ name: 'http', port: 80 }], ...spec },
    });
    const bare = await t.call(
      'PUT',
      '/v1/namespaces/shop/services/apps',
      service({ tlsSecretName: 'apps-tls' }),
    );
    expect(bare.status).toBe(422);
    expect(bare.body.errors[0]).toMatchObject({ path: 'spec.tlsSecretName' });
    expect(
      (
        await t.call(
          'PUT',
          '/v1/namespaces/shop/services/apps',
          service({ hosts: ['*.apps.example.com'], tlsSecretName: 'apps-tls' }),
        )
      ).status,
    ).toBe(201);
    const body = (await (await asNode('/v1/agent/certificates')).json()) as {
      certificates: { host: string; certPem: string }[];
    };
    expect(body.certificates.find((c) => c.host === '*.apps.example.com')?.certPem).toBe(wildcard.certPem);
  });

  it('relays HTTP-01 answers to nodes, and keeps both routes from user tokens', async () => {
    await putChallenge(t.plane.deps.db, 'tok-abc', 'shop.example.com', 'tok-abc.thumb');
    const answer = await asNode('/v1/agent/acme-challenges/tok-abc');
    expect([answer.status, await answer.json()]).toEqual([200, { keyAuthorization: 'tok-abc.thumb' }]);
    expect((await asNode('/v1/agent/acme-challenges/nope')).status).toBe(404);
    expect((await t.call('GET', '/v1/agent/certificates')).status).toBe(403);
    expect((await t.call('GET', '/v1/agent/acme-challenges/tok-abc')).status).toBe(403);
    expect((await t.call('GET', '/v1/agent/certificates', undefined, null)).status).toBe(401);
  });
});
