import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from './database.ts';
import { MIGRATIONS_FOLDER } from './node-database.ts';

/** Arbitrary constant: the advisory lock that serialises migrations across control-plane copies. */
const MIGRATION_LOCK = 727_274_001;

/**
 * Apply the committed SQL migrations. Safe to run from many processes at once: they queue on
 * a session advisory lock, and drizzle skips what is already applied.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  const config = {
    migrationsFolder: MIGRATIONS_FOLDER,
    migrationsSchema: 'berth_migrations',
    migrationsTable: 'applied',
  };
  if (handle.kind === 'pglite') {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants its driver's own database type
    await migrate(handle.db as any, config);
    return;
  }
  await handle.withSession(async (db) => {
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      const { migrate } =
        handle.kind === 'pg'
          ? await import('drizzle-orm/node-postgres/migrator')
          : await import('drizzle-orm/neon-serverless/migrator');
      // biome-ignore lint/suspicious/noExplicitAny: see above
      await migrate(db as any, config);
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  });
}
