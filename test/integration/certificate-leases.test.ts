import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import {
  accountKey,
  claimDueCertificate,
  storeFailure,
  storeIssued,
  syncCertificateRows,
} from '../../workers/certificates/store.ts';
import { createNodeControlPlane, type NodeControlPlane } from '../../workers/nodejs/control-plane.ts';
import { freshPostgres } from '../support/databases.ts';
import { ADMIN_TOKEN } from '../support/plane.ts';

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

/**
 * What keeps several control-plane copies from ordering one host twice, on real PostgreSQL: the
 * lease is taken by one conditional UPDATE, so of many claims at once exactly one wins, and a
 * lease that lapsed (its copy died mid-order) is taken over. The account key is made once.
 */
describe('certificate leases on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let plane: NodeControlPlane;
  let dir: string;
  beforeAll(async () => {
    db = await freshPostgres();
    dir = mkdtempSync(join(tmpdir(), 'berth-leases-'));
    plane = await createNodeControlPlane({
      env: { BERTH_DATA_DIR: dir, BERTH_ADMIN_TOKEN: ADMIN_TOKEN, DATABASE_URL: db.url },
      log: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await plane?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a due host to exactly one of many claims at once, and again only once its lease lapses', async () => {
    const store = plane.deps.db;
    await syncCertificateRows(store, new Map([['shop.example.com', 'default']]));
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) => claimDueCertificate(store, `copy-${i}`)),
    );
    const won = claims.filter((c) => c !== undefined);
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ host: 'shop.example.com', orders: 1 });
    // Held: nobody else gets it, however often they ask.
    expect(await claimDueCertificate(store, 'late')).toBeUndefined();

    // The holder died: once its lease lapses, another copy takes the host over.
    await store.execute(sql`update certificates set lease_until = now() - interval '1 second'`);
    const takeover = await claimDueCertificate(store, 'copy-next');
    expect(takeover).toMatchObject({ host: 'shop.example.com', orders: 2, leaseHolder: 'copy-next' });
    // The dead copy's late answer changes nothing: its lease is gone.
    const notBefore = new Date();
    const pair = {
      certPem: 'x',
      keyPem: 'y',
      issuer: 'test',
      notBefore,
      notAfter: new Date(notBefore.getTime() + 90 * 86_400_000),
    };
    expect(await storeIssued(store, KEY, 'shop.example.com', won[0]!.leaseHolder!, pair, new Date())).toBe(
      false,
    );
    // A failure ends the lease and sets the retry: not due again before it.
    await storeFailure(store, 'shop.example.com', 'copy-next', 'CA down', new Date(Date.now() + 60_000));
    expect(await claimDueCertificate(store, 'again')).toBeUndefined();
  });

  it('makes the account key once, whoever asks first', async () => {
    const store = plane.deps.db;
    let made = 0;
    const make = async () => `key-${++made}`;
    const keys = await Promise.all(
      Array.from({ length: 6 }, () => accountKey(store, KEY, 'https://ca.example.com/dir', make)),
    );
    expect(new Set(keys).size).toBe(1);
    expect(await accountKey(store, KEY, 'https://ca.example.com/dir', make)).toBe(keys[0]);
  });
});
