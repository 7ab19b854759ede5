import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { ContainerUsage, UsageReport } from '../../common/agent-protocol.ts';
import type { Database } from '../../db/database.ts';
import { nodes, nodeUsage, replicas, replicaUsage } from '../../db/schema/index.ts';

/**
 * How often agents sample usage, sent with the assignments. A sample rides with the next status
 * report, usually the heartbeat, so figures are at most this plus a heartbeat old (metrics-server
 * scrapes every 15 s too).
 */
export const USAGE_INTERVAL_SECONDS = 15;

/** A stored sample: when it was taken and over how long. */
export interface UsageWindow {
  sampledAt: Date;
  windowSeconds: number;
}

export interface ReplicaUsageRow extends UsageWindow {
  replicaId: string;
  containers: ContainerUsage[];
}

export interface NodeUsageRow extends UsageWindow {
  node: string;
  cpuNanoCores: number;
  memoryBytes: number;
}

/**
 * Keep a node's latest sample in place of the one before. Only replicas placed on the reporting
 * node are written (an agent's word about another node's replicas is ignored); the node's
 * replicas absent from the report lose their sample, as metrics-server shows only its last scrape.
 */
export async function recordUsage(db: Database, nodeId: string, usage: UsageReport): Promise<void> {
  const ids = usage.replicas.map((r) => r.id);
  const own = ids.length
    ? await db
        .select({ id: replicas.id })
        .from(replicas)
        .where(and(eq(replicas.nodeId, nodeId), inArray(replicas.id, ids)))
    : [];
  const mine = new Set(own.map((r) => r.id));
  const rows = usage.replicas
    .filter((r) => mine.has(r.id))
    .map((r) => ({
      replicaId: r.id,
      nodeId,
      containers: r.containers,
      sampledAt: new Date(r.timestamp),
      windowSeconds: r.windowSeconds,
    }));
  await db.transaction(async (tx) => {
    await tx.delete(replicaUsage).where(
      rows.length
        ? and(
            eq(replicaUsage.nodeId, nodeId),
            notInArray(
              replicaUsage.replicaId,
              rows.map((r) => r.replicaId),
            ),
          )
        : eq(replicaUsage.nodeId, nodeId),
    );
    if (rows.length)
      await tx
        .insert(replicaUsage)
        .values(rows)
        .onConflictDoUpdate({
          target: replicaUsage.replicaId,
          set: {
            nodeId: sql`excluded.node_id`,
            containers: sql`excluded.containers`,
            sampledAt: sql`excluded.sampled_at`,
            windowSeconds: sql`excluded.window_seconds`,
          },
        });
    if (usage.node) {
      const row = {
        cpuNanoCores: usage.node.cpuNanoCores,
        memoryBytes: usage.node.memoryBytes,
        sampledAt: new Date(usage.node.timestamp),
        windowSeconds: usage.node.windowSeconds,
      };
      await tx
        .insert(nodeUsage)
        .values({ nodeId, ...row })
        .onConflictDoUpdate({ target: nodeUsage.nodeId, set: row });
    }
  });
}

/**
 * Samples are shown only from nodes that are Ready: one that stopped reporting has figures that
 * stopped being true, and metrics-server too shows nothing of a node it cannot scrape.
 */
const READY = sql`${nodes.status} = 'Ready'`;

/**
 * The latest samples of a namespace's replicas that are still placed on the node that sampled
 * them, while it is Ready.
 */
export async function listReplicaUsage(db: Database, namespace: string): Promise<ReplicaUsageRow[]> {
  return db
    .select({
      replicaId: replicaUsage.replicaId,
      containers: replicaUsage.containers,
      sampledAt: replicaUsage.sampledAt,
      windowSeconds: replicaUsage.windowSeconds,
    })
    .from(replicaUsage)
    .innerJoin(
      replicas,
      and(eq(replicas.id, replicaUsage.replicaId), eq(replicas.nodeId, replicaUsage.nodeId)),
    )
    .innerJoin(nodes, and(eq(nodes.id, replicaUsage.nodeId), READY))
    .where(eq(replicas.namespace, namespace));
}

/** The latest sample of every Ready node that sent one, by node name. */
export async function listNodeUsage(db: Database): Promise<NodeUsageRow[]> {
  return db
    .select({
      node: nodes.name,
      cpuNanoCores: nodeUsage.cpuNanoCores,
      memoryBytes: nodeUsage.memoryBytes,
      sampledAt: nodeUsage.sampledAt,
      windowSeconds: nodeUsage.windowSeconds,
    })
    .from(nodeUsage)
    .innerJoin(nodes, and(eq(nodes.id, nodeUsage.nodeId), READY))
    .orderBy(asc(nodes.name));
}
