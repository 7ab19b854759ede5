import {
  finishedCondition,
  formatIndexes,
  type JobCondition,
  type JobStatus,
  parseIndexes,
} from '../../common/job.ts';
import type { replicas } from '../../db/schema/index.ts';
import type { JobRow } from '../kinds/job.ts';
import type { EventInput } from '../store/events.ts';

type ReplicaRow = typeof replicas.$inferSelect;

export interface JobDecisionInput {
  now: Date;
  job: JobRow;
  /** The revision of the Job's template (a Job has one: its template never changes). */
  revision: number;
  replicas: ReplicaRow[];
}

export interface JobDecision {
  /** New pods; an Indexed Job's carry their indexes (one pod per index). */
  create: { revision: number; count: number; indexes?: number[] }[];
  /** Placed pods to tell their agent to stop (a failed Job's, a suspended one's, a deleted one's). */
  stop: string[];
  /** Rows to delete: never placed, or on a lost node. */
  remove: string[];
  /** Pods counted in the status now (succeeded or failed): never counted again. */
  finish: string[];
  status: JobStatus;
  progressAt: Date;
  reconcileAt: Date | null;
  /** ttlSecondsAfterFinished has passed: the Job is deleted like one a user deleted. */
  expire: boolean;
  pruneRevisions: number[];
  events: EventInput[];
}

/** Kubernetes' pod failure backoff: 10 s, doubled per failure, at most 6 minutes. */
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 360_000;
/** A recheck while pods run: agents' reports normally wake the Job first. */
const RUNNING_RECHECK_MS = 10_000;

/**
 * Whether a pod has failed for good: a container exited non-zero and is not restarted, it was
 * evicted, or its node was lost. The agent reports a pod whose image it cannot pull as Failed too,
 * and keeps trying; that pod is still active, as Kubernetes' ImagePullBackOff pod is.
 */
function failedForGood(r: ReplicaRow): boolean {
  if (r.phase === 'Lost') return true;
  if (r.phase !== 'Failed') return false;
  return (
    (r.message ?? '').startsWith('Evicted: ') ||
    r.containers.some((c) => c.state === 'terminated' && (c.exitCode ?? 0) !== 0)
  );
}

/**
 * Everything the controller decides for one Job, from plain rows, as Kubernetes' job controller
 * does: count the pods that finished since the last look (each counted once, by marking it
 * finished in the same write as the status), decide success or failure (completions reached, the
 * backoff limit passed, the active deadline passed), keep `parallelism` pods running with the
 * exponential backoff after failures, and expire a finished Job after its TTL. Pure.
 */
