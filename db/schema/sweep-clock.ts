import { integer, pgTable } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/**
 * One row: when the node sweep last ran, and since when it has run without a long gap. A node's
 * silence counts only from then: after the control plane (or its database) was away, no node
 * could have been heard, and marking them all NotReady at once would drop every endpoint of
 * the cluster until their next heartbeat (see workers/controller/node-sweep.ts).
 */
export const sweepClock = pgTable('sweep_clock', {
  id: integer('id').primaryKey(),
  lastSweepAt: at('last_sweep_at').notNull(),
  sweepingSince: at('sweeping_since').notNull(),
});
