import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import type { ContainerStatus, HostPort, ReplicaPhase } from '../../common/agent-protocol.ts';
import { at, big } from './columns.ts';
import { deployments } from './deployments.ts';
import { nodes } from './nodes.ts';

/**
 * A replica (a pod). The controller writes placement and `desired`; agents write what they
 * observe (phase, ready, containers). Rows live until the agent confirms the containers are gone.
 */
export const replicas = pgTable(
  'replicas',
  {
    id: text('id').primaryKey(),
    deploymentId: uuid('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    namespace: text('namespace').notNull(),
    deploymentName: text('deployment_name').notNull(),
    revision: integer('revision').notNull(),
    nodeId: uuid('node_id').references(() => nodes.id, { onDelete: 'set null' }),
    desired: text('desired', { enum: ['running', 'stopped'] }).notNull(),
    phase: text('phase').$type<ReplicaPhase>().notNull(),
    ready: boolean('ready').notNull().default(false),
    readySince: at('ready_since'),
    message: text('message'),
    restartCount: integer('restart_count').notNull().default(0),
    hostPorts: jsonb('host_ports').$type<HostPort[]>().notNull().default([]),
    containers: jsonb('containers').$type<ContainerStatus[]>().notNull().default([]),
    requestCpuMillis: integer('request_cpu_millis').notNull().default(0),
    requestMemoryBytes: big('request_memory_bytes').notNull().default(0),
    /**
     * The host ports the replica's containers publish on fixed ports of the node ("8080/TCP"),
     * from its revision's template: placement keeps two replicas wanting one from sharing a node.
     */
    requestHostPorts: text('request_host_ports').array().notNull().default([]),
    /**
     * Its ephemeral-storage (bytes) and extended resources (units), from its revision's template
     * (common/extended-resources.ts); null when it asks for none, as nearly every replica does.
     */
    requestScalars: jsonb('request_scalars').$type<Record<string, number>>(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
    /** When the controller set desired=stopped: drives endpoint removal and Terminating display. */
    stoppedAt: at('stopped_at'),
    /**
     * Service discovery variables (BERTH_SERVICE_<NAME>_URL), fixed when the replica is created,
     * as Kubernetes does: a container's environment never changes under it, so a service created,
     * changed or deleted later never restarts running containers.
     */
    serviceEnv: jsonb('service_env').$type<{ name: string; value: string }[]>(),
    /** Set by `drain`: the replica is replaced elsewhere like an old revision in a rolling update. */
    draining: boolean('draining').notNull().default(false),
    /**
     * The memory limit a container that sets neither limit nor request gets, from the namespace
     * policy when the replica was created (as Kubernetes' LimitRange applies at admission): a
     * policy change later never restarts running containers.
     */
    defaultMemoryLimitBytes: big('default_memory_limit_bytes'),
    /**
     * The ConfigMaps its env reads, as they were when the replica was first sent resolvable (null: a
     * ConfigMap it names optionally did not exist), so a ConfigMap written later never changes a
     * started container's environment (Kubernetes fixes it at container start). Null until then.
     */
    configMapData: jsonb('config_map_data').$type<Record<string, Record<string, string> | null>>(),
    /** A Job's pod in Indexed mode: its index (JOB_COMPLETION_INDEX); null otherwise. */
    completionIndex: integer('completion_index'),
    /**
     * When the controller counted a Job's pod as succeeded or failed (in the Job's status, in the
     * same transaction): it is never counted again, and it holds nothing on its node any more
     * (Kubernetes leaves terminated pods out of the scheduler's sums), while its stopped
     * containers stay for their logs until the Job goes.
     */
    finishedAt: at('finished_at'),
  },
  (t) => [
    index('replicas_deployment').on(t.deploymentId),
    index('replicas_node').on(t.nodeId),
    index('replicas_unplaced').on(t.deploymentId).where(sql`${t.nodeId} is null`),
    // The node sweep looks for Lost replicas on every tick; there are almost never any, and
    // without this it reads every replica to find none (30 ms at 100,000 replicas).
    index('replicas_lost').on(t.nodeId).where(sql`${t.phase} = 'Lost'`),
    // Placement reads the host ports taken on every node; few replicas ask for any, and this
    // keeps that read to them (a replica counts until its row goes, Terminating included).
    index('replicas_host_ports')
      .on(t.nodeId)
      .where(sql`${t.nodeId} is not null and ${t.requestHostPorts} <> '{}'`),
    // The same for ephemeral-storage and extended resources (a device is held until the row goes).
    index('replicas_scalars')
      .on(t.nodeId)
      .where(sql`${t.nodeId} is not null and ${t.requestScalars} is not null`),
  ],
);
