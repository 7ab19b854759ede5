import { and, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { nodes, replicas } from '../../db/schema/index.ts';
import { foldAllocations } from '../store/allocations.ts';
import { offeredScalars, scalarsInUse } from '../store/scalar-allocations.ts';
import { bindClaims, lockClaims } from './claim-binding.ts';
import { placeReplicas, type ReplicaRequest, type ScheduleInput, type SchedulerNode } from './scheduler.ts';
import { countsPods } from './scheduling-rules.ts';

/** Arbitrary constant: placements are decided one transaction at a time, so capacity is never double-counted. */
const PLACEMENT_LOCK = 727_274_002;

export interface PendingReplica extends ReplicaRequest {
  deploymentId: string;
  /** Not in the database yet: the caller inserts it with the outcome, so there is no row to update. */
  unsaved?: boolean;
}

export interface PlacementOutcome {
  placed: { replicaId: string; nodeId: string; nodeName: string; deploymentId: string }[];
  /** `news`: the reason differs from the last one recorded for this replica. */
  unplaced: { replicaId: string; reason: string; deploymentId: string; news: boolean }[];
}

/**
 * Place pending replicas inside the caller's transaction. A transaction-scoped advisory lock
 * makes concurrent reconcilers (other processes, the cron) take turns here, and capacity is
 * read after taking it, so two placements never both count the same free memory.
 */
export async function placePending(
  tx: Database,
  pending: PendingReplica[],
  groupCounts: Map<string, Map<string, number>>,
  now: Date,
  graceSeconds: number,
): Promise<PlacementOutcome> {
  if (pending.length === 0) return { placed: [], unplaced: [] };
  await tx.execute(sql`select pg_advisory_xact_lock(${PLACEMENT_LOCK})`);
  const nodeRows = await tx.select().from(nodes);
  const allocated = await foldAllocations(tx);
  // Only a request with host ports needs the ports in use, so the common case reads nothing more.
  const portsInUse = pending.some((p) => p.hostPorts?.length) ? await hostPortsInUse(tx) : null;
  // Likewise ephemeral-storage and extended resources (store/scalar-allocations.ts).
  const scalarsUsed = pending.some((p) => p.scalars) ? await scalarsInUse(tx) : null;
  const freshAfter = now.getTime() - graceSeconds * 1000;
  const schedulerNodes: SchedulerNode[] = nodeRows.map((n) => ({
    id: n.id,
    name: n.name,
    labels: n.labels,
    ready: n.status === 'Ready' && n.lastHeartbeat.getTime() >= freshAfter,
    unschedulable: n.unschedulable,
    allocatable: { cpuMillis: n.allocatableCpuMillis, memoryBytes: n.allocatableMemoryBytes },
    allocated: allocated.get(n.id) ?? { cpuMillis: 0, memoryBytes: 0 },
    usedHostPorts: portsInUse?.get(n.id) ?? [],
    taints: n.taints,
    ...(scalarsUsed
      ? {
          scalars: {
            allocatable: offeredScalars(n),
            allocated: scalarsUsed.get(n.id) ?? {},
          },
        }
      : {}),
  }));
  // Only a request with pod affinity or spread counts other pods: only then are they read.
  const counting = [...new Set(pending.filter((p) => countsPods(p.scheduling)).map((p) => p.namespace!))];
  const pods = counting.length ? await runningPods(tx, counting) : undefined;
  // Claims are read under their row locks and bound in this transaction (claim-binding.ts).
  const claims = await lockClaims(tx, pending);
  const result = placeReplicas({
    nodes: schedulerNodes,
    requests: pending,
    groupCounts,
    pods,
    ...(claims ? { claims } : {}),
  });
  if (result.bound) await bindClaims(tx, result.bound, now);
  const names = new Map(nodeRows.map((n) => [n.id, n.name]));
  const deploymentOf = new Map(pending.map((p) => [p.replicaId, p.deploymentId]));
  const unsaved = new Set(pending.filter((p) => p.unsaved).map((p) => p.replicaId));
  const saved = <T extends { replicaId: string }>(list: T[]) => list.filter((x) => !unsaved.has(x.replicaId));
  const moved = saved(result.placements);
  if (moved.length) {
    const rows = moved.map((p) => ({ id: p.replicaId, node_id: p.nodeId }));
    await tx.execute(sql`
      update replicas set node_id = v.node_id, phase = 'Scheduled', message = null, updated_at = ${now}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, node_id uuid)
      where replicas.id = v.id`);
  }
  // Pending replicas carry the reason they wait, so `get replicas` explains itself.
  // Only a changed reason is news: that is what keeps FailedScheduling events from repeating.
  // A new replica has no reason recorded yet: its first one is always news.
  const newsworthy = new Set<string>(unsaved);
  const waiting = saved(result.unplaced);
  if (waiting.length) {
    const rows = waiting.map((u) => ({ id: u.replicaId, message: u.reason }));
    const changed = await tx.execute(sql`
      update replicas set message = v.message
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, message text)
      where replicas.id = v.id and replicas.message is distinct from v.message
      returning replicas.id`);
    for (const row of rowsOf<{ id: string }>(changed)) newsworthy.add(row.id);
  }
  return {
    placed: result.placements.map((p) => ({
      ...p,
      nodeName: names.get(p.nodeId) ?? p.nodeId,
      deploymentId: deploymentOf.get(p.replicaId)!,
    })),
    unplaced: result.unplaced.map((u) => ({
      ...u,
      deploymentId: deploymentOf.get(u.replicaId)!,
      news: newsworthy.has(u.replicaId),
    })),
  };
}

/**
 * The host ports taken on each node. Every replica row on a node counts, stopping ones too: its
 * containers hold the port until its agent confirms them gone, and then the row goes. Reads only
 * the replicas that ask for host ports (the partial index replicas_host_ports).
 */
async function hostPortsInUse(tx: Database): Promise<Map<string, string[]>> {
  const rows = await tx
    .select({ nodeId: replicas.nodeId, ports: replicas.requestHostPorts })
    .from(replicas)
    .where(
      and(
        isNotNull(replicas.nodeId),
        sql`${replicas.requestHostPorts} <> '{}'`,
        // A Job's finished pod: its containers have exited, and an exited container holds no port.
        isNull(replicas.finishedAt),
      ),
    );
  const out = new Map<string, string[]>();
  for (const { nodeId, ports } of rows) {
    const list = out.get(nodeId!);
    if (list) list.push(...ports);
    else out.set(nodeId!, [...ports]);
  }
  return out;
}

/**
 * The running replicas of some namespaces with their node and labels (their revision's template
 * labels; the deployment's own template if that revision is gone), for pod affinity and spread.
 */
async function runningPods(tx: Database, namespaces: string[]): Promise<NonNullable<ScheduleInput['pods']>> {
  const rows = await tx.execute(sql`
    select r.node_id as "nodeId", d.namespace,
      coalesce(v.template, d.spec->'template')->'metadata'->'labels' as labels
    from deployments d
    join replicas r on r.deployment_id = d.id
    left join revisions v on v.deployment_id = r.deployment_id and v.revision = r.revision
    where d.namespace in (${sql.join(
      namespaces.map((ns) => sql`${ns}`),
      sql`, `,
    )}) and r.node_id is not null and r.desired = 'running' and r.finished_at is null`);
  return rowsOf<{ nodeId: string; namespace: string; labels: Record<string, string> | null }>(rows).map(
    (r) => ({ nodeId: r.nodeId, namespace: r.namespace, labels: r.labels ?? {} }),
  );
}
