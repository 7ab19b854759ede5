import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue, makeCa } from '../support/certificates.ts';
import { freshPostgres } from '../support/databases.ts';
import {
  freeLoopbackAddress,
  type HostAnswer,
  httpsToHost,
  mapHost,
  type OwnPebble,
  PEBBLE,
  pebbleRoot,
  startOwnPebble,
  unmapHost,
} from '../support/pebble.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually, sleep } from '../support/sim-agents.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { cleanupDir, tempDir } from './support/agent-harness.ts';

/**
 * Seconds a certificate of this file's own pebble is valid: renewed at two thirds, 30 s. The last
 * third (15 s) is the time an order has to finish before the one served expires: 6 s (with 18 s
 * certificates) was passed by an order on a loaded machine, and the loop then met an expired one.
 */
const VALIDITY = 45;

/**
 * Renewal under traffic, against a pebble of the file's own that issues 45-second certificates,
 * reached through a proxy the test cuts: the renewed certificate replaces the old one with no
 * failed handshake, and with the CA unreachable the one in use keeps being served while an event
 * and the metric say the renewal failed.
 */
describe('renewing ACME certificates', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let dir: string;
  let pebble: OwnPebble;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let server: ServerProcess;
  let root: string;
  const host = `renew-${Math.random().toString(36).slice(2, 8)}.certs.berth.test`;

  beforeAll(async () => {
    dir = await tempDir('berth-e2e-acme-renew');
    const ca = makeCa(dir);
    const api = issue(dir, ca, ['127.0.0.1']);
    [db, pebble] = await Promise.all([freshPostgres(), startOwnPebble(VALIDITY)]);
    proxy = await startTcpProxy(pebble.port);
    root = await pebbleRoot(pebble.management);
    const address = await freeLoopbackAddress();
    await mapHost(host, address);
    server = await startServerProcess({
      databaseUrl: db.url,
      tlsCa: ca.cert,
      env: {
        BERTH_TLS_CERT_FILE: api.certFile,
        BERTH_TLS_KEY_FILE: api.keyFile,
        BERTH_ACME_EMAIL: 'ops@berth.test',
        BERTH_ACME_DIRECTORY: `https://127.0.0.1:${proxy.port}/dir`,
        BERTH_ACME_CA_FILE: PEBBLE.apiCaFile,
        BERTH_HTTP_HOST: address,
        BERTH_HTTP_PORT: String(PEBBLE.httpPort),
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await pebble?.stop();
    await unmapHost(host);
    await db?.drop();
    await cleanupDir(dir);
  });

  it('renews with no failed request under a steady loop, and keeps serving it while the CA is unreachable', async () => {
    const applied = await server.call('PUT', '/v1/namespaces/default/services/renew', {
      spec: { selector: { app: 'renew' }, ports: [{ port: 80, targetPort: 8080 }], hosts: [host] },
    });
    expect(applied.status).toBe(201);
    const first = await eventually(() => httpsToHost(server.port, host, root), 90_000, `HTTPS for ${host}`);

    // A request after another, each on a new connection (a new handshake), until told to stop.
    const answers: HostAnswer[] = [];
    const failures: string[] = [];
    let looping = true;
    const loop = (async () => {
      while (looping) {
        await httpsToHost(server.port, host, root).then(
          (a) => answers.push(a),
          (e: Error) => failures.push(e.message),
        );
        await sleep(50);
      }
    })();
    try {
      const renewed = await eventually(
        async () => answers.find((a) => a.serial !== first.serial),
        VALIDITY * 1000 + 10_000,
        'the renewed certificate served',
      );
      expect(new Date(renewed.validTo).getTime()).toBeGreaterThan(new Date(first.validTo).getTime());
      const row = (await server.call('GET', '/v1/certificates')).body.items[0];
      expect(row).toMatchObject({ host, status: 'Ready', orders: 2, failures: 0 });

      // The CA goes away before the next renewal (two thirds into the renewed one's life).
      proxy.cut();
      const events = async () =>
        (
          await server.call(
            'GET',
            `/v1/namespaces/default/events?object=${encodeURIComponent(`certificate/${host}`)}`,
          )
        ).body.items as { reason: string; type: string; message: string }[];
      const failed = await eventually(
        async () => (await events()).find((e) => e.reason === 'CertificateFailed'),
        VALIDITY * 1000 + 10_000,
        'a CertificateFailed event',
      );
      expect(failed.type).toBe('Warning');
      expect(failed.message).toMatch(/is still served/);
      const before = answers.length;
      await eventually(async () => answers.length >= before + 5, 60_000, 'requests after the failure');
      expect(answers.at(-1)?.serial).toBe(renewed.serial);
      expect((await server.call('GET', '/v1/certificates')).body.items[0]).toMatchObject({
        host,
        status: 'RenewalFailing',
        failures: 1,
        lastError: expect.any(String),
      });
      const metrics = (await server.call('GET', '/metrics')).body;
      expect(String(metrics)).toMatch(/berth_certificate_orders_total\{result="failed"\} 1/);
      expect((await events()).map((e) => e.reason)).toEqual([
        'CertificateIssued',
        'CertificateRenewed',
        'CertificateFailed',
      ]);
    } finally {
      looping = false;
      await loop;
    }
    console.log(
      `${answers.length} requests on new connections through the renewal and the failed one; ${failures.length} failed`,
    );
    expect(failures).toEqual([]);
    expect(new Set(answers.map((a) => a.serial)).size).toBe(2);
  }, 300_000);
});
