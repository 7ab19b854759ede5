import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.ts';

/**
 * The one database type every verb takes. PGlite, node-postgres and the Neon driver all
 * produce a PgDatabase; a transaction is one too, so verbs run inside or outside one alike.
 */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DriverKind = 'pglite' | 'pg' | 'neon';

/** A live database plus the few driver-specific powers the control plane uses. */
export interface DatabaseHandle {
  db: Database;
  kind: DriverKind;
  /** Deliver NOTIFY payloads of `channel` (several control-plane copies wake each other). */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Run `fn` on one dedicated connection (session-level locks need one). */
  withSession<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
