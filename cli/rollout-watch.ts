import { assessRollout, type RolloutAssessment } from '../common/rollout.ts';
import { ApiError, type BerthClient } from './client.ts';
import type { Deployment, Event, Replica } from './resources.ts';

/**
 * Following one deployment's rollout until it completes or fails: `berth rollout status`,
 * `berth apply --wait` and the GitHub Action all use this. It polls the deployment, its replicas
 * and its events, and judges each snapshot with the one rollout rule (common/rollout.ts), the
 * dashboard's too. A watch ends when the rollout cannot move on by itself:
 *
 *   waiting ──► complete        phase Complete
 *      │
 *      └─────► failed          phase Failed, Paused or Deleted · our own timeout
 */

export type RolloutState = 'waiting' | 'complete' | 'failed';

/** What a watch does with each phase: a paused or deleted deployment will not finish by itself. */
export function watchState(assessment: RolloutAssessment): RolloutState {
  if (assessment.phase === 'Complete') return 'complete';
  return assessment.phase === 'Progressing' ? 'waiting' : 'failed';
}

export interface Snapshot {
  name: string;
  deployment: Deployment;
  replicas: Replica[];
  /** Events that appeared since the watch began. */
  newEvents: Event[];
  /** Past ProgressDeadlineExceeded with autoRollback on, we wait this long for the rollback. */
  rollbackGraceOver: boolean;
}

/** One snapshot judged: the shared assessment, and what the watch does with it. */
export function assessSnapshot(s: Snapshot): RolloutAssessment & { state: RolloutState } {
  const assessment = assessRollout(s.deployment, {
    name: s.name,
    replicas: s.replicas,
    newEvents: s.newEvents,
    awaitingRollback: !s.rollbackGraceOver,
  });
  return { ...assessment, state: watchState(assessment) };
}

export interface WatchOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** How long to wait for an automatic rollback after the progress deadline passed. */
  rollbackGraceMs?: number;
  /** Events already there before the change being watched (see eventBaseline). */
  baseline?: EventBaseline;
  onProgress?: (assessment: RolloutAssessment & { state: RolloutState }, snapshot: Snapshot) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** How the watch ended: `reason` Timeout (phase still Progressing) when it gave up waiting. */
export interface RolloutResult extends RolloutAssessment {
  state: RolloutState;
  deployment?: Deployment;
  replicas: Replica[];
}

/** What events a deployment had, so a watch only reacts to ones that come after. */
export interface EventBaseline {
  ids: Set<string>;
}

const eventKey = (e: Event) => String(e.id ?? `${e.createdAt}|${e.reason}|${e.message}`);

export async function eventBaseline(client: BerthClient, ns: string, name: string): Promise<EventBaseline> {
  const events = await listEventsOrNone(client, ns, name);
  return { ids: new Set(events.map(eventKey)) };
}

/** An older server without the events or replicas routes still gets a rollout watch. */
async function listEventsOrNone(client: BerthClient, ns: string, name: string): Promise<Event[]> {
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
        const gone = assessRollout(null, { name });
        return { ...gone, state: watchState(gone), replicas: [] };
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
    const condition = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
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
    const assessment = assessSnapshot(snapshot);
    if (assessment.state !== 'waiting') return { ...assessment, deployment, replicas };
    options.onProgress?.(assessment, snapshot);
    if (now() - started >= options.timeoutMs) {
      return {
        ...assessment,
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
