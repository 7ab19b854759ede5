import type { ReplicaPhase } from '../../common/agent-protocol.ts';
import type { IntOrPercent, Strategy } from '../../common/deployment.ts';

/**
 * The rollout planner: Kubernetes' Deployment controller (sync, scale, rolloutRolling,
 * rolloutRecreate) as one pure function. A "ReplicaSet" here is the group of replicas of one
 * revision, and its size is the number of its alive replicas: creating a replica or telling one
 * to stop is how a ReplicaSet is scaled. No I/O and no clock: time comes in as `now`.
 *
 * A plan is where Kubernetes' controller would arrive after syncing again and again with no new
 * observation in between, so applying a plan and planning again on the result yields an empty plan
 * (until an agent reports something, the spec changes, or `recheckAt` passes).
 */

export interface PlannerReplica {
  id: string;
  revision: number;
  /** stopped = already told to stop: it is going away and never counts as alive. */
  desired: 'running' | 'stopped';
  phase: ReplicaPhase;
  nodeId: string | null;
  ready: boolean;
  /** ms epoch when it became ready. */
  readySince: number | null;
  /** ms epoch. */
  createdAt: number;
}

export interface PlannerInput {
  /** ms epoch. */
  now: number;
  /** spec.replicas */
  replicas: number;
  strategy: Strategy;
  minReadySeconds: number;
  /** Revision of the current template. */
  currentRevision: number;
  paused: boolean;
  /** Every replica row of the deployment, including desired=stopped ones still going away. */
  pods: PlannerReplica[];
  /**
   * spec.replicas that the previous applied plan was made for (Kubernetes keeps it on each
   * ReplicaSet as the desired-replicas annotation). When it differs from `replicas` while several
   * revisions are alive, the change is spread over them in proportion to their sizes. Without it a
   * scale-down is still recognised (more alive than replicas + maxSurge), but a scale-up in the
   * middle of a rollout simply goes to the current revision.
   */
  previousReplicas?: number;
}

export interface PlanStatus {
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
}

export interface Plan {
  /** New replicas to create: usually of currentRevision; proportional scaling may add to older revisions. */
  create: { revision: number; count: number }[];
  /** Ids to set desired=stopped (never one already stopped). */
  stop: string[];
  /** Counts after the plan is applied (created replicas count as alive and unavailable). */
  status: PlanStatus;
  /** Exactly `replicas` alive of currentRevision, all available, nothing alive or terminating of older revisions. */
  complete: boolean;
  /** availableReplicas >= replicas - maxUnavailable: the Available condition. */
  available: boolean;
  /** Earliest future time at which the plan could change with no new input; null when nothing waits on time. */
  recheckAt: number | null;
}

/** Kubernetes' GetScaledValueFromIntOrPercent: a percentage of `total`, rounded up or down. */
export function resolveIntOrPercent(value: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) throw new RangeError(`invalid integer or percentage: "${value}"`);
  // Integer product first, so that 10% of 30 is exactly 3 and not 3.0000000000000004.
  const scaled = Number(match[1]) * total;
  return roundUp ? Math.ceil(scaled / 100) : Math.floor(scaled / 100);
}

/**
 * Kubernetes' ResolveFenceposts, MaxSurge and MaxUnavailable: surge rounds up, unavailable rounds
 * down, both zero means one unavailable (the only way a one-replica deployment can move), and
 * unavailable never exceeds replicas. Recreate has neither.
 */
