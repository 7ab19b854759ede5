import { placementSelector } from '../../common/agent-features.ts';
import type { PodTemplate } from '../../common/deployment.ts';
import { podScalars, type Scalars } from '../../common/extended-resources.ts';
import { podHostPorts, podRequests } from '../../common/pod-requests.ts';
import type { deployments, replicas, revisions } from '../../db/schema/index.ts';
import { asJobRow, jobPodLabels } from '../kinds/job.ts';
import type { EventInput } from '../store/events.ts';
import { podClaims } from './claim-placement.ts';
import { type Decision, decideDeployment } from './deployment-decision.ts';
import { decideJob, type JobDecision } from './job-decision.ts';
import type { PendingReplica, PlacementOutcome } from './placement.ts';
import { hasRules } from './scheduling-rules.ts';

/**
 * One reconcile batch as pure steps around the one decision that needs the database under its
 * lock, placement:
 *
 *   load (reconciler) ─► planBatch ─► place (placement.ts) ─► settleBatch ─► write (reconciler)
 *
 * `planBatch` decides per deployment (revisions, replicas to create, stop and remove, what waits
 * for a place); `settleBatch` turns the placement's outcome into statuses, due times, events and
 * the follow-up writes. Both read plain rows and return plain data, so they are tested like the
 * scheduler and the rollout planner are.
 */

export type DeploymentRow = typeof deployments.$inferSelect;
export type ReplicaRow = typeof replicas.$inferSelect;
export type RevisionRow = typeof revisions.$inferSelect;
export type NewRevision = typeof revisions.$inferInsert;

/** A replica to insert once its placement is known (see reconciler's insertReplicas). */
export interface NewReplica {
  id: string;
  deploymentId: string;
  namespace: string;
  deploymentName: string;
  revision: number;
  requestCpuMillis: number;
  requestMemoryBytes: number;
  /** Host ports it publishes on its node ("8080/TCP"), from its revision's template. */
  requestHostPorts: string[];
  /** Its ephemeral-storage and extended resources (common/extended-resources.ts); absent: none. */
  requestScalars?: Scalars;
  /** false when its template sets enableServiceLinks: false (no Kubernetes service variables). */
  serviceLinks?: false;
  /** An Indexed Job's pod: its index. */
  completionIndex?: number;
}

/** What the controller decided for one workload: a Deployment's rollout or a Job's run. */
export type WorkloadDecision =
  | (Decision & { finish?: undefined; expire?: undefined })
  | (JobDecision & { rollbackTo?: undefined; markAvailable?: undefined });

/** What a batch read under its locks. */
export interface BatchState {
  now: Date;
  rows: DeploymentRow[];
  revisionsOf: Map<string, RevisionRow[]>;
  replicasOf: Map<string, ReplicaRow[]>;
  /** Hash of each deployment's current template, by deployment id. */
  hashes: Map<string, string>;
}

export interface BatchPlan {
  newRevisions: NewRevision[];
  newReplicas: NewReplica[];
  stopIds: string[];
  removeIds: string[];
  pending: PendingReplica[];
  /** Per deployment (`namespace/name`), its running replicas per node, for spreading. */
  groupCounts: Map<string, Map<string, number>>;
  decisions: Map<string, { row: DeploymentRow; decision: WorkloadDecision }>;
  /** A Job's pods counted in its status now (replicas.finished_at). */
  finishIds: string[];
  /** Nodes whose desired set changes (their assignment version is bumped). */
  touchedNodes: Set<string>;
  /** Deleted deployments whose last replicas go in this batch. */
  deleteIds: string[];
  events: EventInput[];
}

