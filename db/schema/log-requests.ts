import { integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';
import { nodes } from './nodes.ts';

/** What a log read asks of the agent beyond `tail` (workers/verbs/log-options.ts). */
export interface LogRequestOptions {
  container?: string;
  /** `seconds.nanoseconds` since the epoch. */
  since?: string;
  timestamps?: true;
}

/** A pending `logs` read: delivered to the node with its assignments, answered by the agent. */
export const logRequests = pgTable('log_requests', {
  id: text('id').primaryKey(),
  nodeId: uuid('node_id')
    .notNull()
    .references(() => nodes.id, { onDelete: 'cascade' }),
  replicaId: text('replica_id').notNull(),
  tail: integer('tail').notNull(),
  /** One container, lines since an instant, timestamps: the agent's LogRequest fields beyond tail. */
  options: jsonb('options').$type<LogRequestOptions>().notNull().default({}),
  createdAt: at('created_at').notNull().defaultNow(),
  answeredAt: at('answered_at'),
  lines: jsonb('lines').$type<string[]>(),
  error: text('error'),
});
