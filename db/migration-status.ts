import { sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import journal from './migrations/meta/_journal.json' with { type: 'json' };
import { rowsOf } from './rows.ts';
import { pgErrorCode } from './unavailable.ts';

/**
 * Whether the database has the schema this code was built for. Node migrates at start-up;
 * Workers and Deno do not (their bundles carry no migration files and no advisory-lock
 * session), so a database nobody migrated, or one a release behind, would fail every query.
 * The journal is bundled with the code (a JSON import the bundler inlines), so every runtime
 * knows which migrations it ships without reading files.
 */

/** What tells the operator how to fix it; the same words wherever it is said. */
export const MIGRATE_HINT = 'apply it with `npm run db:migrate` (DATABASE_URL set to this database)';

/** undefined_table, undefined_column: what a query meets on a schema that is missing or behind. */
const SCHEMA_CODES = new Set(['42P01', '42703']);

export function isSchemaOutOfDate(error: unknown): boolean {
  return SCHEMA_CODES.has(pgErrorCode(error) ?? '');
}

/** `when` of each migration the code ships, oldest first: drizzle records it as `created_at`. */
const SHIPPED: readonly number[] = journal.entries.map((e) => e.when).sort((a, b) => a - b);

export type SchemaStatus =
  | { state: 'current'; applied: number; shipped: number }
  | { state: 'missing'; applied: 0; shipped: number }
  | { state: 'behind'; applied: number; shipped: number };

/**
 * One indexed read of the migrator's own table. Drizzle applies a migration when its `when` is
 * newer than the newest recorded one, so that is the rule here too: a database migrated by a
 * newer release (ahead of this code) counts as current.
 */
export async function schemaStatus(db: Database): Promise<SchemaStatus> {
  const shipped = SHIPPED.length;
  let newest: number | undefined;
  try {
    const [row] = rowsOf<{ newest: string | number | null }>(
      await db.execute(sql`select max(created_at) as newest from berth_migrations.applied`),
    );
    newest = row?.newest === null || row?.newest === undefined ? undefined : Number(row.newest);
  } catch (e) {
    // 42P01: not even the migrator's table (3F000: nor its schema) exists.
    const code = pgErrorCode(e);
    if (code === '42P01' || code === '3F000') return { state: 'missing', applied: 0, shipped };
    throw e;
  }
  if (newest === undefined) return { state: 'missing', applied: 0, shipped };
  const applied = SHIPPED.filter((when) => when <= newest).length;
  return applied < shipped ? { state: 'behind', applied, shipped } : { state: 'current', applied, shipped };
}
