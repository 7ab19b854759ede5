import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, DatabaseHandle } from './database.ts';
import { pooledSession, releaseSafeTransactions } from './pooled-transactions.ts';
import * as schema from './schema/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** Beside this file in a checkout; `../db/migrations` from the bundled server in dist/. */
export const MIGRATIONS_FOLDER =
  [join(here, 'migrations'), join(here, '../db/migrations')].find((d) =>
    existsSync(join(d, 'meta/_journal.json')),
  ) ?? join(here, 'migrations');

export interface OpenDatabaseOptions {
  /** postgres:// (node-postgres) or a Neon URL; unset: embedded PGlite in `dataDir`. */
  url?: string | undefined;
  dataDir: string;
  /** Pool size for node-postgres. */
  maxConnections?: number;
}

/**
 * The driver factory for Node. Edge runtimes never import this file: they build their handle
 * from the Neon driver (db/neon-database.ts) directly.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const url = options.url?.trim();
  if (!url) return openPglite(options.dataDir);
  if (/^postgres(ql)?:\/\//.test(url)) {
    if (/\.neon\.tech\b/.test(url) || /[?&]driver=neon\b/.test(url)) {
      const { openNeonDatabase } = await import('./neon-database.ts');
      return openNeonDatabase(url.replace(/[?&]driver=neon\b/, ''));
    }
    return openPg(url, options.maxConnections ?? 10);
  }
  throw new Error(`DATABASE_URL must be a postgres:// or postgresql:// URL (got "${url.split(':')[0]}:...")`);
}

async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const dir = resolve(dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzle(client, { schema }) as unknown as Database;
  return {
    db,
    kind: 'pglite',
    async listen(channel, onPayload) {
      const unsubscribe = await client.listen(channel, onPayload);
      return async () => unsubscribe();
    },
    withSession: (fn) => fn(db),
    close: () => client.close(),
  };
}

async function openPg(url: string, max: number): Promise<DatabaseHandle> {
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  // Fail fast when the server is down so requests answer 503 instead of hanging.
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
  // A client losing its server must not crash the process: idle ones are replaced by the pool,
  // busy ones fail their query (and are discarded on release).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema }) as unknown as Database;
  releaseSafeTransactions(
    db,
    () => pool.connect(),
    (client) => drizzle(client, { schema }) as unknown as Database,
  );
  return {
    db,
    kind: 'pg',
    listen: (channel, onPayload) => listenWithReconnect(pg, url, channel, onPayload),
    withSession: pooledSession(
      () => pool.connect(),
      (client) => drizzle(client, { schema }) as unknown as Database,
    ),
    close: () => pool.end(),
  };
}

/**
 * A dedicated LISTEN connection that comes back by itself after a database outage, so copies
 * of the control plane keep waking each other once Postgres returns.
 */
async function listenWithReconnect(
  pg: typeof import('pg').default,
  url: string,
  channel: string,
  onPayload: (payload: string) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: import('pg').Client | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    c.on('error', () => scheduleReconnect(c));
    c.on('end', () => scheduleReconnect(c));
    c.on('notification', (msg) => {
      if (msg.channel === channel) onPayload(msg.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel.replace(/"/g, '')}"`);
      client = c;
    } catch {
      scheduleReconnect(c);
    }
  };
  const scheduleReconnect = (c: import('pg').Client) => {
    if (stopped || retry || (client && client !== c)) return;
    client = undefined;
    c.removeAllListeners();
    c.on('error', () => {});
    c.end().catch(() => {});
    retry = setTimeout(() => {
      retry = undefined;
      // A reconnect means notifications may have been missed: wake everyone once.
      onPayload('*');
      void connect();
    }, 1000);
    retry.unref?.();
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
