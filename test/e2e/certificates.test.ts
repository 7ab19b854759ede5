import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedPair, issue, makeCa } from '../support/certificates.ts';
import { freshPostgres } from '../support/databases.ts';
import {
  freeLoopbackAddress,
  httpsToHost,
  mapHost,
  PEBBLE,
  pebbleRoot,
  unmapHost,
} from '../support/pebble.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import { cleanupDir, tempDir } from './support/agent-harness.ts';

/**
 * Certificates for service hosts from an ACME CA (pebble, validating over HTTP-01 for real,
 * resolving the test's host names to the test's own loopback address): ordered when the host is
 * applied, served by SNI beside the API's own pair, ordered once by two copies of the control
 * plane on one database, and plain HTTP redirected once a host has one.
 */
describe('ACME certificates for service hosts', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let dir: string;
  let ca: IssuedPair;
  let root: string;
  const servers: ServerProcess[] = [];
  /** The address each copy answers HTTP-01 on. */
  const addresses: string[] = [];
  const hosts: string[] = [];
  const run = Math.random().toString(36).slice(2, 8);

  const startCopy = async (httpAddress: string) => {
    const pair = issue(dir, ca, ['127.0.0.1'], `api-${servers.length}`);
    const server = await startServerProcess({
      databaseUrl: db.url,
      tlsCa: ca.cert,
      env: {
        BERTH_TLS_CERT_FILE: pair.certFile,
        BERTH_TLS_KEY_FILE: pair.keyFile,
        BERTH_ACME_EMAIL: 'ops@berth.test',
        BERTH_ACME_DIRECTORY: PEBBLE.directory,
        BERTH_ACME_CA_FILE: PEBBLE.apiCaFile,
        BERTH_HTTP_HOST: httpAddress,
        BERTH_HTTP_PORT: String(PEBBLE.httpPort),
        BERTH_HSTS_SECONDS: '600',
      },
    });
    servers.push(server);
    addresses.push(httpAddress);
    return server;
  };
  const serviceWithHost = async (server: ServerProcess, name: string, host: string) => {
    const res = await server.call('PUT', `/v1/namespaces/default/services/${name}`, {
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], hosts: [host] },
    });
    expect(res.status).toBe(201);
  };
  const certificateOf = async (server: ServerProcess, host: string) =>
    ((await server.call('GET', '/v1/certificates')).body.items as { host: string }[]).find(
      (c) => c.host === host,
    ) as Record<string, unknown> | undefined;

  beforeAll(async () => {
    dir = await tempDir('berth-e2e-acme');
    ca = makeCa(dir);
    [db, root] = await Promise.all([freshPostgres(), pebbleRoot()]);
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const h of hosts) await unmapHost(h);
    await db?.drop();
    await cleanupDir(dir);
  });

  it('orders a Service host a certificate when applied, serves it by SNI, and redirects plain HTTP', async () => {
    const address = await freeLoopbackAddress();
    const server = await startCopy(address);
    const host = `web-${run}.certs.berth.test`;
    hosts.push(host);
    await mapHost(host, address);

    const applied = performance.now();
    await serviceWithHost(server, 'web', host);
    const served = await eventually(
      () => httpsToHost(server.port, host, root),
      90_000,
      `HTTPS for ${host} verified against pebble's root`,
    );
    const seconds = (performance.now() - applied) / 1000;
    console.log(`certificate for ${host} served ${seconds.toFixed(2)} s after the Service was applied`);
    expect(served.issuer).toMatch(/^Pebble Intermediate CA/);
    // The service has no replica: the ingress answers for it, over the verified connection.
    expect(served.status).toBe(503);
    expect(served.hsts).toBe('max-age=600');
    expect(await certificateOf(server, host)).toMatchObject({
      status: 'Ready',
      source: 'acme',
      namespace: 'default',
      orders: 1,
      failures: 0,
      lastError: null,
    });

    // The API keeps its own pair for its names and for clients that send no name.
    const apiIssuer = await new Promise<string>((resolve, reject) => {
      const s = connect({ port: server.port, host: '127.0.0.1', ca: ca.cert }, () => {
        resolve(String(s.getPeerCertificate().issuer.CN));
        s.end();
      });
      s.on('error', reject);
    });
    expect(apiIssuer).toBe('Berth test CA ca');

    // Plain HTTP: 308 to the same path and query over HTTPS; the challenge path is never redirected.
    const plain = (path: string) =>
      new Promise<{ status: number; location?: string }>((resolve, reject) => {
        const req = httpRequest({ host: address, port: PEBBLE.httpPort, path, headers: { host } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        });
        req.on('error', reject);
        req.end();
      });
    expect(await plain('/shop/cart?item=42&size=m')).toEqual({
      status: 308,
      location: `https://${host}:${server.port}/shop/cart?item=42&size=m`,
    });
    expect((await plain('/.well-known/acme-challenge/no-such-token')).status).toBe(404);
  });

  it("serves an Ingress's kubernetes.io/tls Secret for its host instead of the ACME certificate", async () => {
    const server = servers[0]!;
    const host = `tls-${run}.certs.berth.test`;
    hosts.push(host);
    await mapHost(host, addresses[0]!);
    const rules = [
      {
        host,
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
          ],
        },
      },
    ];
    const put = (spec: Record<string, unknown>) =>
      server.call('PUT', '/v1/namespaces/default/ingresses/own-tls', { spec });
    expect((await put({ rules })).status).toBe(201);
    const ordered = await eventually(
      () => httpsToHost(server.port, host, root),
      90_000,
      `the ACME certificate for ${host}`,
    );
    const own = issue(dir, ca, [host], 'ingress-tls');
    const secret = await server.call('PUT', '/v1/namespaces/default/secrets/own-tls', {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': own.cert, 'tls.key': readFileSync(own.keyFile, 'utf8') },
    });
    expect(secret.status).toBe(201);
    expect((await put({ rules, tls: [{ hosts: [host], secretName: 'own-tls' }] })).status).toBe(200);
    const served = await eventually(
      () => httpsToHost(server.port, host, ca.cert).catch(() => undefined),
      10_000,
      `the Secret's certificate for ${host}`,
    );
    expect(served.issuer).toBe('Berth test CA ca');
    expect(served.fingerprint).not.toBe(ordered.fingerprint);
    // No order for it: the host is not among the ACME certificates.
    await eventually(async () => !(await certificateOf(server, host)), 5_000, 'no ACME certificate');
  });

  it('two copies on one database serve the same certificate, ordered once', async () => {
    const [addressA, addressB] = [await freeLoopbackAddress(), await freeLoopbackAddress()];
    expect(addressA).not.toBe(addressB);
    // A second copy beside the first test's, each answering HTTP-01 on an address of its own.
    const a = servers[0] ?? (await startCopy(addressA));
    const b = await startCopy(addressB);
    const host = `shop-${run}.certs.berth.test`;
    hosts.push(host);
    // The CA validates against copy b, whichever copy placed the order: the answer is in Postgres.
    await mapHost(host, addressB);
    await serviceWithHost(a, 'shop', host);

    const [fromA, fromB] = await eventually(
      async () => {
        const both = await Promise.all([httpsToHost(a.port, host, root), httpsToHost(b.port, host, root)]);
        return both;
      },
      90_000,
      `both copies serving ${host}`,
    );
    expect(fromA.fingerprint).toBe(fromB.fingerprint);
    expect(await certificateOf(b, host)).toMatchObject({ status: 'Ready', orders: 1 });
    const events = (
      await a.call('GET', `/v1/namespaces/default/events?object=${encodeURIComponent(`certificate/${host}`)}`)
    ).body.items as { reason: string }[];
    expect(events.map((e) => e.reason)).toEqual(['CertificateIssued']);
  });
});
