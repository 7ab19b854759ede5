import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { PodTemplate } from '../../common/deployment.ts';
import type { Database } from '../../db/database.ts';
import { retryOnConflict } from '../../db/retry.ts';
import { deployments, replicas, revisions } from '../../db/schema/index.ts';
import type { ReconcileTrigger } from '../app-context.ts';
import type { ControlPlaneConfig } from '../config.ts';
import { shortId } from '../crypto.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { bumpAssignments } from '../store/assignments.ts';
import { discoveryEnv, loadDiscoveryServices } from '../store/discovery.ts';
import { type EventInput, recordEvents } from '../store/events.ts';
import { consumeWakeups, forgetOrphanWakeups, promoteWakeups, wokenAgain } from '../store/wakeups.ts';
import { type Decision, decideDeployment } from './deployment-decision.ts';
import { sweepNodes } from './node-sweep.ts';
import { type PendingReplica, type PlacementOutcome, placePending } from './placement.ts';
import { podRequests } from './requests.ts';
import { templateHash } from './template-hash.ts';

type DeploymentRow = typeof deployments.$inferSelect;
type ReplicaRow = typeof replicas.$inferSelect;
type RevisionRow = typeof revisions.$inferSelect;

export interface ControllerDeps {
  db: Database;
  config: ControlPlaneConfig;
  log: Logger;
  now: () => Date;
  publishAssignments?: (nodeIds: string[]) => Promise<void>;
  metrics?: Metrics;
}

export interface TickResult {
  deployments: number;
  placements: number;
  /** More deployments were due than one tick may take (Workers' CPU budget): continue later. */
  more: boolean;
  ms: number;
}

export interface Reconciler extends ReconcileTrigger {
  /** The periodic safety net: node lifecycle, then every deployment that is due. */
  tick(options?: { maxBatches?: number }): Promise<TickResult>;
  /** Reconcile these deployments now, waiting for a concurrent run that holds them. */
  reconcile(ids: string[]): Promise<number>;
}

/**
 * The controller, runtime-agnostic. Level-triggered and idempotent: each batch locks the
 * deployments it works on (FOR UPDATE SKIP LOCKED), reads desired and observed state, writes
 * the difference, and commits; a crash anywhere leaves state the next run completes. Any
 * number of copies may run it at once.
 */
export function createReconciler(deps: ControllerDeps): Reconciler {
  const queued = new Set<string>();
  let running: Promise<void> | null = null;

  const drain = async () => {
    while (queued.size) {
      const ids = [...queued].slice(0, deps.config.reconcileBatch);
      for (const id of ids) queued.delete(id);
      const result = await runBatch(deps, { ids });
      for (const id of result.wokenAgain) queued.add(id);
    }
  };

  const reconcileSoon = (ids: string[] = []): Promise<void> => {
    for (const id of ids) queued.add(id);
    if (!running) {
      running = drain()
        .catch((e) => deps.log.warn('reconcile failed; the next tick retries', { error: String(e) }))
        .finally(() => {
          running = null;
        });
      return running;
    }
    // A run is in flight: chain one more pass so ids queued now are not left behind.
    return running.then((): Promise<void> | undefined => (queued.size ? reconcileSoon() : undefined));
  };

  return {
    reconcileSoon,
    async reconcile(ids) {
      const result = await runBatch(deps, { ids, waitForLocks: true });
      return result.deployments;
    },
    async tick(options = {}) {
      const started = performance.now();
      // Idempotent, so a deadlock victim simply runs again.
      await retryOnConflict(() => sweepNodes(deps));
      await forgetOrphanWakeups(deps.db);
      let total = 0;
      let placements = 0;
      let more = false;
      const maxBatches = options.maxBatches ?? 50;
      for (let i = 0; i < maxBatches; i++) {
        const r = await runBatch(deps, { due: true });
        total += r.deployments;
        placements += r.placements;
        more = r.full;
        if (!r.full && r.wokenAgain.length === 0) break;
      }
      const ms = performance.now() - started;
      deps.metrics?.observe(
        'berth_reconcile_tick_duration_seconds',
        'Safety-net reconcile tick duration',
        ms / 1000,
      );
      return { deployments: total, placements, more, ms };
    },
  };
}

