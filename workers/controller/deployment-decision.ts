import type { DeploymentCondition, DeploymentStatus } from '../../db/schema/deployments.ts';
import type { deployments, replicas, revisions } from '../../db/schema/index.ts';
import type { EventInput } from '../store/events.ts';
import { type PlannerReplica, planRollout, rollingBounds } from './rollout-planner.ts';

type DeploymentRow = typeof deployments.$inferSelect;
type ReplicaRow = typeof replicas.$inferSelect;
type RevisionRow = typeof revisions.$inferSelect;

export interface DecisionInput {
  now: Date;
  deployment: DeploymentRow;
  revisions: RevisionRow[];
  currentRevision: number;
  replicas: ReplicaRow[];
}

export interface Decision {
  create: { revision: number; count: number }[];
  /** Placed replicas to tell their agent to stop. */
  stop: string[];
  /** Rows to delete: never placed, or on a lost node (nothing there can confirm a stop). */
  remove: string[];
  status: DeploymentStatus;
  progressAt: Date;
  /** Next time the controller must look without being asked; null when settled. */
  reconcileAt: Date | null;
  /** autoRollback: the revision whose template to put back. */
  rollbackTo?: RevisionRow;
  /** Revision that just became fully available (the target of later auto-rollbacks). */
  markAvailable?: number;
  pruneRevisions: number[];
  events: EventInput[];
}

/** A safety recheck while waiting on agents: their reports normally wake the controller first. */
const WAITING_RECHECK_MS = 10_000;

/**
 * Everything the controller decides for one deployment, from plain rows: the rollout plan,
 * status and conditions, deadline and auto-rollback, history pruning, events. Pure: the
 * reconciler does the reading and writing.
 */