export function decideJob(input: JobDecisionInput): JobDecision {
  const { now, job } = input;
  const spec = job.spec;
  const event = (type: 'Normal' | 'Warning', reason: string, message: string): EventInput => ({
    namespace: job.namespace,
    objectKind: 'job',
    objectName: job.name,
    type,
    reason,
    message,
  });
  const events: EventInput[] = [];
  const previous = job.status;
  const status: JobStatus = {
    ...(previous ?? { active: 0, ready: 0, terminating: 0, succeeded: 0, failed: 0, conditions: [] }),
    conditions: [...(previous?.conditions ?? [])],
  };
  const out: JobDecision = {
    create: [],
    stop: [],
    remove: [],
    finish: [],
    status,
    progressAt: job.progressAt ?? now,
    reconcileAt: null,
    expire: false,
    pruneRevisions: [],
    events,
  };

  if (job.deletedAt) return decideDeleted(input, out);

  // Count what finished since the last look.
  const completed = new Set(parseIndexes(status.completedIndexes));
  for (const r of input.replicas) {
    if (r.finishedAt || r.desired !== 'running') continue;
    if (r.phase === 'Succeeded') {
      out.finish.push(r.id);
      status.succeeded++;
      if (r.completionIndex !== null) completed.add(r.completionIndex);
    } else if (failedForGood(r)) {
      // A pod on a lost node failed as far as the Job is concerned, and is replaced elsewhere.
      out.finish.push(r.id);
      status.failed++;
    }
  }
  if (spec.completionMode === 'Indexed') status.completedIndexes = formatIndexes(completed);
  const finishedNow = new Set(out.finish);
  const active = input.replicas.filter(
    (r) => !r.finishedAt && !finishedNow.has(r.id) && r.desired === 'running' && r.phase !== 'Succeeded',
  );
  const stopping = input.replicas.filter((r) => r.desired === 'stopped');

  let finished = finishedCondition(status);
  if (!finished && !spec.suspend) {
    const verdict = judge(input, status, active, completed);
    if (verdict) {
      finished = condition(verdict.type, verdict.reason, verdict.message, now);
      status.conditions = [...status.conditions.filter((c) => c.type !== 'Suspended'), finished];
      if (verdict.type === 'Complete') status.completionTime = now.toISOString();
      events.push(event(verdict.type === 'Complete' ? 'Normal' : 'Warning', verdict.reason, verdict.message));
    }
  }

  if (finished) {
    // Whatever still runs goes: a failed Job's pods, or the extra pods of a work queue.
    stopOrRemove(active, out);
    const ttl = spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) {
      const expiresAt = new Date(Date.parse(finished.lastTransitionTime) + ttl * 1000);
      if (now.getTime() >= expiresAt.getTime()) {
        out.expire = true;
        events.push(
          event('Normal', 'TTLExpired', `deleted ${ttl}s after it finished (ttlSecondsAfterFinished)`),
        );
        return decideDeleted(input, out);
      }
      out.reconcileAt = expiresAt;
    }
    if (out.stop.length)
      out.reconcileAt = earliest(out.reconcileAt, new Date(now.getTime() + RUNNING_RECHECK_MS));
    return withCounts(out, active, stopping);
  }

  if (spec.suspend) {
    // Kubernetes stops a suspended Job's pods and counts its deadline again from the resume.
    stopOrRemove(active, out);
    if (!status.conditions.some((c) => c.type === 'Suspended' && c.status === 'True')) {
      status.conditions = [
        ...status.conditions.filter((c) => c.type !== 'Suspended'),
        condition('Suspended', 'JobSuspended', 'Job suspended', now),
      ];
      events.push(event('Normal', 'Suspended', 'Job suspended'));
    }
    delete status.startTime;
    return withCounts(out, active, stopping);
  }

  if (status.conditions.some((c) => c.type === 'Suspended' && c.status === 'True')) {
    status.conditions = status.conditions.map((c) =>
      c.type === 'Suspended' ? condition('Suspended', 'JobResumed', 'Job resumed', now, 'False') : c,
    );
    events.push(event('Normal', 'Resumed', 'Job resumed'));
  }
  status.startTime ??= now.toISOString();

  // Keep `parallelism` pods running, after the backoff that follows failures.
  const wanted = podsWanted(input, status, active, completed);
  const backoffUntil = backoffEnd(input, status);
  if (wanted.count > 0) {
    if (backoffUntil && backoffUntil.getTime() > now.getTime()) out.reconcileAt = backoffUntil;
    else {
      out.create.push({
        revision: input.revision,
        count: wanted.count,
        ...(wanted.indexes ? { indexes: wanted.indexes } : {}),
      });
      events.push(
        event('Normal', 'SuccessfulCreate', `created ${wanted.count} pod${wanted.count > 1 ? 's' : ''}`),
      );
    }
  }
  if (spec.activeDeadlineSeconds !== undefined) {
    const deadline = new Date(Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000);
    out.reconcileAt = earliest(out.reconcileAt, deadline);
  }
  if (active.length || out.create.length)
    out.reconcileAt = earliest(out.reconcileAt, new Date(now.getTime() + RUNNING_RECHECK_MS));
  return withCounts(out, active, stopping, wanted.count);
}

/** Complete or Failed, with Kubernetes' reasons, or nothing yet. */
function judge(
  input: JobDecisionInput,
  status: JobStatus,
  active: ReplicaRow[],
  completed: Set<number>,
): { type: 'Complete' | 'Failed'; reason: string; message: string } | undefined {
  const { spec } = input.job;
  const startedAt = status.startTime ? Date.parse(status.startTime) : undefined;
  if (
    spec.activeDeadlineSeconds !== undefined &&
    startedAt !== undefined &&
    input.now.getTime() >= startedAt + spec.activeDeadlineSeconds * 1000
  )
    return {
      type: 'Failed',
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    };
  // With OnFailure a failing container restarts in its pod; each restart counts as a failure.
  const restarts =
    spec.template.spec.restartPolicy === 'OnFailure' ? active.reduce((n, r) => n + r.restartCount, 0) : 0;
  if (status.failed + restarts > spec.backoffLimit)
    return {
      type: 'Failed',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    };
  if (succeededEnough(input, status, active, completed))
    return { type: 'Complete', reason: 'Completed', message: 'Job completed' };
  return undefined;
}

