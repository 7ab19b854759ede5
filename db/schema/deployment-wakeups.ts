import { bigint, index, pgTable, uuid } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/**
 * "Look at this deployment again": appended by whoever learns something a deployment's controller
 * should act on (an agent's report, a node that left or came back, room that appeared).
 *
 * An append takes no lock anyone holds. Setting `deployments.reconcile_at` instead waits for the
 * row lock a running reconcile of that deployment holds until it commits, and agents' reports
 * then queue behind reconciles, holding connections every other request needs.
 *
 * A reconcile deletes its deployments' wake-ups as soon as it has locked them, before it reads
 * their replicas: whatever a deleted wake-up announced is already committed and will be read.
 * One committed later stays for the next run. The due batches first turn the wake-ups of rows
 * nobody holds into due times (controller/wakeups.ts). No foreign key: checking one would wait
 * on that same row lock.
 */
export const deploymentWakeups = pgTable(
  'deployment_wakeups',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deploymentId: uuid('deployment_id').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [index('deployment_wakeups_deployment').on(t.deploymentId)],
);
