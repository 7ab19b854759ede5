import { sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';

/** What the running replicas placed on one node request of it, and how many they are. */
export interface Allocation {
  cpuMillis: number;
  memoryBytes: number;
  replicas: number;
}

type AllocationRow = {
  node_id: string;
  cpu_millis: string | number;
  memory_bytes: string | number;
  replicas: string | number;
};

function toMap(rows: AllocationRow[]): Map<string, Allocation> {
  const out = new Map<string, Allocation>();
  for (const r of rows)
    out.set(r.node_id, {
      cpuMillis: Number(r.cpu_millis),
      memoryBytes: Number(r.memory_bytes),
      replicas: Number(r.replicas),
    });
  return out;
}

/**
 * Every node's allocation, for placement: folds the changes committed so far into the totals
 * (db/schema/allocations.ts) and returns the totals. Only placement writes the totals, so the
 * caller must hold the placement lock.
 *
 * One round trip: the CTEs' writes are invisible to the outer scan of node_allocations (it sees
 * the statement's snapshot), so nodes whose totals changed are taken from `saved` instead.
 */
export async function foldAllocations(tx: Database): Promise<Map<string, Allocation>> {
  const result = await tx.execute(sql`
    with folded as (delete from allocation_changes returning node_id, cpu_millis, memory_bytes, replicas),
    sums as (
      select node_id, sum(cpu_millis) as cpu_millis, sum(memory_bytes) as memory_bytes, sum(replicas) as replicas
      from folded group by node_id),
    saved as (
      insert into node_allocations (node_id, cpu_millis, memory_bytes, replicas)
      select node_id, cpu_millis, memory_bytes, replicas from sums
      on conflict (node_id) do update set
        cpu_millis = node_allocations.cpu_millis + excluded.cpu_millis,
        memory_bytes = node_allocations.memory_bytes + excluded.memory_bytes,
        replicas = node_allocations.replicas + excluded.replicas
      returning node_id, cpu_millis, memory_bytes, replicas)
    select node_id, cpu_millis, memory_bytes, replicas from saved
    union all
    select node_id, cpu_millis, memory_bytes, replicas from node_allocations
    where node_id not in (select node_id from sums)`);
  return toMap(rowsOf<AllocationRow>(result));
}

/** Allocations as any snapshot sees them (totals plus unfolded changes), without writing. */
export async function readAllocations(db: Database, nodeId?: string): Promise<Map<string, Allocation>> {
  const only = nodeId ? sql`where node_id = ${nodeId}` : sql``;
  const result = await db.execute(sql`
    select node_id, sum(cpu_millis) as cpu_millis, sum(memory_bytes) as memory_bytes, sum(replicas) as replicas
    from (
      select node_id, cpu_millis, memory_bytes, replicas from node_allocations ${only}
      union all
      select node_id, cpu_millis, memory_bytes, replicas from allocation_changes ${only}
    ) as ledger
    group by node_id`);
  return toMap(rowsOf<AllocationRow>(result));
}