export function decideDeployment(input: DecisionInput): Decision {
  const { now, deployment: d, currentRevision } = input;
  const event = (type: 'Normal' | 'Warning', reason: string, message: string): EventInput => ({
    namespace: d.namespace,
    objectKind: 'deployment',
    objectName: d.name,
    type,
    reason,
    message,
  });
  const events: EventInput[] = [];
  const previous = d.status;

  if (d.deletedAt) return decideDeleted(input);

  // An evicted replica (its agent stopped it: an emptyDir past its sizeLimit) is gone for good, as
  // Kubernetes' ReplicaSet counts a Failed pod: replaced, and told to stop.
  const evicted = input.replicas.filter((r) => r.desired === 'running' && isEvicted(r));
  const pods: PlannerReplica[] = input.replicas.map((r) => ({
    id: r.id,
    // A draining replica is replaced like one of an older revision, within the same bounds.
    revision: r.draining ? -1 : r.revision,
    desired: evicted.includes(r) ? 'stopped' : r.desired,
    phase: r.phase,
    nodeId: r.nodeId,
    ready: r.ready,
    readySince: r.readySince?.getTime() ?? null,
    createdAt: r.createdAt.getTime(),
  }));
  const plan = planRollout({
    now: now.getTime(),
    replicas: d.spec.replicas,
    strategy: d.spec.strategy,
    minReadySeconds: d.spec.minReadySeconds,
    currentRevision,
    paused: d.spec.paused,
    pods,
  });

  const byId = new Map(input.replicas.map((r) => [r.id, r]));
  const stop: string[] = evicted.map((r) => r.id);
  const remove: string[] = [];
  for (const r of evicted) events.push(event('Warning', 'Evicted', `replica ${r.id}: ${r.message}`));
  for (const id of plan.stop) {
    const r = byId.get(id);
    if (!r) continue;
    if (r.nodeId === null || r.phase === 'Lost') remove.push(id);
    else stop.push(id);
    if (r.phase === 'Lost') {
      events.push(event('Normal', 'ReplicaReplaced', `replica ${r.id} on a lost node was replaced`));
    }
  }
  const created = plan.create.filter((c) => c.count > 0);
  for (const c of created) {
    events.push(event('Normal', 'ScalingReplicaSet', `scaled up revision ${c.revision} by ${c.count}`));
  }
  const stoppedByRevision = new Map<number, number>();
  for (const id of plan.stop) {
    const rev = byId.get(id)?.revision ?? 0;
    stoppedByRevision.set(rev, (stoppedByRevision.get(rev) ?? 0) + 1);
  }
  for (const [rev, count] of stoppedByRevision) {
    events.push(event('Normal', 'ScalingReplicaSet', `scaled down revision ${rev} by ${count}`));
  }

  // Progress, Kubernetes-style: a rollout progresses when replicas are created or scaled down,
  // or when more of them become available. The deadline counts from the last progress.
  const fingerprint = (s: { updatedReplicas: number; availableReplicas: number; replicas: number }) =>
    `${s.updatedReplicas}/${s.availableReplicas}/${s.replicas}`;
  const progressed =
    created.length > 0 ||
    plan.stop.length > 0 ||
    !previous ||
    previous.revision !== currentRevision ||
    fingerprint(previous) !== fingerprint(plan.status);
  let progressAt = progressed ? now : (d.progressAt ?? now);
  if (plan.complete) progressAt = d.progressAt ?? now;

  const deadlineMs = d.spec.progressDeadlineSeconds * 1000;
  const previousProgressing = previous?.conditions.find((c) => c.type === 'Progressing');
  const wasExceeded = previousProgressing?.reason === 'ProgressDeadlineExceeded';
  const exceeded =
    !plan.complete &&
    !d.spec.paused &&
    (now.getTime() - progressAt.getTime() > deadlineMs || (wasExceeded && !progressed));

  let progressing: Omit<DeploymentCondition, 'lastTransitionTime' | 'lastUpdateTime'>;
  if (plan.complete) {
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: 'NewRevisionAvailable',
      message: `revision ${currentRevision} is available (${plan.status.availableReplicas}/${d.spec.replicas} replicas)`,
    };
  } else if (d.spec.paused) {
    progressing = {
      type: 'Progressing',
      status: 'False',
      reason: 'DeploymentPaused',
      message: 'rollout is paused',
    };
  } else if (exceeded) {
    progressing = {
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `revision ${currentRevision} made no progress for ${d.spec.progressDeadlineSeconds}s (${plan.status.availableReplicas}/${d.spec.replicas} available)`,
    };
  } else {
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: previous?.revision === currentRevision ? 'ReplicaSetUpdated' : 'NewReplicaSetCreated',
      message: `rolling out revision ${currentRevision}: ${plan.status.updatedReplicas} updated, ${plan.status.availableReplicas} available of ${d.spec.replicas}`,
    };
  }
  const { maxUnavailable } = rollingBounds(d.spec.replicas, d.spec.strategy);
  const available: Omit<DeploymentCondition, 'lastTransitionTime' | 'lastUpdateTime'> = plan.available
    ? {
        type: 'Available',
        status: 'True',
        reason: 'MinimumReplicasAvailable',
        message: `${plan.status.availableReplicas} of ${d.spec.replicas} replicas available (minimum ${Math.max(0, d.spec.replicas - maxUnavailable)})`,
      }
    : {
        type: 'Available',
        status: 'False',
        reason: 'MinimumReplicasUnavailable',
        message: `${plan.status.availableReplicas} of ${d.spec.replicas} replicas available (minimum ${Math.max(0, d.spec.replicas - maxUnavailable)})`,
      };
  const conditions = [available, progressing].map((c) => withTimes(c, previous?.conditions, now));

  if (plan.complete && previousProgressing?.reason !== 'NewRevisionAvailable') {
    events.push(
      event(
        'Normal',
        'RolloutComplete',
        `revision ${currentRevision} rolled out: ${d.spec.replicas} replicas available`,
      ),
    );
  }
  let rollbackTo: RevisionRow | undefined;
  if (exceeded && !wasExceeded) {
    events.push(event('Warning', 'ProgressDeadlineExceeded', progressing.message));
    if (d.spec.autoRollback) {
      rollbackTo = input.revisions
        .filter((r) => r.availableAt !== null && r.revision !== currentRevision)
        .sort((a, b) => b.availableAt!.getTime() - a.availableAt!.getTime())[0];
      events.push(
        rollbackTo
          ? event(
              'Warning',
              'RolledBack',
              `rolled back from revision ${currentRevision} to revision ${rollbackTo.revision} (autoRollback)`,
            )
          : event(
              'Warning',
              'RollbackSkipped',
              'autoRollback found no earlier revision that was fully available',
            ),
      );
    }
  }

  const status: DeploymentStatus = {
    observedGeneration: d.generation,
    ...plan.status,
    revision: currentRevision,
    conditions,
  };

  const current = input.revisions.find((r) => r.revision === currentRevision);
  const markAvailable =
    plan.complete && current && current.availableAt === null ? currentRevision : undefined;

  // History: keep the current revision, every revision with replicas, and the newest
  // `revisionHistoryLimit` others.
  const withReplicas = new Set(input.replicas.map((r) => r.revision));
  const prunable = input.revisions
    .filter((r) => r.revision !== currentRevision && !withReplicas.has(r.revision))
    .sort((a, b) => b.revision - a.revision);
  const pruneRevisions = prunable.slice(d.spec.revisionHistoryLimit).map((r) => r.id);

  const waitingOnAgents =
    !plan.complete ||
    input.replicas.some((r) => r.desired === 'stopped') ||
    plan.stop.length > 0 ||
    created.length > 0 ||
    input.replicas.some((r) => r.nodeId === null);
  const candidates = [plan.recheckAt ?? Number.POSITIVE_INFINITY];
  if (waitingOnAgents) candidates.push(now.getTime() + WAITING_RECHECK_MS);
  if (!plan.complete && !d.spec.paused && !exceeded) candidates.push(progressAt.getTime() + deadlineMs + 1);
  if (rollbackTo) candidates.push(now.getTime());
  const next = Math.min(...candidates);

  return {
    create: created,
    stop,
    remove,
    status,
    progressAt: rollbackTo ? now : progressAt,
    reconcileAt: Number.isFinite(next) ? new Date(next) : null,
    ...(rollbackTo ? { rollbackTo } : {}),
    ...(markAvailable !== undefined ? { markAvailable } : {}),
    pruneRevisions,
    events,
  };
}

