import { and, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import { rowsOf } from '../../db/rows.ts';
import { nodes, replicas } from '../../db/schema/index.ts';
import { type EventInput, recordEvents } from '../store/events.ts';
import { wakeDeployments } from '../store/wakeups.ts';
import type { ControllerDeps } from './deps.ts';

/**
 * Node lifecycle, level-triggered from heartbeats:
 *
 *   Ready ──no heartbeat for GRACE──▶ NotReady ──LOST seconds more──▶ Lost
 *     ▲                                   │                             │
 *     └──────────── heartbeat ◀───────────┴─────────────────────────────┘
 *
 * Replicas on a Lost node become phase Lost (the planner replaces them); rows it was told to
 * stop are dropped (nothing there can confirm the stop). When a lost node comes back, replicas
 * that were not replaced are its again; replaced ones are gone from its assignments, so its
 * agent stops them.
 *
 * Each step is its own statement and re-derives its work from current state, so a crash
 * between steps is finished by the next sweep, and no step holds locks while taking others
 * (the controller's lock order is deployments → replicas → nodes).
 */
export async function sweepNodes(deps: ControllerDeps): Promise<void> {
  const { db } = deps;
  const now = deps.now();
  const grace = new Date(now.getTime() - deps.config.nodeGraceSeconds * 1000);
  const lostAfter = new Date(now.getTime() - deps.config.nodeLostSeconds * 1000);
  const events: EventInput[] = [];
  const nodeEvent = (name: string, type: 'Normal' | 'Warning', reason: string, message: string) =>
    events.push({ namespace: '', objectKind: 'node', objectName: name, type, reason, message });

  // Silence counts only while the control plane could have heard it (see sweepingSince).
  const since = await sweepingSince(deps, now);
  const notReady =
    since > grace
      ? []
      : await db
          .update(nodes)
          .set({ status: 'NotReady', statusChangedAt: now })
          .where(and(eq(nodes.status, 'Ready'), lt(nodes.lastHeartbeat, grace)))
          .returning({ id: nodes.id, name: nodes.name });
  for (const n of notReady)
    nodeEvent(n.name, 'Warning', 'NodeNotReady', `no heartbeat for ${deps.config.nodeGraceSeconds}s`);

  const lost = await db
    .update(nodes)
    .set({ status: 'Lost', statusChangedAt: now })
    .where(
      and(eq(nodes.status, 'NotReady'), lt(nodes.statusChangedAt, lostAfter), lt(nodes.lastHeartbeat, grace)),
    )
    .returning({ id: nodes.id, name: nodes.name });
  for (const n of lost)
    nodeEvent(n.name, 'Warning', 'NodeLost', 'its replicas are being replaced on other nodes');

  const back = await db
    .update(nodes)
    .set({ status: 'Ready', statusChangedAt: now })
    .where(and(ne(nodes.status, 'Ready'), sql`${nodes.lastHeartbeat} >= ${grace}`))
    .returning({ id: nodes.id, name: nodes.name });
  for (const n of back) nodeEvent(n.name, 'Normal', 'NodeReady', 'heartbeats resumed');

  const affected = new Set<string>();
  const marked = rowsOf<{ id: string; deployment_id: string; namespace: string; deployment_name: string }>(
    await db.execute(sql`
      update replicas set phase = 'Lost', ready = false, ready_since = null, updated_at = ${now}
      where desired = 'running' and phase <> 'Lost'
        and node_id in (select id from nodes where status = 'Lost')
      returning id, deployment_id, namespace, deployment_name`),
  );
  for (const r of marked) {
    affected.add(r.deployment_id);
    events.push({
      namespace: r.namespace,
      objectKind: 'deployment',
      objectName: r.deployment_name,
      type: 'Warning',
      reason: 'ReplicaLost',
      message: `replica ${r.id} lost with its node; replacing it`,
    });
  }
  const dropped = rowsOf<{ deployment_id: string }>(
    await db.execute(sql`
      delete from replicas where desired = 'stopped' and node_id in (select id from nodes where status = 'Lost')
      returning deployment_id`),
  );
  for (const r of dropped) affected.add(r.deployment_id);
  const revived = rowsOf<{ deployment_id: string }>(
    await db.execute(sql`
      update replicas set phase = 'Scheduled', updated_at = ${now}
      where phase = 'Lost' and node_id in (select id from nodes where status = 'Ready')
      returning deployment_id`),
  );
  for (const r of revived) affected.add(r.deployment_id);
  if (back.length) {
    // Room appeared: replicas waiting for a place get a chance now.
    const waiting = await db
      .selectDistinct({ id: replicas.deploymentId })
      .from(replicas)
      .where(sql`${replicas.nodeId} is null and ${replicas.desired} = 'running'`);
    for (const w of waiting) affected.add(w.id);
  }
  if (notReady.length) {
    const onIt = await db
      .selectDistinct({ id: replicas.deploymentId })
      .from(replicas)
      .where(
        inArray(
          replicas.nodeId,
          notReady.map((n) => n.id),
        ),
      );
    for (const w of onIt) affected.add(w.id);
  }
  await wakeDeployments(db, affected);
  await recordEvents(db, events, now);
}

/**
 * Since when the sweep has run without a long gap, across every copy of the control plane. A gap
 * (no sweep for three tick periods, 10 s at least) means the control plane or its database was
 * away: no agent could report then, so the nodes' silence says nothing about them, and judging
 * them by it would mark every node NotReady at once and drop every endpoint of the cluster until
 * their next heartbeats. As Kubernetes' node lifecycle controller, which counts a node's silence
 * from its own observation, the grace period then starts again from when sweeping resumed.
 */
export async function sweepingSince(deps: ControllerDeps, now: Date): Promise<Date> {
  const tickSeconds = deps.tickSeconds ?? deps.config.reconcileIntervalMs / 1000;
  const gapStart = new Date(now.getTime() - Math.max(10_000, 3 * tickSeconds * 1000));
  const rows = rowsOf<{ sweeping_since: string | Date }>(
    await deps.db.execute(sql`
      insert into sweep_clock (id, last_sweep_at, sweeping_since) values (1, ${now}, ${now})
      on conflict (id) do update set
        sweeping_since = case when sweep_clock.last_sweep_at < ${gapStart}
          then excluded.last_sweep_at else sweep_clock.sweeping_since end,
        last_sweep_at = greatest(sweep_clock.last_sweep_at, excluded.last_sweep_at)
      returning sweeping_since`),
  );
  return new Date(rows[0]?.sweeping_since ?? now);
}
