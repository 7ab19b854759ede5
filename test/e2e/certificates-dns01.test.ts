import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedPair, issue, makeCa } from '../support/certificates.ts';
import { type CloudflareStub, startCloudflareStub } from '../support/cloudflare-stub.ts';
import { freshPostgres } from '../support/databases.ts';
import { httpsToHost, PEBBLE, pebbleRoot } from '../support/pebble.ts';
import { freePort, type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import { cleanupDir, tempDir } from './support/agent-harness.ts';

const TOKEN = 'cf-token-for-dns01-tests';

/** The names a served certificate holds, by a handshake for `servername` verified against `ca`. */
function subjectAltNames(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', servername, ca }, () => {
      resolve(String(s.getPeerCertificate().subjectaltname));
      s.end();
    });
    s.setTimeout(5000, () => s.destroy(new Error('timed out')));
    s.on('error', reject);
  });
}

/**
 * Wildcard certificates over DNS-01: pebble validates the TXT record that the control plane adds
 * through a Cloudflare-shaped API (a stub that sets it in pebble-challtestsrv, the DNS pebble
 * asks), the certificate is served by SNI for names one label below the wildcard, the record is
 * removed after, exact hosts use it too when told to, and a token Cloudflare refuses fails the
 * order with Cloudflare's own words.
 */
