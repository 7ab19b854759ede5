import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { RETRY_BASE_MS } from '../../workers/certificates/schedule.ts';
import { listCertificateRows, wantedHosts } from '../../workers/certificates/store.ts';
import { acmeIssuer, newKeyPem, type OrderError, retryAfterOf } from '../../workers/nodejs/acme-issuer.ts';
import { CertificateManager } from '../../workers/nodejs/certificate-manager.ts';
import { createNodeControlPlane, type NodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import { freshPostgres } from '../support/databases.ts';
import { ADMIN_TOKEN } from '../support/plane.ts';
import { eventually } from '../support/sim-agents.ts';

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));
const RETRY_AFTER_SECONDS = 3600;

/**
 * A CA that is rate limiting (RFC 8555 §6.6): a directory, nonces, and a 429 `rateLimited` with
 * Retry-After on every new account. It counts the requests, so a retry inside the order shows.
 */
async function rateLimitedCa(): Promise<{
  directory: string;
  newAccounts: () => number;
  close(): Promise<void>;
}> {
  let accounts = 0;
  let nonce = 0;
  const server: Server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const headers = { 'replay-nonce': `nonce-${++nonce}`, 'cache-control': 'no-store' };
    if (req.url === '/dir') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          newNonce: `${base}/new-nonce`,
          newAccount: `${base}/new-account`,
          newOrder: `${base}/new-order`,
        }),
      );
    } else if (req.url === '/new-nonce') {
      res.writeHead(200, headers).end();
    } else if (req.url === '/new-account') {
      accounts++;
      req.resume();
      res
        .writeHead(429, {
          ...headers,
          'content-type': 'application/problem+json',
          'retry-after': String(RETRY_AFTER_SECONDS),
        })
        .end(
          JSON.stringify({
            type: 'urn:ietf:params:acme:error:rateLimited',
            detail: 'too many new registrations from this address',
            status: 429,
          }),
        );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    directory: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`,
    newAccounts: () => accounts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The CA's Retry-After reaches the schedule: the order fails at once (not after sleeping through
 * the wait inside the request), its error carries when the CA allows the next, and the host's
 * next attempt is stored no sooner. With a DNS provider, wildcard hosts are among those wanted.
 */
describe('ACME Retry-After and wildcard hosts', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let plane: NodeControlPlane;
  let dir: string;
  let ca: Awaited<ReturnType<typeof rateLimitedCa>>;
  beforeAll(async () => {
    [db, ca] = await Promise.all([freshPostgres(), rateLimitedCa()]);
    dir = mkdtempSync(join(tmpdir(), 'berth-retry-after-'));
    plane = await createNodeControlPlane({
      env: { BERTH_DATA_DIR: dir, BERTH_ADMIN_TOKEN: ADMIN_TOKEN, DATABASE_URL: db.url },
      log: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await plane?.close();
    await ca?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails the order at once with the CA's Retry-After, and stores the next attempt no sooner", async () => {
    const issuer = acmeIssuer({
      directoryUrl: ca.directory,
      email: undefined,
      caFile: undefined,
      accountKey: newKeyPem,
    });
    const started = Date.now();
    const error = (await issuer
      .order('direct.example.test', { publish: async () => {}, withdraw: async () => {} })
      .catch((e: unknown) => e)) as OrderError;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('too many new registrations');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ca.newAccounts()).toBe(1);
    const retryAfter = retryAfterOf(error);
    expect(retryAfter).toBeDefined();
    expect(retryAfter!.getTime()).toBeGreaterThanOrEqual(started + RETRY_AFTER_SECONDS * 1000 - 1000);
    expect(retryAfter!.getTime()).toBeLessThanOrEqual(Date.now() + RETRY_AFTER_SECONDS * 1000);

    const manager = new CertificateManager({
      db: plane.deps.db,
      secretKey: KEY,
      issuer,
      log: createLogger('silent'),
      extraHosts: ['shop.example.test'],
      intervalMs: 200,
    });
    const before = Date.now();
    manager.start();
    try {
      const row = await eventually(
        async () =>
          (await listCertificateRows(plane.deps.db)).find(
            (r) => r.host === 'shop.example.test' && r.failures > 0,
          ),
        20_000,
        'the failed order stored',
      );
      expect(row.lastError).toContain('too many new registrations');
      // The backoff alone would say 15 s; the CA said an hour.
      expect(row.nextAttemptAt.getTime() - before).toBeGreaterThan(RETRY_BASE_MS * 10);
      expect(row.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before + RETRY_AFTER_SECONDS * 1000 - 1000);
      expect(row.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + RETRY_AFTER_SECONDS * 1000 + 1000);
    } finally {
      await manager.stop();
    }
  });

  it('wants wildcard hosts only when they can be ordered (over DNS-01)', async () => {
    const put = await plane.app.request('/v1/namespaces/default/services/apps', {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        spec: {
          selector: { app: 'apps' },
          ports: [{ port: 80, targetPort: 8080 }],
          hosts: ['*.apps.example.test', 'www.example.test'],
        },
      }),
    });
    expect(put.status).toBe(201);
    expect([...(await wantedHosts(plane.deps.db, [])).keys()].sort()).toEqual(['www.example.test']);
    expect([...(await wantedHosts(plane.deps.db, [], true)).keys()].sort()).toEqual([
      '*.apps.example.test',
      'www.example.test',
    ]);
  });
});
