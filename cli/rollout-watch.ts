import { ApiError, type BerthClient } from './client.ts';
import type { BerthEvent, Condition, Deployment, Replica } from './resources.ts';

/**
 * Following one deployment's rollout until it completes or fails: `berth rollout status`,
 * `berth apply --wait` and the GitHub Action all use this. It polls the deployment, its replicas
 * and its events; `assessRollout` is the pure judgement of one snapshot.
 *
 *   waiting ──► complete        Progressing/NewRevisionAvailable and updated == ready == replicas
 *      │
 *      └─────► failed          RolledBack event · ProgressDeadlineExceeded · a Failed replica of
 *                              the new revision · paused · deleted · our own timeout
 */

export type RolloutState = 'waiting' | 'complete' | 'failed';

export interface RolloutAssessment {
  state: RolloutState;
  /** Short and stable: Complete, RolledBack, ProgressDeadlineExceeded, ImagePullFailed, ReplicaFailed, Paused, Deleted, Timeout, Waiting. */
  reason: string;
  message: string;
}

export interface Snapshot {
  name: string;
  deployment: Deployment;
  replicas: Replica[];
  /** Events that appeared since the watch began. */
  newEvents: BerthEvent[];
  /** Past ProgressDeadlineExceeded with autoRollback on, we wait this long for the rollback. */
  rollbackGraceOver: boolean;
}

const progressing = (d: Deployment): Condition | undefined =>
  d.status?.conditions?.find((c) => c.type === 'Progressing');

const PULL_FAILURE = /pull|manifest unknown|no such image|repository|ErrImage|ImagePull/i;

export function assessRollout(s: Snapshot): RolloutAssessment {
  const { deployment: d, name } = s;
  const want = d.spec?.replicas ?? 0;
  const status = d.status ?? {};
  const updated = status.updatedReplicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const condition = progressing(d);

  const rolledBack = s.newEvents.find((e) => e.reason === 'RolledBack');
  if (rolledBack || condition?.reason === 'RolledBack') {
    const detail = rolledBack?.message || condition?.message;
    return { state: 'failed', reason: 'RolledBack', message: `rolled back${detail ? `: ${detail}` : ''}` };
  }
  if (condition?.reason === 'ProgressDeadlineExceeded' && condition.status !== 'True') {
    if (d.spec?.autoRollback && !s.rollbackGraceOver) {
      return {
        state: 'waiting',
        reason: 'Waiting',
        message: `deployment "${name}" exceeded its progress deadline; waiting for the automatic rollback...`,
      };
    }
    return {
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: `ProgressDeadlineExceeded${condition.message ? `: ${condition.message}` : ''}`,
    };
  }
  const revision = status.revision;
  const failed = s.replicas.find(
    (r) => r.phase === 'Failed' && (revision === undefined || r.revision === revision),
  );
  if (failed) {
    const where = `replica ${failed.id ?? '?'} on node ${failed.node ?? '<none>'}`;
    const why = failed.message ? `: ${failed.message}` : '';
    return PULL_FAILURE.test(failed.message ?? '')
      ? { state: 'failed', reason: 'ImagePullFailed', message: `image pull failure of ${where}${why}` }
      : { state: 'failed', reason: 'ReplicaFailed', message: `${where} failed${why}` };
  }
  if (d.spec?.paused) {
    return {
      state: 'failed',
      reason: 'Paused',
      message: `deployment "${name}" is paused (berth rollout resume deployment/${name})`,
    };
  }
  const generation = d.metadata?.generation;
  const observed = status.observedGeneration;
  const waiting = (message: string): RolloutAssessment => ({ state: 'waiting', reason: 'Waiting', message });
  if (generation !== undefined && (observed === undefined || observed < generation)) {
    return waiting(`Waiting for deployment "${name}" spec update to be observed...`);
  }
  if (updated < want) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${updated} of ${want} new replicas have been updated...`,
    );
  }
  if (total > updated) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`,
    );
  }
  if (ready < want || available < Math.min(want, updated)) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${Math.min(ready, available)} of ${want} updated replicas are available...`,
    );
  }
  if (condition?.reason !== 'NewRevisionAvailable' || updated !== want || ready !== want) {
    return waiting(`Waiting for deployment "${name}" rollout to be marked complete...`);
  }
  return {
    state: 'complete',
    reason: 'Complete',
    message: `deployment "${name}" successfully rolled out${revision !== undefined ? ` (revision ${revision})` : ''}`,
  };
}

export interface WatchOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** How long to wait for an automatic rollback after the progress deadline passed. */
  rollbackGraceMs?: number;
  /** Events already there before the change being watched (see eventBaseline). */
  baseline?: EventBaseline;
  onProgress?: (assessment: RolloutAssessment, snapshot: Snapshot) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RolloutResult extends RolloutAssessment {
  deployment?: Deployment;
  replicas: Replica[];
}

/** What events a deployment had, so a watch only reacts to ones that come after. */
export interface EventBaseline {
  ids: Set<string>;
}

const eventKey = (e: BerthEvent) => String(e.id ?? `${e.createdAt}|${e.reason}|${e.message}`);

export async function eventBaseline(client: BerthClient, ns: string, name: string): Promise<EventBaseline> {
  const events = await listEventsOrNone(client, ns, name);
  return { ids: new Set(events.map(eventKey)) };
}

/** An older server without the events or replicas routes still gets a rollout watch. */
async function listEventsOrNone(client: BerthClient, ns: string, name: string): Promise<BerthEvent[]> {
  return client.listEvents(ns, `deployment/${name}`).catch((err) => {
    if (err instanceof ApiError && err.status === 404) return [];
    throw err;
  });
}

export async function watchRollout(
  client: BerthClient,
  ns: string,
  name: string,
  options: WatchOptions,
): Promise<RolloutResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = options.intervalMs ?? 1000;
  const started = now();
  const baseline = options.baseline ?? (await eventBaseline(client, ns, name));
  let deadlineSeenAt: number | undefined;
  let last: Snapshot | undefined;

  for (;;) {
    let deployment: Deployment;
    try {
      deployment = await client.getDeployment(ns, name);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && last) {
        return {
          state: 'failed',
          reason: 'Deleted',
          message: `deployment "${name}" was deleted`,
          replicas: [],
        };
      }
      throw err;
    }
    const [replicas, events] = await Promise.all([
      client.listReplicas(ns, name).catch((err) => {
        if (err instanceof ApiError && err.status === 404) return [];
        throw err;
      }),
      listEventsOrNone(client, ns, name),
    ]);
    const condition = progressing(deployment);
    if (condition?.reason === 'ProgressDeadlineExceeded') deadlineSeenAt ??= now();
    const snapshot: Snapshot = {
      name,
      deployment,
      replicas,
      newEvents: events.filter((e) => !baseline.ids.has(eventKey(e))),
      rollbackGraceOver:
        deadlineSeenAt !== undefined && now() - deadlineSeenAt >= (options.rollbackGraceMs ?? 30_000),
    };
    last = snapshot;
    const assessment = assessRollout(snapshot);
    if (assessment.state !== 'waiting') return { ...assessment, deployment, replicas };
    options.onProgress?.(assessment, snapshot);
    if (now() - started >= options.timeoutMs) {
      return {
        state: 'failed',
        reason: 'Timeout',
        message: `timed out after ${Math.round(options.timeoutMs / 1000)}s: ${assessment.message.replace(/\.\.\.$/, '')}`,
        deployment,
        replicas,
      };
    }
    await sleep(Math.min(interval, Math.max(0, options.timeoutMs - (now() - started))));
  }
}
