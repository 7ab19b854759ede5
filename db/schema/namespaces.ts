import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/**
 * Namespaces spring into being on first use, or are created by an admin (with labels and
 * annotations, as `kubectl create namespace` does); `default` is created by the first migration.
 * A namespace being deleted is Terminating (`terminating_at`) until the last of its objects is
 * gone; then its row goes too.
 */
export const namespaces = pgTable(
  'namespaces',
  {
    name: text('name').primaryKey(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    terminatingAt: at('terminating_at'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  // The controller looks for the few namespaces being deleted, never through them all.
  (t) => [index('namespaces_terminating').on(t.terminatingAt).where(sql`${t.terminatingAt} is not null`)],
);
