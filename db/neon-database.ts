import { Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { Database, DatabaseHandle } from './database.ts';
import * as schema from './schema/index.ts';

/**
 * Postgres over the Neon serverless driver (WebSocket Pool: transactions work). Used on
 * Workers and Deno; imports nothing from node:.
 */
export function openNeonDatabase(url: string, options: { webSocketProxy?: string } = {}): DatabaseHandle {
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  void options;
  const db = drizzle(pool, { schema }) as unknown as Database;
  return {
    db,
    kind: 'neon',
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn(drizzle(client, { schema }) as unknown as Database);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