describe('ACME DNS-01 and wildcard hosts through a DNS provider', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let dir: string;
  let ca: IssuedPair;
  let root: string;
  let stub: CloudflareStub;
  let server: ServerProcess;
  const servers: ServerProcess[] = [];
  const databases: Awaited<ReturnType<typeof freshPostgres>>[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  const zone = `dns-${run}.berth.test`;

  const serviceWithHost = async (name: string, host: string) => {
    const res = await server.call('PUT', `/v1/namespaces/default/services/${name}`, {
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], hosts: [host] },
    });
    expect(res.status).toBe(201);
  };
  const certificateOf = async (host: string) =>
    ((await server.call('GET', '/v1/certificates')).body.items as { host: string }[]).find(
      (c) => c.host === host,
    ) as Record<string, unknown> | undefined;
  const eventsOf = async (host: string) =>
    (
      await server.call(
        'GET',
        `/v1/namespaces/default/events?object=${encodeURIComponent(`certificate/${host}`)}`,
      )
    ).body.items as { reason: string; message: string }[];

  beforeAll(async () => {
    dir = await tempDir('berth-e2e-dns01');
    ca = makeCa(dir);
    [db, root, stub] = await Promise.all([
      freshPostgres(),
      pebbleRoot(),
      startCloudflareStub({ token: TOKEN, zones: [zone], challtestsrv: PEBBLE.dnsManagement }),
    ]);
    const api = issue(dir, ca, ['127.0.0.1'], 'api');
    server = await startServerProcess({
      databaseUrl: db.url,
      tlsCa: ca.cert,
      env: {
        BERTH_TLS_CERT_FILE: api.certFile,
        BERTH_TLS_KEY_FILE: api.keyFile,
        BERTH_ACME_EMAIL: 'ops@berth.test',
        BERTH_ACME_DIRECTORY: PEBBLE.directory,
        BERTH_ACME_CA_FILE: PEBBLE.apiCaFile,
        // Nothing here is validated over HTTP-01: the plain listener only needs a port of its own.
        BERTH_HTTP_HOST: '127.0.0.1',
        BERTH_HTTP_PORT: String(await freePort()),
        BERTH_DNS_PROVIDER: 'cloudflare',
        BERTH_CLOUDFLARE_API_TOKEN: TOKEN,
        BERTH_CLOUDFLARE_API_URL: stub.url,
        BERTH_DNS_PROPAGATION_SECONDS: '0',
      },
    });
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const d of databases) await d.drop();
    await server?.close();
    await stub?.close();
    await db?.drop();
    await cleanupDir(dir);
  });

  it('orders a wildcard host over DNS-01, serves it by SNI one label below, and removes the record', async () => {
    const wildcard = `*.apps.${zone}`;
    const applied = performance.now();
    await serviceWithHost('apps', wildcard);
    const served = await eventually(
      () => httpsToHost(server.port, `x.apps.${zone}`, root),
      120_000,
      `HTTPS for x.apps.${zone} verified against pebble's root`,
    );
    console.log(
      `wildcard certificate for ${wildcard} served ${((performance.now() - applied) / 1000).toFixed(2)} s after the Service was applied`,
    );
    expect(served.issuer).toMatch(/^Pebble Intermediate CA/);
    // The service has no replica: the ingress answers for it, over the verified connection.
    expect(served.status).toBe(503);
    expect(await subjectAltNames(server.port, `x.apps.${zone}`, root)).toBe(`DNS:${wildcard}`);
    // Another name under it gets the same certificate; two labels below, the API's pair instead.
    expect((await httpsToHost(server.port, `other.apps.${zone}`, root)).fingerprint).toBe(served.fingerprint);
    await expect(httpsToHost(server.port, `a.b.apps.${zone}`, root)).rejects.toThrow();
    expect(await certificateOf(wildcard)).toMatchObject({
      status: 'Ready',
      source: 'acme',
      orders: 1,
      failures: 0,
      lastError: null,
    });

    // The TXT record went in under the zone the walk found, and is gone again.
    const added = stub.calls.filter((c) => c.method === 'POST' && c.status === 200);
    expect(added).toHaveLength(1);
    await eventually(
      async () => stub.records.size === 0 || undefined,
      30_000,
      'the TXT record removed after the order',
    );
    const removed = stub.calls.filter((c) => c.method === 'DELETE' && c.status === 200);
    expect(removed).toHaveLength(1);
    expect(removed[0]!.path.startsWith(`${added[0]!.path}/`)).toBe(true);
    expect((await eventsOf(wildcard)).map((e) => e.reason)).toEqual(['CertificateIssued']);
  });

  it('validates an exact host over DNS-01 too with BERTH_ACME_CHALLENGE=dns-01', async () => {
    // A copy of its own (its own database): nothing answers HTTP-01 for the host, so only the
    // TXT record can get it a certificate.
    const ownDb = await freshPostgres();
    databases.push(ownDb);
    const api = issue(dir, ca, ['127.0.0.1'], 'api-dns01');
    const copy = await startServerProcess({
      databaseUrl: ownDb.url,
      tlsCa: ca.cert,
      env: {
        BERTH_TLS_CERT_FILE: api.certFile,
        BERTH_TLS_KEY_FILE: api.keyFile,
        BERTH_ACME_EMAIL: 'ops@berth.test',
        BERTH_ACME_DIRECTORY: PEBBLE.directory,
        BERTH_ACME_CA_FILE: PEBBLE.apiCaFile,
        BERTH_HTTP_HOST: '127.0.0.1',
        BERTH_HTTP_PORT: String(await freePort()),
        BERTH_ACME_CHALLENGE: 'dns-01',
        BERTH_DNS_PROVIDER: 'cloudflare',
        BERTH_CLOUDFLARE_API_TOKEN: TOKEN,
        BERTH_CLOUDFLARE_API_URL: stub.url,
        BERTH_DNS_PROPAGATION_SECONDS: '0',
      },
    });
    servers.push(copy);
    const host = `exact.${zone}`;
    const calls = stub.calls.length;
    const res = await copy.call('PUT', '/v1/namespaces/default/services/exact', {
      spec: { selector: { app: 'exact' }, ports: [{ port: 80, targetPort: 8080 }], hosts: [host] },
    });
    expect(res.status).toBe(201);
    const served = await eventually(
      () => httpsToHost(copy.port, host, root),
      120_000,
      `HTTPS for ${host} verified against pebble's root`,
    );
    expect(served.issuer).toMatch(/^Pebble Intermediate CA/);
    expect(await subjectAltNames(copy.port, host, root)).toBe(`DNS:${host}`);
    const ours = stub.calls.slice(calls);
    expect(ours.filter((c) => c.method === 'POST' && c.status === 200)).toHaveLength(1);
    await eventually(async () => stub.records.size === 0 || undefined, 30_000, 'the TXT record removed');
  });

  it("fails the order with Cloudflare's error when the token is refused", async () => {
    // The token was revoked at Cloudflare: every call is now refused with 9109.
    stub.token = 'a-token-cloudflare-has-never-seen';
    const wildcard = `*.revoked.${zone}`;
    await serviceWithHost('revoked', wildcard);
    const failed = await eventually(
      async () => (await eventsOf(wildcard)).find((e) => e.reason === 'CertificateFailed'),
      90_000,
      `a CertificateFailed event for ${wildcard}`,
    );
    expect(failed.message).toContain('Cloudflare: Invalid access token (code 9109)');
    expect(await certificateOf(wildcard)).toMatchObject({
      status: 'Failed',
      failures: 1,
      lastError: expect.stringContaining('Cloudflare: Invalid access token (code 9109)'),
    });
    expect(stub.records.size).toBe(0);
  });
});
