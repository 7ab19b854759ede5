import type { Deployment } from './wire/deployment.ts';
import type { Lenient } from './wire/meta.ts';
import type { Event, Replica } from './wire/replica.ts';

/**
 * Where a deployment's rollout stands: the one rule behind the dashboard's rollout badge,
 * `berth rollout status`, `berth apply --wait`, `berth describe` and the GitHub Action.
 *
 *   Progressing ──► Complete     the controller saw this generation; every wanted replica runs the
 *        │                       current revision and is available; no other replica is left;
 *        │                       Progressing says NewRevisionAvailable
 *        ├───────► Failed        ProgressDeadlineExceeded · a RolledBack event · a Failed replica
 *        │                       of the current revision (ImagePullFailed, ReplicaFailed)
 *        ├───────► Paused        spec.paused: nothing moves until it is resumed
 *        └───────► Deleted       the deployment is gone
 *
 * Complete is `kubectl rollout status`'s rule made strict in two ways: every wanted replica must
 * be available (kubectl accepts available == updated, which a scale-down in flight can satisfy),
 * and the controller must have said so (Progressing/NewRevisionAvailable), so no reader ever calls
 * a rollout complete before the controller that runs it does. Counts and conditions are only
 * trusted once `observedGeneration` reaches `generation`: before that they describe the previous
 * spec. Failures need no waiting for the deadline when a replica of the current revision has
 * already failed (an image that cannot be pulled fails at once).
 *
 * Pure and self-contained: the dashboard serves this function's source to the browser
 * (workers/ui/script.ts), so it references nothing outside its own body.
 */

export type RolloutPhase = 'Progressing' | 'Complete' | 'Failed' | 'Paused' | 'Deleted';

export interface RolloutAssessment {
  phase: RolloutPhase;
  /**
   * Short and stable. Progressing: SpecNotObserved, ReplicasUpdating, OldReplicasTerminating,
   * ReplicasBecomingAvailable, AwaitingCompletion, AwaitingRollback. Complete: NewRevisionAvailable.
   * Failed: ProgressDeadlineExceeded, RolledBack, ImagePullFailed, ReplicaFailed. Paused:
   * DeploymentPaused. Deleted: Deleted.
   */
  reason: string;
  /** One line for people. */
  message: string;
  /** 0..1: the share of wanted replicas that run the current revision and are available. */
  progress: number;
}

export interface RolloutContext {
  /** For messages when the deployment is gone (its object no longer names it). */
  name?: string;
  /** The deployment's replicas, when the caller has them: a Failed one of the current revision fails the rollout. */
  replicas?: readonly Lenient<Replica>[];
  /** Events that came after the change being followed: a RolledBack one means it was undone. */
  newEvents?: readonly Lenient<Event>[];
  /**
   * Past ProgressDeadlineExceeded with autoRollback on, a follower that wants to report the
   * rollback rather than the deadline sets this while it still waits for the RolledBack event.
   */
  awaitingRollback?: boolean;
}

/** `deployment` null: it is gone (a 404 after it was seen). */
export function assessRollout(
  deployment: Lenient<Deployment> | null,
  context: RolloutContext = {},
): RolloutAssessment {
  const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const name = deployment?.metadata?.name ?? context.name ?? '?';
  const rolledBack = (context.newEvents ?? []).find((e) => e.reason === 'RolledBack');
  if (!deployment) {
    return { phase: 'Deleted', reason: 'Deleted', message: `deployment "${name}" was deleted`, progress: 0 };
  }
  const spec = deployment.spec ?? {};
  const status = deployment.status ?? {};
  const want = count(spec.replicas);
  const updated = count(status.updatedReplicas);
  // Available implies ready; reading both keeps an inconsistent snapshot from passing as done.
  const available = Math.min(count(status.availableReplicas), count(status.readyReplicas));
  const total = count(status.replicas);
  const progress = want === 0 ? 1 : Math.max(0, Math.min(1, Math.min(updated, available) / want));
  const progressing = (status.conditions ?? []).find((c) => c.type === 'Progressing');
  const revision = status.revision;
  const result = (phase: RolloutPhase, reason: string, message: string): RolloutAssessment => ({
    phase,
    reason,
    message,
    progress,
  });
  const waiting = (reason: string, message: string) => result('Progressing', reason, message);

  if (rolledBack) {
    return result(
      'Failed',
      'RolledBack',
      `rolled back${rolledBack.message ? `: ${rolledBack.message}` : ''}`,
    );
  }
  if (spec.paused) {
    return result(
      'Paused',
      'DeploymentPaused',
      `deployment "${name}" is paused at ${updated} of ${want} updated (berth rollout resume deployment/${name})`,
    );
  }
  const generation = deployment.metadata?.generation;
  if (generation !== undefined && count(status.observedGeneration) < generation) {
    return waiting('SpecNotObserved', `Waiting for deployment "${name}" spec update to be observed...`);
  }
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    if (spec.autoRollback && context.awaitingRollback) {
      return waiting(
        'AwaitingRollback',
        `deployment "${name}" exceeded its progress deadline; waiting for the automatic rollback...`,
      );
    }
    return result(
      'Failed',
      'ProgressDeadlineExceeded',
      `ProgressDeadlineExceeded${progressing.message ? `: ${progressing.message}` : ''}`,
    );
  }
  const failed = (context.replicas ?? []).find(
    (r) => r.phase === 'Failed' && r.desired !== 'stopped' && revision != null && r.revision === revision,
  );
  if (failed) {
    const where = `replica ${failed.id ?? '?'} on node ${failed.node ?? '<none>'}`;
    const why = failed.message ? `: ${failed.message}` : '';
    return /pull|manifest unknown|no such image|repository|ErrImage|ImagePull/i.test(failed.message ?? '')
      ? result('Failed', 'ImagePullFailed', `image pull failure of ${where}${why}`)
      : result('Failed', 'ReplicaFailed', `${where} failed${why}`);
  }
  const finishing = `Waiting for deployment "${name}" rollout to finish:`;
  if (updated < want) {
    return waiting(
      'ReplicasUpdating',
      `${finishing} ${updated} of ${want} new replicas have been updated...`,
    );
  }
  if (total > updated) {
    return waiting(
      'OldReplicasTerminating',
      `${finishing} ${total - updated} old replicas are pending termination...`,
    );
  }
  if (total > want) {
    return waiting(
      'OldReplicasTerminating',
      `${finishing} ${total - want} extra replicas are pending termination...`,
    );
  }
  if (available < want) {
    return waiting(
      'ReplicasBecomingAvailable',
      `${finishing} ${available} of ${want} updated replicas are available...`,
    );
  }
  if (progressing?.reason !== 'NewRevisionAvailable') {
    return waiting('AwaitingCompletion', `Waiting for deployment "${name}" rollout to be marked complete...`);
  }
  return result(
    'Complete',
    'NewRevisionAvailable',
    `deployment "${name}" successfully rolled out${revision != null ? ` (revision ${revision})` : ''}`,
  );
}