/** Decide every deployment of the batch. `newReplicaId` names a new replica of a deployment. */
export function planBatch(state: BatchState, newReplicaId: (deploymentName: string) => string): BatchPlan {
  const { now } = state;
  const plan: BatchPlan = {
    newRevisions: [],
    newReplicas: [],
    stopIds: [],
    removeIds: [],
    pending: [],
    groupCounts: new Map(),
    decisions: new Map(),
    touchedNodes: new Set(),
    deleteIds: [],
    finishIds: [],
    events: [],
  };
  for (const row of state.rows) {
    const own = state.replicasOf.get(row.id) ?? [];
    const history = [...(state.revisionsOf.get(row.id) ?? [])];
    const current = currentRevisionOf(row, history, state.hashes.get(row.id)!);
    if (current.created) {
      plan.newRevisions.push(current.created);
      history.push({ ...current.created, id: 0, createdAt: now, availableAt: null } as RevisionRow);
      if (!row.deletedAt && history.length > 1) {
        plan.events.push(
          deploymentEvent(
            row,
            'Normal',
            'NewRevision',
            `created revision ${current.number} for the new pod template`,
          ),
        );
      }
    }
    const decision: WorkloadDecision =
      row.kind === 'Job'
        ? decideJob({ now, job: asJobRow(row), revision: current.number, replicas: own })
        : decideDeployment({
            now,
            deployment: row,
            revisions: history,
            currentRevision: current.number,
            replicas: own,
          });
    plan.decisions.set(row.id, { row, decision });
    plan.finishIds.push(...(decision.finish ?? []));
    plan.events.push(...decision.events);
    plan.stopIds.push(...decision.stop);
    plan.removeIds.push(...decision.remove);
    const removed = new Set([...decision.stop, ...decision.remove]);
    for (const r of own) if (removed.has(r.id) && r.nodeId) plan.touchedNodes.add(r.nodeId);

    const key = `${row.namespace}/${row.name}`;
    const counts = new Map<string, number>();
    for (const r of own) {
      if (r.nodeId && r.desired === 'running' && !removed.has(r.id))
        counts.set(r.nodeId, (counts.get(r.nodeId) ?? 0) + 1);
    }
    plan.groupCounts.set(key, counts);
    if (row.deletedAt && own.length === decision.remove.length) plan.deleteIds.push(row.id);

    const templateOf = (revision: number) =>
      history.find((h) => h.revision === revision)?.template ?? podTemplateOf(row);
    for (const c of decision.create) {
      const template = templateOf(c.revision);
      const requests = podRequests(template);
      const hostPorts = podHostPorts(template);
      const scalars = podScalars(template.spec);
      const identity = podIdentity(row, template);
      for (let i = 0; i < c.count; i++) {
        const index = 'indexes' in c ? c.indexes?.[i] : undefined;
        const id = newReplicaId(index === undefined ? row.name : `${row.name}-${index}`);
        plan.newReplicas.push({
          id,
          deploymentId: row.id,
          namespace: row.namespace,
          deploymentName: row.name,
          revision: c.revision,
          requestCpuMillis: requests.cpuMillis,
          requestMemoryBytes: requests.memoryBytes,
          requestHostPorts: hostPorts,
          ...(scalars ? { requestScalars: scalars } : {}),
          ...(template.spec.enableServiceLinks === false ? { serviceLinks: false as const } : {}),
          ...(index !== undefined ? { completionIndex: index } : {}),
        });
        plan.pending.push({
          replicaId: id,
          deploymentId: row.id,
          group: key,
          nodeSelector: placementSelector(template.spec),
          requests,
          hostPorts,
          ...(scalars ? { scalars } : {}),
          ...identity,
          unsaved: true,
        });
      }
    }
    // Replicas that waited for room get another chance every time their deployment is looked at.
    for (const r of own) {
      if (r.nodeId === null && r.desired === 'running' && !removed.has(r.id)) {
        plan.pending.push({
          replicaId: r.id,
          deploymentId: row.id,
          group: key,
          nodeSelector: placementSelector(templateOf(r.revision).spec),
          requests: { cpuMillis: r.requestCpuMillis, memoryBytes: r.requestMemoryBytes },
          hostPorts: r.requestHostPorts,
          ...(r.requestScalars ? { scalars: r.requestScalars } : {}),
          ...podIdentity(row, templateOf(r.revision)),
        });
      }
    }
  }
  return plan;
}

/**
 * What pod affinity and spread see of a replica, and its own scheduling fields (the spec holds
 * them), left out when it has none: the scheduler then takes its plain path without looking.
 */
function podIdentity(row: DeploymentRow, template: PodTemplate) {
  const scheduling = hasRules(template.spec) ? template.spec : undefined;
  const claims = podClaims(template.spec);
  return {
    namespace: row.namespace,
    labels: template.metadata.labels,
    ...(scheduling ? { scheduling } : {}),
    ...(claims.length ? { claims } : {}),
  };
}

