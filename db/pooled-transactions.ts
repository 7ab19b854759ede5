import type { Database } from './database.ts';

interface PooledClient {
  release(error?: Error | boolean): void;
}

/**
 * drizzle's pooled `transaction()` (node-postgres and Neon alike) never releases a client whose
 * BEGIN fails, e.g. a connection that died while idle: during a database outage that leaks the
 * pool dry and the server never recovers. Run every transaction on a client checked out and
 * released here instead, discarding the client when the transaction failed.
 */
export function releaseSafeTransactions<C extends PooledClient>(
  db: Database,
  connect: () => Promise<C>,
  onClient: (client: C) => Database,
): void {
  const transaction: Database['transaction'] = async (fn, config) => {
    const client = await connect();
    let failed: Error | undefined;
    try {
      return await onClient(client).transaction(fn, config);
    } catch (e) {
      failed = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      client.release(failed);
    }
  };
  (db as { transaction: Database['transaction'] }).transaction = transaction;
}

/** Run `fn` on one client of the pool (session-level locks need one connection), then release it. */
export function pooledSession<C extends PooledClient>(
  connect: () => Promise<C>,
  onClient: (client: C) => Database,
): <T>(fn: (db: Database) => Promise<T>) => Promise<T> {
  return async (fn) => {
    const client = await connect();
    try {
      return await fn(onClient(client));
    } finally {
      client.release();
    }
  };
}
