import { boolean, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import type { Taint } from '../../common/scheduling.ts';
import { at, big } from './columns.ts';

/**
 * A machine running berth-agent. `assignmentVersion` grows whenever the node's desired set
 * changes; it is the assignments ETag, so an unchanged poll costs one indexed read.
 */
export const nodes = pgTable('nodes', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull().unique(),
  tokenHash: text('token_hash').unique(),
  labels: jsonb('labels').$type<Record<string, string>>().notNull(),
  address: text('address').notNull(),
  agentVersion: text('agent_version').notNull(),
  capacityCpuMillis: integer('capacity_cpu_millis').notNull(),
  capacityMemoryBytes: big('capacity_memory_bytes').notNull(),
  allocatableCpuMillis: integer('allocatable_cpu_millis').notNull(),
  allocatableMemoryBytes: big('allocatable_memory_bytes').notNull(),
  /** Extended resources the agent advertises (`--extended-resource nvidia.com/gpu=2`): whole counts. */
  extendedResources: jsonb('extended_resources').$type<Record<string, number>>().notNull().default({}),
  /** The allocatable disk of the node's Docker data root, for ephemeral-storage requests (0: unknown). */
  allocatableEphemeralStorageBytes: big('allocatable_ephemeral_storage_bytes').notNull().default(0),
  unschedulable: boolean('unschedulable').notNull().default(false),
  /** `berth node taint`: replicas without a matching toleration avoid the node. */
  taints: jsonb('taints').$type<Taint[]>().notNull().default([]),
  /** Ready | NotReady | Lost: written by the controller's node sweep and by heartbeats. */
  status: text('status', { enum: ['Ready', 'NotReady', 'Lost'] })
    .notNull()
    .default('Ready'),
  statusChangedAt: at('status_changed_at').notNull().defaultNow(),
  lastHeartbeat: at('last_heartbeat').notNull().defaultNow(),
  assignmentVersion: big('assignment_version').notNull().default(1),
  createdAt: at('created_at').notNull().defaultNow(),
});
