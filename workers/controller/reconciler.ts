import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import { errorChain } from '../../common/error-chain.ts';
import { defaultMemoryLimit } from '../../common/policy.ts';
import type { Database } from '../../db/database.ts';
import { retryOnConflict } from '../../db/retry.ts';
import { deployments, replicas, revisions } from '../../db/schema/index.ts';
import type { ReconcileTrigger } from '../app-context.ts';
import { shortId } from '../crypto.ts';
import { bumpAssignments } from '../store/assignments.ts';
import { finishClaimDeletions } from '../store/claim-deletions.ts';
import { type DiscoveryService, discoveryEnv, loadDiscoveryServices } from '../store/discovery.ts';
import { recordEvents } from '../store/events.ts';
import { finishNamespaceDeletions } from '../store/namespaces.ts';
import { loadPolicies } from '../store/policies.ts';
import { consumeWakeups, forgetOrphanWakeups, promoteWakeups, wokenAgain } from '../store/wakeups.ts';
import {
  type BatchPlan,
  type BatchSettlement,
  type BatchState,
  groupBy,
  type NewReplica,
  planBatch,
  podTemplateOf,
  type ReplicaRow,
  settleBatch,
} from './batch-plan.ts';
import { runCronJobs } from './cron-jobs.ts';
import type { ControllerDeps } from './deps.ts';
import { sweepNodes } from './node-sweep.ts';
import { type PlacementOutcome, placePending } from './placement.ts';
import { backfillServiceAddresses } from './service-backfill.ts';
import { templateHash } from './template-hash.ts';

export interface TickResult {
  deployments: number;
  placements: number;
  /** More deployments were due than one tick may take (Workers' CPU budget): continue later. */
  more: boolean;
  ms: number;
}

export type { ControllerDeps };

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
        .catch((e) => deps.log.warn('reconcile failed; the next tick retries', { error: errorChain(e) }))
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
      // Deleted claims whose last replica went without its agent's report (a lost or deleted node).
      const released = await retryOnConflict(() => finishClaimDeletions(deps.db));
      if (released.length) await deps.publishAssignments?.(released).catch(() => undefined);
      // Namespaces being deleted whose last object went otherwise (a claim's volume released).
      await finishNamespaceDeletions(deps.db);
      await forgetOrphanWakeups(deps.db);
      await backfillServiceAddresses(deps);
      // CronJobs before the workloads: the Jobs they make now are due at once, in this same tick.
      await runCronJobs(deps);
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
      const state = await loadBatch(tx, selection, now, limit);
      if (state.rows.length === 0)
        return {
          deployments: 0,
          placements: 0,
          full: false,
          ids: [],
          jobsFinished: [] as string[],
          removedWorkloads: false,
        };
      const plan = planBatch(state, (name) => `${name}-${shortId(8)}`);
      const placement = await placePending(
        tx,
        plan.pending,
        plan.groupCounts,
        now,
        deps.config.nodeGraceSeconds,
      );
      const settled = settleBatch(plan, placement, now);
      await writeBatch(tx, plan, placement, settled, now);
      for (const id of plan.touchedNodes) touchedNodes.add(id);
      for (const p of placement.placed) touchedNodes.add(p.nodeId);
      await bumpAssignments(tx, touchedNodes);
      return {
        deployments: state.rows.length,
        placements: placement.placed.length,
        full: !selection.ids && state.rows.length === limit,
        ids: state.rows.map((r) => r.id),
        jobsFinished: plan.events
          .filter((e) => e.objectKind === 'job' && JOB_ENDINGS.has(e.reason))
          .map((e) => e.reason),
        removedWorkloads: settled.deleteIds.length > 0,
      };
    }),
  );
  // Counted once committed: a transaction retried after a conflict decides again.
  for (const reason of result.jobsFinished)
    deps.metrics?.inc('berth_jobs_finished_total', 'Jobs that finished, by the reason of their condition', {
      reason,
    });
  // A deleted workload's row went with its last replica: its namespace, if being deleted, may now go.
  if (result.removedWorkloads) await finishNamespaceDeletions(deps.db);
  if (touchedNodes.size) {
    await deps
      .publishAssignments?.([...touchedNodes])
      .catch((e) => deps.log.warn('notify failed', { error: errorChain(e) }));
  }
  return { ...result, wokenAgain: await wokenAgain(deps.db, result.ids) };
}

/** The reasons a Job's decision gives when it finishes (its Complete or Failed condition). */
const JOB_ENDINGS = new Set(['Completed', 'BackoffLimitExceeded', 'DeadlineExceeded']);

/** Lock the batch's deployments (skipping those another run holds, unless asked to wait) and read their state. */
async function loadBatch(
  tx: Database,
  selection: { ids?: string[]; due?: boolean; waitForLocks?: boolean },
  now: Date,
  limit: number,
): Promise<BatchState> {
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
  if (rows.length === 0)
    return { now, rows, revisionsOf: new Map(), replicasOf: new Map(), hashes: new Map() };
  const ids = rows.map((r) => r.id);
  await consumeWakeups(tx, ids);
  const revisionRows = await tx.select().from(revisions).where(inArray(revisions.deploymentId, ids));
  const replicaRows = await tx.select().from(replicas).where(inArray(replicas.deploymentId, ids));
  // Hashed side by side: WebCrypto digests are asynchronous, one at a time they cost a round trip each.
  const hashes = new Map(
    await Promise.all(rows.map(async (r) => [r.id, await templateHash(podTemplateOf(r))] as const)),
  );
  return {
    now,
    rows,
    revisionsOf: groupBy(revisionRows, (r) => r.deploymentId),
    replicasOf: groupBy(replicaRows, (r) => r.deploymentId),
    hashes,
  };
}