function succeededEnough(
  input: JobDecisionInput,
  status: JobStatus,
  active: ReplicaRow[],
  completed: Set<number>,
): boolean {
  const { spec } = input.job;
  if (spec.completions === undefined) return status.succeeded > 0 && active.length === 0;
  if (spec.completionMode === 'Indexed') {
    for (let i = 0; i < spec.completions; i++) if (!completed.has(i)) return false;
    return true;
  }
  return status.succeeded >= spec.completions;
}

/** How many pods to start now, and for an Indexed Job which indexes (the lowest missing first). */
function podsWanted(
  input: JobDecisionInput,
  status: JobStatus,
  active: ReplicaRow[],
  completed: Set<number>,
): { count: number; indexes?: number[] } {
  const { spec } = input.job;
  const room = Math.max(0, spec.parallelism - active.length);
  if (spec.completions === undefined)
    // A work queue: once one pod has succeeded, the rest are finishing; none is added.
    return { count: status.succeeded > 0 ? 0 : room };
  if (spec.completionMode === 'Indexed') {
    const running = new Set(active.map((r) => r.completionIndex));
    const missing: number[] = [];
    for (let i = 0; i < spec.completions && missing.length < room; i++)
      if (!completed.has(i) && !running.has(i)) missing.push(i);
    return { count: missing.length, indexes: missing };
  }
  const remaining = Math.max(0, spec.completions - status.succeeded - active.length);
  return { count: Math.min(room, remaining) };
}

/**
 * When the next pod may start after failures: Kubernetes waits 10 s × 2^(failures − 1), at most
 * 6 minutes, from the newest failure. The failed pods' rows stay until the Job goes, so their
 * finish times are at hand.
 */
function backoffEnd(input: JobDecisionInput, status: JobStatus): Date | undefined {
  if (status.failed === 0) return undefined;
  let newest = 0;
  for (const r of input.replicas) {
    if (!r.finishedAt && !failedForGood(r)) continue;
    if (r.phase === 'Succeeded') continue;
    newest = Math.max(newest, (r.finishedAt ?? input.now).getTime());
  }
  if (newest === 0) return undefined;
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(status.failed - 1, 20));
  return new Date(newest + delay);
}

function decideDeleted(input: JobDecisionInput, out: JobDecision): JobDecision {
  for (const r of input.replicas) {
    if (r.nodeId === null || r.phase === 'Lost') out.remove.push(r.id);
    else if (r.desired === 'running') out.stop.push(r.id);
  }
  const remaining = input.replicas.length - out.remove.length;
  out.create = [];
  out.reconcileAt = remaining === 0 ? null : new Date(input.now.getTime() + RUNNING_RECHECK_MS);
  return out;
}

/** Active pods go: told to stop when placed, deleted when never placed or on a lost node. */
function stopOrRemove(active: ReplicaRow[], out: JobDecision): void {
  for (const r of active) {
    if (r.nodeId === null || r.phase === 'Lost') out.remove.push(r.id);
    else out.stop.push(r.id);
  }
}

function withCounts(
  out: JobDecision,
  active: ReplicaRow[],
  stopping: ReplicaRow[],
  created = 0,
): JobDecision {
  const leaving = new Set([...out.stop, ...out.remove]);
  const staying = active.filter((r) => !leaving.has(r.id));
  out.status.active = staying.length + created;
  out.status.ready = staying.filter((r) => r.ready).length;
  out.status.terminating = stopping.length + out.stop.length;
  return out;
}

function condition(
  type: JobCondition['type'],
  reason: string,
  message: string,
  now: Date,
  status: 'True' | 'False' = 'True',
): JobCondition {
  const at = now.toISOString();
  return { type, status, reason, message, lastProbeTime: at, lastTransitionTime: at };
}

function earliest(a: Date | null, b: Date): Date {
  return a && a.getTime() < b.getTime() ? a : b;
}
