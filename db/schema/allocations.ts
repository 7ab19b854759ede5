import { bigint, integer, pgTable, uuid } from 'drizzle-orm/pg-core';
import { big } from './columns.ts';

/**
 * What each node has promised to its running replicas (their requests, and how many there are), kept incrementally so placement never
 * sums every replica (tens of milliseconds at 100,000 replicas, all of it under the placement
 * lock, which is what every other write then waits behind).
 *
 * Two tables, so no writer ever waits on another:
 * - `allocation_changes` is append-only. Triggers on `replicas` (migration 0005) add one row per
 *   node whose allocation a statement changed, in that statement's transaction, so the ledger
 *   and the replicas commit or roll back together. Appending takes no lock anyone else wants.
 * - `node_allocations` holds the totals. Only placement writes it, under its advisory lock: it
 *   folds the changes committed so far into the totals (controller/placement.ts).
 *
 * Totals plus unfolded changes always equal the sum over the replicas a snapshot sees; a test
 * checks that through every kind of replica write. Readers other than placement (the node list)
 * add the two without folding.
 */
export const nodeAllocations = pgTable('node_allocations', {
  // No foreign key: a change for a node deleted meanwhile must still fold without an error.
  nodeId: uuid('node_id').primaryKey(),
  cpuMillis: big('cpu_millis').notNull().default(0),
  memoryBytes: big('memory_bytes').notNull().default(0),
  replicas: integer('replicas').notNull().default(0),
});

export const allocationChanges = pgTable('allocation_changes', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  nodeId: uuid('node_id').notNull(),
  cpuMillis: big('cpu_millis').notNull(),
  memoryBytes: big('memory_bytes').notNull(),
  replicas: integer('replicas').notNull(),
});
