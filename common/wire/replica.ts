import { z } from 'zod';
import { ContainerStatus, HostPort, ReplicaPhase } from '../agent-protocol.ts';
import { Timestamp } from './meta.ts';

/** Replicas, their logs, and events, as the API returns them (API.md "Deployments", other routes). */

export const Replica = z
  .object({
    id: z.string(),
    namespace: z.string(),
    /** The name of the workload it belongs to: a Deployment's, or a Job's (then `job` is set too). */
    deployment: z.string(),
    /** A Job's pod: the Job's name. */
    job: z.string().optional(),
    /** An Indexed Job's pod: its index (JOB_COMPLETION_INDEX). */
    completionIndex: z.int().optional(),
    revision: z.int(),
    /** null until the replica is placed. */
    node: z.string().nullable(),
    nodeAddress: z.string().nullable(),
    desired: z.enum(['running', 'stopped']),
    phase: ReplicaPhase,
    ready: z.boolean(),
    restartCount: z.int(),
    hostPorts: z.array(HostPort),
    message: z.string().nullable(),
    containers: z.array(ContainerStatus),
    /** The pod's init containers and sidecars, in order; absent when it has none. */
    initContainers: z.array(ContainerStatus).optional(),
    /** Being replaced elsewhere because its node is draining. */
    draining: z.boolean(),
    /**
     * What its containers use, as its node's agent last sampled it (every 15 s, the same figures
     * as `kubectl top pods`); absent until a sample arrives, or while its node is not Ready.
     */
    usage: z
      .object({
        sampledAt: Timestamp,
        /** The span the CPU figure averages over. */
        windowSeconds: z.number(),
        containers: z.array(
          z
            .object({ name: z.string(), cpuNanoCores: z.int(), memoryBytes: z.int() })
            .meta({ id: 'ContainerUsage' }),
        ),
      })
      .optional(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Replica' });
export type Replica = z.infer<typeof Replica>;

export const ReplicaList = z.object({ items: z.array(Replica) }).meta({ id: 'ReplicaList' });
export type ReplicaList = z.infer<typeof ReplicaList>;

/** `GET .../replicas/{id}/logs`: the most recent lines of the replica's containers. */
export const ReplicaLogs = z
  .object({ replica: z.string(), lines: z.array(z.string()) })
  .meta({ id: 'ReplicaLogs' });
export type ReplicaLogs = z.infer<typeof ReplicaLogs>;

export const Event = z
  .object({
    id: z.int(),
    type: z.enum(['Normal', 'Warning']),
    /** Short and stable: ScalingReplicaSet, RolloutComplete, ProgressDeadlineExceeded, RolledBack, ... */
    reason: z.string(),
    message: z.string(),
    /** `kind/name`, such as `deployment/web` or `node/vm-1`. */
    object: z.string(),
    /** Empty for cluster events (nodes). */
    namespace: z.string(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Event' });
export type Event = z.infer<typeof Event>;

/** Newest last. */
export const EventList = z.object({ items: z.array(Event) }).meta({ id: 'EventList' });
export type EventList = z.infer<typeof EventList>;
