import { z } from 'zod';
import { LabelKey } from '../names.ts';
import { Taint } from '../scheduling.ts';
import { Timestamp } from './meta.ts';

/** Nodes as the API returns them (API.md "Nodes"). */

/** cpu in cores (fractions allowed), memory in bytes: the units agents register in. */
export const NodeResources = z.object({
  cpu: z.number(),
  memoryBytes: z.number(),
  /** Disk for ephemeral-storage requests (the Docker data root's); absent: none offered or held. */
  ephemeralStorageBytes: z.number().optional(),
  /** Extended resources (nvidia.com/gpu: 2) offered or held; absent: none. */
  extendedResources: z.record(z.string(), z.number()).optional(),
});
export type NodeResources = z.infer<typeof NodeResources>;

export const Node = z
  .object({
    name: z.string(),
    uid: z.string(),
    status: z.enum(['Ready', 'NotReady']),
    /** Finer than status: a NotReady node becomes Lost when its replicas are replaced elsewhere. */
    condition: z.enum(['Ready', 'NotReady', 'Lost']),
    lastHeartbeat: Timestamp,
    capacity: NodeResources,
    allocatable: NodeResources,
    /** What the replicas placed there request. */
    allocated: NodeResources.extend({ replicas: z.int() }),
    /** Always includes `berth.dev/node=<name>`. */
    labels: z.record(z.string(), z.string()),
    address: z.string(),
    agentVersion: z.string(),
    /** Cordoned: no new replicas are placed there. */
    unschedulable: z.boolean(),
    /** Replicas without a matching toleration avoid the node (`berth node taint`). */
    taints: z.array(Taint),
    createdAt: Timestamp,
  })
  .meta({ id: 'Node' });
export type Node = z.infer<typeof Node>;

export const NodeList = z.object({ items: z.array(Node) }).meta({ id: 'NodeList' });
export type NodeList = z.infer<typeof NodeList>;

/** `POST /v1/nodes/{name}/drain`: the node, and how many of its replicas are being moved. */
export const DrainedNode = Node.extend({ draining: z.int() }).meta({ id: 'DrainedNode' });
export type DrainedNode = z.infer<typeof DrainedNode>;

/**
 * `POST /v1/nodes/{name}/taints`: taints to add (one with the same key and effect is replaced)
 * and to remove (by key and effect; without an effect, every taint of the key), in one change.
 */
export const NodeTaintsChange = z
  .strictObject({
    add: z.array(Taint).max(32).optional(),
    remove: z
      .array(z.strictObject({ key: LabelKey, effect: z.enum(['NoSchedule', 'PreferNoSchedule']).optional() }))
      .max(32)
      .optional(),
  })
  .meta({ id: 'NodeTaintsChange' });
export type NodeTaintsChange = z.infer<typeof NodeTaintsChange>;