/** Write what the batch decided (its deployments are locked already; replicas, then revisions, then them). */
async function writeBatch(
  tx: Database,
  plan: BatchPlan,
  placement: PlacementOutcome,
  settled: BatchSettlement,
  now: Date,
): Promise<void> {
  if (plan.newRevisions.length) await tx.insert(revisions).values(plan.newRevisions).onConflictDoNothing();
  if (plan.removeIds.length) await tx.delete(replicas).where(inArray(replicas.id, plan.removeIds));
  if (plan.finishIds.length)
    await tx.update(replicas).set({ finishedAt: now }).where(inArray(replicas.id, plan.finishIds));
  if (plan.stopIds.length) {
    await tx
      .update(replicas)
      .set({ desired: 'stopped', phase: 'Terminating', stoppedAt: now, updatedAt: now })
      .where(inArray(replicas.id, plan.stopIds));
  }
  // Each new replica's service variables and default memory limit are fixed now, from the
  // services and the namespace policy there are now (as Kubernetes fixes them at admission).
  const namespaces = [...new Set(plan.newReplicas.map((r) => r.namespace))];
  const discovery = namespaces.length
    ? await loadDiscoveryServices(tx, namespaces)
    : new Map<string, DiscoveryService[]>();
  const policies = await loadPolicies(tx, namespaces);
  await insertReplicas(
    tx,
    plan.newReplicas.map((r) => ({
      ...r,
      serviceEnv: discoveryEnv(discovery.get(r.namespace), now, new Set(), {
        serviceLinks: r.serviceLinks !== false,
      }),
      defaultMemoryLimitBytes: defaultMemoryLimit(policies.get(r.namespace)!),
    })),
    placement,
    now,
  );
  for (const { row, template } of settled.rollbacks) {
    await tx
      .update(deployments)
      .set({
        spec: { ...row.spec, template },
        generation: row.generation + 1,
        resourceVersion: row.resourceVersion + 1,
        updatedAt: now,
      })
      .where(eq(deployments.id, row.id));
  }
  for (const m of settled.markAvailable) {
    await tx
      .update(revisions)
      .set({ availableAt: now })
      .where(and(eq(revisions.deploymentId, m.deploymentId), eq(revisions.revision, m.revision)));
  }
  if (settled.pruneRevisions.length)
    await tx.delete(revisions).where(inArray(revisions.id, settled.pruneRevisions));
  if (settled.statusRows.length) {
    await tx.execute(sql`
      update deployments d set status = v.status, reconcile_at = v.reconcile_at, progress_at = v.progress_at
      from jsonb_to_recordset(${JSON.stringify(settled.statusRows)}::jsonb)
        as v(id uuid, status jsonb, reconcile_at timestamptz, progress_at timestamptz)
      where d.id = v.id`);
  }
  if (settled.expireIds.length)
    await tx
      .update(deployments)
      .set({ deletedAt: now, reconcileAt: now, resourceVersion: sql`${deployments.resourceVersion} + 1` })
      .where(inArray(deployments.id, settled.expireIds));
  for (const d of settled.deletedDue)
    await tx.update(deployments).set({ reconcileAt: d.reconcileAt }).where(eq(deployments.id, d.id));
  if (settled.deleteIds.length)
    await tx.delete(deployments).where(inArray(deployments.id, settled.deleteIds));
  await recordEvents(tx, [...plan.events, ...settled.events], now);
}

/**
 * New replicas go in once their placement is known, already on their node (or with the reason
 * they wait), so no second write touches them. One statement with the rows as a JSON parameter:
 * building a many-row VALUES list costs far more CPU than the insert itself.
 */
async function insertReplicas(
  tx: Database,
  created: (NewReplica & {
    serviceEnv: { name: string; value: string }[];
    defaultMemoryLimitBytes: number | undefined;
  })[],
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
      request_host_ports: r.requestHostPorts,
      request_scalars: r.requestScalars ?? null,
      service_env: r.serviceEnv ?? null,
      default_memory_limit_bytes: r.defaultMemoryLimitBytes ?? null,
      completion_index: r.completionIndex ?? null,
    }));
    await tx.execute(sql`
      insert into replicas (id, deployment_id, namespace, deployment_name, revision, node_id, desired, phase,
                            message, request_cpu_millis, request_memory_bytes, request_host_ports, service_env,
                            default_memory_limit_bytes, request_scalars, completion_index, created_at, updated_at)
      select v.id, v.deployment_id, v.namespace, v.deployment_name, v.revision, v.node_id, 'running', v.phase,
             v.message, v.request_cpu_millis, v.request_memory_bytes, v.request_host_ports, v.service_env,
             v.default_memory_limit_bytes, v.request_scalars, v.completion_index, ${now}, ${now}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, deployment_id uuid, namespace text,
        deployment_name text, revision int, node_id uuid, phase text, message text, request_cpu_millis int,
        request_memory_bytes bigint, request_host_ports text[], service_env jsonb, default_memory_limit_bytes bigint,
        request_scalars jsonb, completion_index int)`);
  }
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export type { ReplicaRow };