interface BatchResult {
  deployments: number;
  placements: number;
  /** The batch was full: there may be more due. */
  full: boolean;
  ids: string[];
  /**
   * Deployments of this batch woken while it held them: their wakers found them locked and
   * left them, so they run again now rather than at the next tick.
   */
  wokenAgain: string[];
}

async function runBatch(
  deps: ControllerDeps,
  selection: { ids?: string[]; due?: boolean; waitForLocks?: boolean },
): Promise<BatchResult> {
  const now = deps.now();
  if (selection.due) await promoteWakeups(deps.db, now);
  const touchedNodes = new Set<string>();
  const result = await retryOnConflict(() =>
    deps.db.transaction(async (tx) => {
      touchedNodes.clear();
      const limit = deps.config.reconcileBatch;
      const rows = selection.ids
        ? selection.ids.length
          ? await tx
              .select()
              .from(deployments)
              .where(inArray(deployments.id, selection.ids))
              .for('update', selection.waitForLocks ? {} : { skipLocked: true })
          : []
        : await tx
            .select()
            .from(deployments)
            .where(lte(deployments.reconcileAt, now))
            .orderBy(asc(deployments.reconcileAt))
            .limit(limit)
            .for('update', { skipLocked: true });
      if (rows.length === 0) return { deployments: 0, placements: 0, full: false, ids: [] };
      const ids = rows.map((r) => r.id);
      await consumeWakeups(tx, ids);
      const [revisionRows, replicaRows] = [
        await tx.select().from(revisions).where(inArray(revisions.deploymentId, ids)),
        await tx.select().from(replicas).where(inArray(replicas.deploymentId, ids)),
      ];
      const revisionsOf = groupBy(revisionRows, (r) => r.deploymentId);
      // Hashed side by side: WebCrypto digests are asynchronous, one at a time they cost a round trip each.
      const hashes = new Map(
        await Promise.all(
          rows.map(async (r) => [r.id, await templateHash(r.spec.template as PodTemplate)] as const),
        ),
      );
      const replicasOf = groupBy(replicaRows, (r) => r.deploymentId);

      const events: EventInput[] = [];
      const newRevisions: (typeof revisions.$inferInsert)[] = [];
      const newReplicas: (typeof replicas.$inferInsert)[] = [];
      const stopIds: string[] = [];
      const removeIds: string[] = [];
      const statusRows: { id: string; status: unknown; reconcile_at: string | null; progress_at: string }[] =
        [];
      const deleteDeploymentIds: string[] = [];
      const pending: PendingReplica[] = [];
      const groupCounts = new Map<string, Map<string, number>>();
      const decisions = new Map<string, { row: DeploymentRow; decision: Decision }>();

      for (const row of rows) {
        const own = replicasOf.get(row.id) ?? [];
        const history = revisionsOf.get(row.id) ?? [];
        const current = currentRevisionOf(row, history, hashes.get(row.id)!);
        if (current.created) {
          newRevisions.push(current.created);
          history.push({ ...current.created, id: 0, createdAt: now, availableAt: null } as RevisionRow);
          if (!row.deletedAt && history.length > 1) {
            events.push({
              namespace: row.namespace,
              objectKind: 'deployment',
              objectName: row.name,
              type: 'Normal',
              reason: 'NewRevision',
              message: `created revision ${current.number} for the new pod template`,
            });
          }
        }
        const decision = decideDeployment({
          now,
          deployment: row,
          revisions: history,
          currentRevision: current.number,
          replicas: own,
        });
        decisions.set(row.id, { row, decision });
        events.push(...decision.events);
        stopIds.push(...decision.stop);
        removeIds.push(...decision.remove);
        for (const r of own) if (decision.stop.includes(r.id) && r.nodeId) touchedNodes.add(r.nodeId);
        for (const r of own) if (decision.remove.includes(r.id) && r.nodeId) touchedNodes.add(r.nodeId);

        const key = `${row.namespace}/${row.name}`;
        const counts = new Map<string, number>();
        const removed = new Set([...decision.stop, ...decision.remove]);
        for (const r of own) {
          if (r.nodeId && r.desired === 'running' && !removed.has(r.id))
            counts.set(r.nodeId, (counts.get(r.nodeId) ?? 0) + 1);
        }
        groupCounts.set(key, counts);

        if (row.deletedAt) {
          if (own.length - decision.remove.length === 0) deleteDeploymentIds.push(row.id);
        }
        const templateOf = (revision: number) =>
          history.find((h) => h.revision === revision)?.template ?? (row.spec.template as PodTemplate);
        for (const c of decision.create) {
          const template = templateOf(c.revision);
          const requests = podRequests(template);
          for (let i = 0; i < c.count; i++) {
            const id = `${row.name}-${shortId(8)}`;
            newReplicas.push({
              id,
              deploymentId: row.id,
              namespace: row.namespace,
              deploymentName: row.name,
              revision: c.revision,
              desired: 'running',
              phase: 'Pending',
              requestCpuMillis: requests.cpuMillis,
              requestMemoryBytes: requests.memoryBytes,
              createdAt: now,
              updatedAt: now,
            });
            pending.push({
              replicaId: id,
              deploymentId: row.id,
              group: key,
              nodeSelector: template.spec.nodeSelector,
              requests,
              unsaved: true,
            });
          }
        }
        // Replicas that waited for room get another chance every time their deployment is looked at.
        for (const r of own) {
          if (r.nodeId === null && r.desired === 'running' && !removed.has(r.id)) {
            const template = templateOf(r.revision);
            pending.push({
              replicaId: r.id,
              deploymentId: row.id,
              group: key,
              nodeSelector: template.spec.nodeSelector,
              requests: { cpuMillis: r.requestCpuMillis, memoryBytes: r.requestMemoryBytes },
            });
          }
        }
      }

      if (newRevisions.length) await tx.insert(revisions).values(newRevisions).onConflictDoNothing();
      if (newReplicas.length) {
        // Each new replica's service variables are fixed now, from the services that exist now.
        const discovery = await loadDiscoveryServices(tx, [...new Set(newReplicas.map((r) => r.namespace))]);
        for (const r of newReplicas) r.serviceEnv = discoveryEnv(discovery.get(r.namespace), now, new Set());
      }
      if (removeIds.length) await tx.delete(replicas).where(inArray(replicas.id, removeIds));
      if (stopIds.length) {
        await tx
          .update(replicas)
          .set({ desired: 'stopped', phase: 'Terminating', stoppedAt: now, updatedAt: now })
          .where(inArray(replicas.id, stopIds));
      }

      const placement = await placePending(tx, pending, groupCounts, now, deps.config.nodeGraceSeconds);
      await insertReplicas(tx, newReplicas, placement, now);
      for (const p of placement.placed) touchedNodes.add(p.nodeId);
      const placedBy = groupBy(placement.placed, (p) => p.deploymentId);
      const unplacedBy = groupBy(placement.unplaced, (p) => p.deploymentId);

      for (const { row, decision } of decisions.values()) {
        const placed = placedBy.get(row.id) ?? [];
        const unplaced = unplacedBy.get(row.id) ?? [];
        const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
          events.push({
            namespace: row.namespace,
            objectKind: 'deployment',
            objectName: row.name,
            type,
            reason,
            message,
          });
        if (placed.length) {
          const shown = placed.slice(0, 5).map((p) => `${p.replicaId} on ${p.nodeName}`);
          const more = placed.length > 5 ? ` and ${placed.length - 5} more` : '';
          event(
            'Normal',
            'Scheduled',
            `placed ${placed.length} replica${placed.length > 1 ? 's' : ''}: ${shown.join(', ')}${more}`,
          );
        }
        const news = unplaced.filter((u) => u.news);
        if (news.length) {
          event(
            'Warning',
            'FailedScheduling',
            `${unplaced.length} replica${unplaced.length > 1 ? 's' : ''} could not be placed: ${news[0]!.reason}`,
          );
        }
        let reconcileAt = decision.reconcileAt;
        // Unplaced replicas are retried soon (a node may free up without telling this deployment).
        if (unplaced.length) reconcileAt = earliest(reconcileAt, new Date(now.getTime() + 5000));
        if (row.deletedAt) continue;
        statusRows.push({
          id: row.id,
          status: decision.status,
          reconcile_at: reconcileAt?.toISOString() ?? null,
          progress_at: decision.progressAt.toISOString(),
        });
        if (decision.rollbackTo) {
          await tx
            .update(deployments)
            .set({
              spec: { ...row.spec, template: decision.rollbackTo.template },
              generation: row.generation + 1,
              resourceVersion: row.resourceVersion + 1,
              updatedAt: now,
            })
            .where(eq(deployments.id, row.id));
        }
        if (decision.markAvailable !== undefined) {
          await tx
            .update(revisions)
            .set({ availableAt: now })
            .where(and(eq(revisions.deploymentId, row.id), eq(revisions.revision, decision.markAvailable)));
        }
        if (decision.pruneRevisions.length)
          await tx.delete(revisions).where(inArray(revisions.id, decision.pruneRevisions));
      }
      if (statusRows.length) {
        await tx.execute(sql`
        update deployments d set status = v.status, reconcile_at = v.reconcile_at, progress_at = v.progress_at
        from jsonb_to_recordset(${JSON.stringify(statusRows)}::jsonb)
          as v(id uuid, status jsonb, reconcile_at timestamptz, progress_at timestamptz)
        where d.id = v.id`);
      }
      for (const row of rows) {
        if (row.deletedAt && !deleteDeploymentIds.includes(row.id)) {
          const d = decisions.get(row.id)!.decision;
          await tx.update(deployments).set({ reconcileAt: d.reconcileAt }).where(eq(deployments.id, row.id));
        }
      }
      if (deleteDeploymentIds.length)
        await tx.delete(deployments).where(inArray(deployments.id, deleteDeploymentIds));
      await bumpAssignments(tx, touchedNodes);
      await recordEvents(tx, events, now);
      return {
        deployments: rows.length,
        placements: placement.placed.length,
        full: !selection.ids && rows.length === limit,
        ids,
      };
    }),
  );
  if (touchedNodes.size) {
    await deps
      .publishAssignments?.([...touchedNodes])
      .catch((e) => deps.log.warn('notify failed', { error: String(e) }));
  }
  return { ...result, wokenAgain: await wokenAgain(deps.db, result.ids) };
}

