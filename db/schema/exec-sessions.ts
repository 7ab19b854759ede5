import { boolean, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';
import { nodes } from './nodes.ts';

/**
 * A `kubectl exec`, or one connection of a `kubectl port-forward` (`port` set, no command), waiting
 * for its node: delivered to the node with its assignments, taken once by the agent's WebSocket
 * (`taken_at`), removed when the stream ends or nobody took it in time. Only the meeting point:
 * the bytes travel between the two sockets, never through here.
 */
export const execSessions = pgTable('exec_sessions', {
  id: text('id').primaryKey(),
  nodeId: uuid('node_id')
    .notNull()
    .references(() => nodes.id, { onDelete: 'cascade' }),
  replicaId: text('replica_id').notNull(),
  container: text('container').notNull(),
  command: jsonb('command').$type<string[]>().notNull(),
  tty: boolean('tty').notNull(),
  stdin: boolean('stdin').notNull(),
  /** The user who asked (for the pod's event and the log). */
  who: text('who').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
  takenAt: at('taken_at'),
  /** The copy holding kubectl's socket (its BERTH_PEER_URL): where another copy passes the agent's on. */
  holderUrl: text('holder_url'),
  /** A port-forward's connection: the pod's port the agent connects to. */
  port: integer('port'),
});