/** The writes that follow placement, per deployment. */
export interface BatchSettlement {
  statusRows: { id: string; status: unknown; reconcile_at: string | null; progress_at: string }[];
  /** autoRollback: these deployments get an earlier revision's template back. */
  rollbacks: { row: DeploymentRow; template: PodTemplate }[];
  markAvailable: { deploymentId: string; revision: number }[];
  pruneRevisions: number[];
  /** Deleted deployments still stopping replicas: when to look again. */
  deletedDue: { id: string; reconcileAt: Date | null }[];
  /** Deleted deployments with nothing left: their rows go. */
  deleteIds: string[];
  /** Jobs past their ttlSecondsAfterFinished: deleted now, as by a user. */
  expireIds: string[];
  events: EventInput[];
}

/** Unplaced replicas are retried this soon (a node may free up without telling their deployment). */
const UNPLACED_RETRY_MS = 5000;

export function settleBatch(plan: BatchPlan, placement: PlacementOutcome, now: Date): BatchSettlement {
  const out: BatchSettlement = {
    statusRows: [],
    rollbacks: [],
    markAvailable: [],
    pruneRevisions: [],
    deletedDue: [],
    deleteIds: [],
    expireIds: [],
    events: [],
  };
  const placedBy = groupBy(placement.placed, (p) => p.deploymentId);
  const unplacedBy = groupBy(placement.unplaced, (p) => p.deploymentId);

  for (const { row, decision } of plan.decisions.values()) {
    const placed = placedBy.get(row.id) ?? [];
    const unplaced = unplacedBy.get(row.id) ?? [];
    if (placed.length) {
      const shown = placed.slice(0, 5).map((p) => `${p.replicaId} on ${p.nodeName}`);
      const more = placed.length > 5 ? ` and ${placed.length - 5} more` : '';
      out.events.push(
        deploymentEvent(
          row,
          'Normal',
          'Scheduled',
          `placed ${placed.length} replica${placed.length > 1 ? 's' : ''}: ${shown.join(', ')}${more}`,
        ),
      );
    }
    const news = unplaced.filter((u) => u.news);
    if (news.length) {
      out.events.push(
        deploymentEvent(
          row,
          'Warning',
          'FailedScheduling',
          `${unplaced.length} replica${unplaced.length > 1 ? 's' : ''} could not be placed: ${news[0]!.reason}`,
        ),
      );
    }
    if (row.deletedAt) {
      if (plan.deleteIds.includes(row.id)) out.deleteIds.push(row.id);
      else out.deletedDue.push({ id: row.id, reconcileAt: decision.reconcileAt });
      continue;
    }
    let reconcileAt = decision.reconcileAt;
    if (unplaced.length) reconcileAt = earliest(reconcileAt, new Date(now.getTime() + UNPLACED_RETRY_MS));
    out.statusRows.push({
      id: row.id,
      status: decision.status,
      reconcile_at: reconcileAt?.toISOString() ?? null,
      progress_at: decision.progressAt.toISOString(),
    });
    if (decision.expire) out.expireIds.push(row.id);
    if (decision.rollbackTo)
      out.rollbacks.push({ row, template: decision.rollbackTo.template as PodTemplate });
    if (decision.markAvailable !== undefined)
      out.markAvailable.push({ deploymentId: row.id, revision: decision.markAvailable });
    out.pruneRevisions.push(...decision.pruneRevisions);
  }
  return out;
}

/** The revision of the deployment's current template: an existing one with the same hash, or a new number. */
export function currentRevisionOf(
  row: DeploymentRow,
  history: RevisionRow[],
  hash: string,
): { number: number; created?: NewRevision } {
  const template = podTemplateOf(row);
  const existing = history.find((h) => h.templateHash === hash);
  if (existing) return { number: existing.revision };
  const number = Math.max(0, ...history.map((h) => h.revision)) + 1;
  return { number, created: { deploymentId: row.id, revision: number, templateHash: hash, template } };
}

/**
 * The template a workload's pods are made from: a Job's carries the labels naming the Job, as
 * Kubernetes adds them (selectors and `berth logs job/NAME` find its pods by them).
 */
export function podTemplateOf(row: DeploymentRow): PodTemplate {
  const template = row.spec.template as PodTemplate;
  if (row.kind !== 'Job') return template;
  return {
    ...template,
    metadata: { ...template.metadata, labels: { ...template.metadata.labels, ...jobPodLabels(row.name) } },
  };
}

function deploymentEvent(
  row: DeploymentRow,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): EventInput {
  return { namespace: row.namespace, objectKind: 'deployment', objectName: row.name, type, reason, message };
}

export function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function earliest(a: Date | null, b: Date): Date {
  return a && a.getTime() < b.getTime() ? a : b;
}