/** The revision of the deployment's current template: an existing one with the same hash, or a new number. */
function currentRevisionOf(
  row: DeploymentRow,
  history: RevisionRow[],
  hash: string,
): { number: number; created?: typeof revisions.$inferInsert } {
  const template = row.spec.template as PodTemplate;
  const existing = history.find((h) => h.templateHash === hash);
  if (existing) return { number: existing.revision };
  const number = Math.max(0, ...history.map((h) => h.revision)) + 1;
  return { number, created: { deploymentId: row.id, revision: number, templateHash: hash, template } };
}

/**
 * New replicas go in once their placement is known, already on their node (or with the reason
 * they wait), so no second write touches them. One statement with the rows as a JSON parameter:
 * building a many-row VALUES list costs far more CPU than the insert itself.
 */
async function insertReplicas(
  tx: Database,
  created: (typeof replicas.$inferInsert)[],
  placement: PlacementOutcome,
  now: Date,
): Promise<void> {
  if (created.length === 0) return;
  const nodeOf = new Map(placement.placed.map((p) => [p.replicaId, p.nodeId]));
  const reasonOf = new Map(placement.unplaced.map((u) => [u.replicaId, u.reason]));
  for (const chunk of chunks(created, 5000)) {
    const rows = chunk.map((r) => ({
      id: r.id,
      deployment_id: r.deploymentId,
      namespace: r.namespace,
      deployment_name: r.deploymentName,
      revision: r.revision,
      node_id: nodeOf.get(r.id) ?? null,
      phase: nodeOf.has(r.id) ? 'Scheduled' : 'Pending',
      message: reasonOf.get(r.id) ?? null,
      request_cpu_millis: r.requestCpuMillis,
      request_memory_bytes: r.requestMemoryBytes,
      service_env: r.serviceEnv ?? null,
    }));
    await tx.execute(sql`
      insert into replicas (id, deployment_id, namespace, deployment_name, revision, node_id, desired, phase,
                            message, request_cpu_millis, request_memory_bytes, service_env, created_at, updated_at)
      select v.id, v.deployment_id, v.namespace, v.deployment_name, v.revision, v.node_id, 'running', v.phase,
             v.message, v.request_cpu_millis, v.request_memory_bytes, v.service_env, ${now}, ${now}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, deployment_id uuid, namespace text,
        deployment_name text, revision int, node_id uuid, phase text, message text, request_cpu_millis int,
        request_memory_bytes bigint, service_env jsonb)`);
  }
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function earliest(a: Date | null, b: Date): Date {
  return a && a.getTime() < b.getTime() ? a : b;
}

export type { ReplicaRow };