function decideDeleted(input: DecisionInput): Decision {
  const stop: string[] = [];
  const remove: string[] = [];
  for (const r of input.replicas) {
    if (r.nodeId === null || r.phase === 'Lost') remove.push(r.id);
    else if (r.desired === 'running') stop.push(r.id);
  }
  const remaining = input.replicas.length - remove.length;
  return {
    create: [],
    stop,
    remove,
    status: input.deployment.status ?? emptyStatus(),
    progressAt: input.now,
    // Gone when no replica is left; until then, wait for agents to confirm their stops.
    reconcileAt: remaining === 0 ? null : new Date(input.now.getTime() + WAITING_RECHECK_MS),
    pruneRevisions: [],
    events: [],
  };
}

function emptyStatus(): DeploymentStatus {
  return {
    observedGeneration: 0,
    replicas: 0,
    updatedReplicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    unavailableReplicas: 0,
    revision: null,
    conditions: [],
  };
}

function withTimes(
  c: Omit<DeploymentCondition, 'lastTransitionTime' | 'lastUpdateTime'>,
  previous: DeploymentCondition[] | undefined,
  now: Date,
): DeploymentCondition {
  const before = previous?.find((p) => p.type === c.type);
  const same =
    before && before.status === c.status && before.reason === c.reason && before.message === c.message;
  return {
    ...c,
    lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now.toISOString(),
    lastUpdateTime: same ? before.lastUpdateTime : now.toISOString(),
  };
}

/** The agent's report of an evicted replica (agent/empty-dir-usage.ts): Failed, `Evicted: ...`. */
const isEvicted = (r: ReplicaRow) => r.phase === 'Failed' && (r.message ?? '').startsWith('Evicted: ');
