import { integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/**
 * Single-purpose tokens an agent trades for a node credential at registration. A token may be
 * bound: `nodeName` is the only name it registers, `labels` the exact labels it registers with.
 */
export const joinTokens = pgTable('join_tokens', {
  id: text('id').primaryKey(),
  secretHash: text('secret_hash').notNull().unique(),
  expiresAt: at('expires_at').notNull(),
  maxUses: integer('max_uses'),
  uses: integer('uses').notNull().default(0),
  nodeName: text('node_name'),
  labels: jsonb('labels').$type<Record<string, string>>(),
  createdAt: at('created_at').notNull().defaultNow(),
});
