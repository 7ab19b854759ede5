import { and, asc, eq } from 'drizzle-orm';
import { EPHEMERAL_STORAGE, type Scalars } from '../../common/extended-resources.ts';
import type { Database } from '../../db/database.ts';
import { retryOnConflict } from '../../db/retry.ts';
import { nodes, replicas } from '../../db/schema/index.ts';
import { notFound } from '../errors.ts';
import { type Allocation, readAllocations } from '../store/allocations.ts';
import { recordEvents } from '../store/events.ts';
import { offeredScalars, scalarsInUse } from '../store/scalar-allocations.ts';
import { wakeDeployments, wakeWaitingDeployments } from '../store/wakeups.ts';

type NodeRow = typeof nodes.$inferSelect;

/** ephemeral-storage and extended resources in the wire's form, left out when there are none. */
function scalarFields(scalars: Scalars) {
  const { [EPHEMERAL_STORAGE]: storage, ...extended } = scalars;
  return {
    ...(storage ? { ephemeralStorageBytes: storage } : {}),
    ...(Object.keys(extended).length ? { extendedResources: extended } : {}),
  };
}

export function toNodeObject(n: NodeRow, allocated: Allocation, scalarsUsed: Scalars = {}) {
  return {
    name: n.name,
    uid: n.id,
    status: n.status === 'Ready' ? 'Ready' : 'NotReady',
    condition: n.status,
    lastHeartbeat: n.lastHeartbeat.toISOString(),
    capacity: { cpu: n.capacityCpuMillis / 1000, memoryBytes: n.capacityMemoryBytes },
    allocatable: {
      cpu: n.allocatableCpuMillis / 1000,
      memoryBytes: n.allocatableMemoryBytes,
      ...scalarFields(offeredScalars(n)),
    },
    allocated: {
      cpu: allocated.cpuMillis / 1000,
      memoryBytes: allocated.memoryBytes,
      ...scalarFields(scalarsUsed),
      replicas: allocated.replicas,
    },
    labels: n.labels,
    address: n.address,
    agentVersion: n.agentVersion,
    unschedulable: n.unschedulable,
    taints: n.taints,
    createdAt: n.createdAt.toISOString(),
  };
}

const NONE: Allocation = { cpuMillis: 0, memoryBytes: 0, replicas: 0 };

export async function listNodes(db: Database) {
  const [rows, alloc] = [await db.select().from(nodes).orderBy(asc(nodes.name)), await readAllocations(db)];
  const used = await scalarsInUse(db);
  return rows.map((n) => toNodeObject(n, alloc.get(n.id) ?? NONE, used.get(n.id)));
}

export async function getNode(db: Database, name: string) {
  const [row] = await db.select().from(nodes).where(eq(nodes.name, name));
  if (!row) throw notFound(`node "${name}"`);
  const used = (await scalarsInUse(db, row.id)).get(row.id);
  return toNodeObject(row, (await readAllocations(db, row.id)).get(row.id) ?? NONE, used);
}

export async function setUnschedulable(db: Database, name: string, unschedulable: boolean, now: Date) {
  const [row] = await db.update(nodes).set({ unschedulable }).where(eq(nodes.name, name)).returning();
  if (!row) throw notFound(`node "${name}"`);
  await recordEvents(
    db,
    [
      {
        namespace: '',
        objectKind: 'node',
        objectName: name,
        type: 'Normal',
        reason: unschedulable ? 'Cordoned' : 'Uncordoned',
        message: unschedulable ? 'no new replicas will be placed here' : 'replicas may be placed here again',
      },
    ],
    now,
  );
  // Room appeared: deployments with replicas waiting for a place look again.
  const woken = unschedulable ? [] : await wakeWaitingDeployments(db);
  return { node: await getNode(db, name), woken };
}

/**
 * Lock a node's replicas in id order, the order status reports take them in (verbs/agents.ts):
 * a write over all of them then queues behind a report instead of deadlocking with it.
 */
async function lockReplicasOf(tx: Database, nodeId: string): Promise<void> {
  await tx
    .select({ id: replicas.id })
    .from(replicas)
    .where(eq(replicas.nodeId, nodeId))
    .orderBy(asc(replicas.id))
    .for('update');
}

/**
 * Cordon, then mark the node's replicas draining: each deployment replaces them on other nodes
 * the way it rolls out a new revision, so its maxUnavailable holds throughout.
 */
export async function drainNode(db: Database, name: string, now: Date) {
  await setUnschedulable(db, name, true, now);
  const [node] = await db.select({ id: nodes.id }).from(nodes).where(eq(nodes.name, name));
  const marked = await retryOnConflict(() =>
    db.transaction(async (tx) => {
      await lockReplicasOf(tx, node!.id);
      return tx
        .update(replicas)
        .set({ draining: true })
        .where(and(eq(replicas.nodeId, node!.id), eq(replicas.desired, 'running')))
        .returning({ deploymentId: replicas.deploymentId });
    }),
  );
  const ids = [...new Set(marked.map((m) => m.deploymentId))];
  await wakeDeployments(db, ids);
  await recordEvents(
    db,
    [
      {
        namespace: '',
        objectKind: 'node',
        objectName: name,
        type: 'Normal',
        reason: 'Draining',
        message: `moving ${marked.length} replicas to other nodes`,
      },
    ],
    now,
  );
  return { node: await getNode(db, name), draining: marked.length, deploymentIds: ids };
}

/** Forget a node: its credential stops working at once; its replicas are replaced elsewhere. */
export async function deleteNode(db: Database, name: string, now: Date) {
  const [row] = await db.select().from(nodes).where(eq(nodes.name, name));
  if (!row) throw notFound(`node "${name}"`);
  const removed = await retryOnConflict(() =>
    db.transaction(async (tx) => {
      await lockReplicasOf(tx, row.id);
      const gone = await tx
        .delete(replicas)
        .where(eq(replicas.nodeId, row.id))
        .returning({ deploymentId: replicas.deploymentId });
      await tx.delete(nodes).where(eq(nodes.id, row.id));
      return gone;
    }),
  );
  const ids = [...new Set(removed.map((r) => r.deploymentId))];
  await wakeDeployments(db, ids);
  await recordEvents(
    db,
    [
      {
        namespace: '',
        objectKind: 'node',
        objectName: name,
        type: 'Normal',
        reason: 'Deleted',
        message: `node forgotten; ${removed.length} replicas will be replaced`,
      },
    ],
    now,
  );
  return { deploymentIds: ids, nodeId: row.id };
}
