import { jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/** API tokens. Only a SHA-256 of the secret is kept; the secret is shown once at creation. */
export const tokens = pgTable('tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role', { enum: ['admin', 'deployer', 'viewer'] }).notNull(),
  namespaces: jsonb('namespaces').$type<string[]>().notNull(),
  secretHash: text('secret_hash').notNull().unique(),
  createdAt: at('created_at').notNull().defaultNow(),
  expiresAt: at('expires_at'),
});