export function rollingBounds(
  replicas: number,
  strategy: Strategy,
): { maxSurge: number; maxUnavailable: number } {
  if (strategy.type !== 'RollingUpdate') return { maxSurge: 0, maxUnavailable: 0 };
  const maxSurge = resolveIntOrPercent(strategy.rollingUpdate.maxSurge, replicas, true);
  let maxUnavailable = resolveIntOrPercent(strategy.rollingUpdate.maxUnavailable, replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

/** The replicas of one revision as the plan reshapes them. */
interface Revision {
  revision: number;
  /** Alive replicas, first to be stopped first; the plan stops a prefix of this list. */
  ranked: PlannerReplica[];
  stopped: number;
  availableInRanked: number;
  availableStopped: number;
  creates: number;
  /** desired=running but on a lost node: not alive, kept or stopped at the end. */
  lost: PlannerReplica[];
}

const size = (r: Revision): number => r.ranked.length - r.stopped + r.creates;
const availableOf = (r: Revision): number => r.availableInRanked - r.availableStopped;

// Kubernetes ranks not-ready pods Pending < Unknown < Running; a failed replica goes first of all.
const PHASE_RANK: Record<ReplicaPhase, number> = {
  Failed: 0,
  Lost: 0,
  Pending: 1,
  Scheduled: 1,
  Pulling: 1,
  Starting: 1,
  Running: 2,
  Terminating: 2,
  Succeeded: 2,
};

class Working {
  readonly revisions = new Map<number, Revision>();
  readonly stops: string[] = [];
  private readonly availableIds = new Set<string>();

  constructor(
    readonly input: PlannerInput,
    readonly minAvailable: number,
    /** Rolling updates never let a planned stop take availability below minAvailable. */
    readonly guarded: boolean,
  ) {
    const minReadyMs = input.minReadySeconds * 1000;
    for (const p of input.pods) {
      if (p.desired !== 'running') continue;
      const rev = this.revision(p.revision);
      if (p.phase === 'Lost') {
        rev.lost.push(p);
        continue;
      }
      rev.ranked.push(p);
      if (p.ready && p.readySince !== null && input.now - p.readySince >= minReadyMs) {
        this.availableIds.add(p.id);
        rev.availableInRanked++;
      }
    }
    this.revision(input.currentRevision);
    const order = (a: PlannerReplica, b: PlannerReplica) => this.victimOrder(a, b);
    for (const rev of this.revisions.values()) rev.ranked.sort(order);
  }

  revision(n: number): Revision {
    let rev = this.revisions.get(n);
    if (!rev) {
      rev = {
        revision: n,
        ranked: [],
        stopped: 0,
        availableInRanked: 0,
        availableStopped: 0,
        creates: 0,
        lost: [],
      };
      this.revisions.set(n, rev);
    }
    return rev;
  }

  get current(): Revision {
    return this.revision(this.input.currentRevision);
  }

  isAvailable(p: PlannerReplica): boolean {
    return this.availableIds.has(p.id);
  }

  /**
   * Kubernetes' ActivePods order, restricted to what a replica row knows: unavailable before
   * available (so a scale-down removes the ones that serve nothing first), unplaced before placed,
   * not ready before ready, then by phase, ready for less time before longer, newer before older.
   */
  private victimOrder(a: PlannerReplica, b: PlannerReplica): number {
    const av = this.isAvailable(a);
    if (av !== this.isAvailable(b)) return av ? 1 : -1;
    const placed = a.nodeId !== null;
    if (placed !== (b.nodeId !== null)) return placed ? 1 : -1;
    if (a.ready !== b.ready) return a.ready ? 1 : -1;
    if (!a.ready) {
      const d = PHASE_RANK[a.phase] - PHASE_RANK[b.phase];
      if (d !== 0) return d;
    } else {
      const ra = a.readySince ?? Number.POSITIVE_INFINITY;
      const rb = b.readySince ?? Number.POSITIVE_INFINITY;
      if (ra !== rb) return ra > rb ? -1 : 1;
    }
    if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  total(): number {
    let n = 0;
    for (const rev of this.revisions.values()) n += size(rev);
    return n;
  }

  available(): number {
    let n = 0;
    for (const rev of this.revisions.values()) n += availableOf(rev);
    return n;
  }

  /** Revisions with alive replicas, oldest first (a higher revision number is newer). */
  active(): Revision[] {
    return [...this.revisions.values()].filter((r) => size(r) > 0).sort((a, b) => a.revision - b.revision);
  }

  olds(): Revision[] {
    return this.active().filter((r) => r.revision !== this.input.currentRevision);
  }

  /**
   * Scales a revision to `target` alive replicas and returns how many it changed. Scaling down
   * first takes back replicas this plan was about to create (they would be unplaced and newest, so
   * first in line anyway), then stops in rank order.
   */
  scaleTo(rev: Revision, target: number): number {
    const from = size(rev);
    if (target > from) {
      rev.creates += target - from;
      return target - from;
    }
    let changed = 0;
    while (size(rev) > Math.max(0, target)) {
      if (rev.creates > 0) {
        rev.creates--;
      } else {
        const victim = rev.ranked[rev.stopped];
        if (!victim) break;
        if (this.isAvailable(victim)) {
          // Availability only ever drops through a planned stop when it stays at or above the bound.
          if (this.guarded && this.available() <= this.minAvailable) break;
          rev.availableStopped++;
        }
        rev.stopped++;
        this.stops.push(victim.id);
      }
      changed++;
    }
    return changed;
  }
}

/**
 * Kubernetes' isScalingEvent. It compares each ReplicaSet's desired-replicas annotation with
 * spec.replicas; `previousReplicas` plays that part. Without it, only what no rollout step can cause
 * counts: more alive replicas than replicas + maxSurge.
 */
function isScalingEvent(w: Working, maxSurge: number, first: boolean): boolean {
  if (w.active().length === 0) return false;
  const { previousReplicas, replicas } = w.input;
  if (previousReplicas !== undefined) return first && previousReplicas !== replicas;
  return w.total() > replicas + maxSurge;
}

/** Kubernetes' DeploymentController.scale with getProportion. */
function scale(w: Working, maxSurge: number): number {
  const { replicas, currentRevision, previousReplicas, strategy, pods } = w.input;
  const active = w.active();
  if (active.length <= 1) {
    // FindActiveOrLatest: the only active revision, else the newest one that exists. Berth keeps
    // no ReplicaSet objects, so "exists" means "has a row"; with no rows at all it is the current one.
    let target = active[0];
    if (!target) {
      const newest = pods.reduce((max, p) => Math.max(max, p.revision), Number.NEGATIVE_INFINITY);
      const hasCurrent = pods.length === 0 || pods.some((p) => p.revision === currentRevision);
      target = w.revision(hasCurrent ? currentRevision : newest);
    }
    return size(target) === replicas ? 0 : w.scaleTo(target, replicas);
  }

  const current = w.current;
  const saturated =
    size(current) === replicas &&
    availableOf(current) === replicas &&
    (previousReplicas === undefined || previousReplicas === replicas);
  if (saturated) {
    let changed = 0;
    for (const old of active) if (old !== current) changed += w.scaleTo(old, 0);
    return changed;
  }
  if (strategy.type !== 'RollingUpdate') return 0;

  const total = active.reduce((n, r) => n + size(r), 0);
  const allowed = replicas > 0 ? replicas + maxSurge : 0;
  const toAdd = allowed - total;
  if (toAdd === 0) return 0;
  // Larger first; among equals, newer first when growing and older first when shrinking.
  const ordered = [...active].sort(
    (a, b) => size(b) - size(a) || (toAdd > 0 ? b.revision - a.revision : a.revision - b.revision),
  );
  const targets: number[] = [];
  let added = 0;
  for (const rev of ordered) {
    const proportion = getProportion(size(rev), replicas, allowed, total, toAdd, added);
    targets.push(size(rev) + proportion);
    added += proportion;
  }
  // The rounding leftover goes to the largest revision, as in Kubernetes.
  targets[0] = Math.max(0, (targets[0] ?? 0) + toAdd - added);
  let changed = 0;
  ordered.forEach((rev, i) => {
    changed += w.scaleTo(rev, targets[i] ?? size(rev));
  });
  // Where availability kept a revision from shrinking its share, shrink the others further by
  // replicas that serve nothing, so that the total still comes down to what is allowed.
  let excess = w.total() - allowed;
  for (const rev of ordered) {
    if (excess <= 0) break;
    const n = Math.min(excess, size(rev) - availableOf(rev));
    if (n <= 0) continue;
    changed += w.scaleTo(rev, size(rev) - n);
    excess -= n;
  }
  return changed;
}

/**
 * Kubernetes' GetProportion. The size before scaling is taken as the alive total, which is what
 * Kubernetes falls back to without its max-replicas annotation: each revision keeps its share.
 */
function getProportion(
  revSize: number,
  replicas: number,
  allowed: number,
  total: number,
  toAdd: number,
  added: number,
): number {
  if (revSize === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicas === 0 ? -revSize : Math.round((revSize * allowed) / total) - revSize;
  const remaining = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, remaining) : Math.max(fraction, remaining);
}

/** One pass of Kubernetes' rolloutRolling: reconcileNewReplicaSet, then reconcileOldReplicaSets. */
function rollingStep(w: Working, maxSurge: number): number {
  const { replicas } = w.input;
  const current = w.current;
  let changed = 0;

  if (size(current) > replicas) {
    changed += w.scaleTo(current, replicas);
  } else if (size(current) < replicas) {
    const maxTotal = replicas + maxSurge;
    const total = w.total();
    if (total < maxTotal)
      changed += w.scaleTo(current, size(current) + Math.min(maxTotal - total, replicas - size(current)));
  }

  const olds = w.olds();
  if (olds.length === 0) return changed;
  // Unavailable replicas of the current revision count against the budget too, so that old ones
  // are not taken away on the strength of new ones that do not serve yet.
  const maxScaledDown = w.total() - w.minAvailable - (size(current) - availableOf(current));
  if (maxScaledDown <= 0) return changed;

  // cleanupUnhealthyReplicas: old replicas that serve nothing can go without lowering availability.
  let cleaned = 0;
  for (const old of olds) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = size(old) - availableOf(old);
    if (unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    changed += w.scaleTo(old, size(old) - n);
    cleaned += n;
  }

  // scaleDownOldReplicaSetsForRollingUpdate: then available ones, down to minAvailable.
  const budget = w.available() - w.minAvailable;
  let done = 0;
  for (const old of olds) {
    if (done >= budget) break;
    if (size(old) === 0) continue;
    const n = Math.min(size(old), budget - done);
    changed += w.scaleTo(old, size(old) - n);
    done += n;
  }
  return changed;
}

/** Kubernetes' rolloutRecreate: every old replica gone (not just told to stop) before any new one. */
function recreateStep(w: Working): number {
  const { replicas, currentRevision, pods } = w.input;
  let changed = 0;
  for (const old of w.olds()) changed += w.scaleTo(old, 0);
  // Like Kubernetes' oldPodsRunning, a replica on a lost node still counts: it may well be running.
  if (pods.some((p) => p.revision !== currentRevision)) return changed;
  return changed + w.scaleTo(w.current, replicas);
}

/**
 * A lost replica stays desired=running while its revision still waits for replicas to be placed,
 * so that a workload nobody could move keeps running where it is (static stability); once the
 * revision's planned size is covered by placed replicas it is told to stop.
 */
function stopCoveredLost(w: Working): void {
  for (const rev of w.revisions.values()) {
    if (rev.lost.length === 0) continue;
    const placed = rev.ranked.slice(rev.stopped).filter((p) => p.nodeId !== null).length;
    const keep = Math.max(0, size(rev) - placed);
    const byKeep = [...rev.lost].sort(
      (a, b) =>
        Number(b.ready) - Number(a.ready) ||
        b.createdAt - a.createdAt ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    for (const p of byKeep.slice(keep)) w.stops.push(p.id);
  }
}

// Each pass only creates up to a bound or stops alive replicas, so the loop ends long before this.
const MAX_PASSES = 1000;

export function planRollout(input: PlannerInput): Plan {
  const { maxSurge, maxUnavailable } = rollingBounds(input.replicas, input.strategy);
  const rolling = input.strategy.type === 'RollingUpdate';
  const w = new Working(input, input.replicas - maxUnavailable, rolling);

  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let changed = 0;
    // Paused: only scaling (Kubernetes' sync); otherwise a scaling event first, then the strategy.
    if (input.paused || isScalingEvent(w, maxSurge, pass === 0)) changed += scale(w, maxSurge);
    if (!input.paused) changed += rolling ? rollingStep(w, maxSurge) : recreateStep(w);
    if (changed === 0) break;
  }
  stopCoveredLost(w);

  const current = w.current;
  const total = w.total();
  const availableReplicas = w.available();
  let readyReplicas = 0;
  let recheckAt: number | null = null;
  const minReadyMs = input.minReadySeconds * 1000;
  for (const rev of w.revisions.values()) {
    for (const p of rev.ranked.slice(rev.stopped)) {
      if (!p.ready) continue;
      readyReplicas++;
      if (p.readySince === null || w.isAvailable(p)) continue;
      const at = p.readySince + minReadyMs;
      if (at > input.now && (recheckAt === null || at < recheckAt)) recheckAt = at;
    }
  }

  const create = [...w.revisions.values()]
    .filter((r) => r.creates > 0)
    .sort((a, b) => Number(b === current) - Number(a === current) || b.revision - a.revision)
    .map((r) => ({ revision: r.revision, count: r.creates }));
  // Going away after the plan: stopped before or by it. One on a lost node may never confirm it
  // is gone, and waiting for it would hold completion hostage to a dead machine.
  const stopping = new Set(w.stops);
  const oldTerminating = input.pods.some(
    (p) =>
      p.revision !== input.currentRevision &&
      p.phase !== 'Lost' &&
      (p.desired === 'stopped' || stopping.has(p.id)),
  );

  return {
    create,
    stop: w.stops,
    status: {
      replicas: total,
      updatedReplicas: size(current),
      readyReplicas,
      availableReplicas,
      unavailableReplicas: Math.max(0, total - availableReplicas),
    },
    complete:
      size(current) === input.replicas &&
      total === input.replicas &&
      availableOf(current) === input.replicas &&
      !oldTerminating,
    available: availableReplicas >= input.replicas - maxUnavailable,
    recheckAt,
  };
}
