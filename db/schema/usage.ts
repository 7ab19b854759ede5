import { doublePrecision, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import type { ContainerUsage } from '../../common/agent-protocol.ts';
import { at, big } from './columns.ts';
import { nodes } from './nodes.ts';

/**
 * The latest usage sample of each replica, as its node's agent last reported it (served as
 * metrics.k8s.io PodMetrics). Overwritten by every report that carries usage, no history; apart
 * from `replicas` so that a sample every few seconds neither changes a pod for the Kubernetes
 * face's watch clock nor waits on the replica rows the controller locks.
 */
export const replicaUsage = pgTable('replica_usage', {
  replicaId: text('replica_id').primaryKey(),
  /** The reporting node: its next report replaces its replicas' rows, and its deletion ends them. */
  nodeId: uuid('node_id')
    .notNull()
    .references(() => nodes.id, { onDelete: 'cascade' }),
  containers: jsonb('containers').$type<ContainerUsage[]>().notNull(),
  sampledAt: at('sampled_at').notNull(),
  windowSeconds: doublePrecision('window_seconds').notNull(),
});

/** The latest usage sample of each node itself (NodeMetrics); as above. */
export const nodeUsage = pgTable('node_usage', {
  nodeId: uuid('node_id')
    .primaryKey()
    .references(() => nodes.id, { onDelete: 'cascade' }),
  cpuNanoCores: big('cpu_nano_cores').notNull(),
  memoryBytes: big('memory_bytes').notNull(),
  sampledAt: at('sampled_at').notNull(),
  windowSeconds: doublePrecision('window_seconds').notNull(),
});
