import { UsageError } from './exit-codes.ts';
import type { Event, Job, JobCondition } from './resources.ts';

/**
 * `berth wait --for=condition=complete job/NAME`: what is waited for, and how each look at a Job
 * is judged. Polling and printing live in commands/wait.ts; this part is pure.
 *
 *   waiting ──► met            the condition has the wanted status
 *      │
 *      └─────► unreachable    the Job finished the other way (Failed while Complete is wanted)
 *
 * A timeout is the caller's: it is not something a Job says.
 */

export type JobConditionType = NonNullable<JobCondition['type']>;
const TYPES: JobConditionType[] = ['Complete', 'Failed', 'Suspended'];

export interface WaitCondition {
  type: JobConditionType;
  status: 'True' | 'False';
}

/** kubectl's forms: `condition=complete`, `condition=Complete=True`, `condition=failed=false`; any case. */
export function parseWaitFor(text: string | undefined): WaitCondition {
  const usage = `--for must be condition=${TYPES.map((t) => t.toLowerCase()).join('|')}[=true|false]`;
  if (!text) throw new UsageError(`missing --for (${usage.slice('--for must be '.length)})`);
  const [what, name, value, ...more] = text.split('=');
  if (what?.toLowerCase() !== 'condition' || !name || more.length) throw new UsageError(usage);
  const type = TYPES.find((t) => t.toLowerCase() === name.toLowerCase());
  if (!type)
    throw new UsageError(
      `a Job has no condition "${name}" (${TYPES.map((t) => t.toLowerCase()).join(', ')})`,
    );
  const status = (value ?? 'true').toLowerCase();
  if (status !== 'true' && status !== 'false') throw new UsageError(usage);
  return { type, status: status === 'true' ? 'True' : 'False' };
}

export type JobWaitState =
  | { state: 'waiting' }
  | { state: 'met' }
  /** `condition` is the one that ended the Job (its reason and message say why). */
  | { state: 'unreachable'; condition: JobCondition };

/** One look at the Job. A finished Job changes no more, so waiting for its other ending is over. */
export function judgeJob(job: Job, wanted: WaitCondition): JobWaitState {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === wanted.type && c.status === wanted.status)) return { state: 'met' };
  if (wanted.status === 'True') {
    const ended = conditions.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True' && c.type !== wanted.type,
    );
    if (ended) return { state: 'unreachable', condition: ended };
  }
  return { state: 'waiting' };
}

/** The events the controller writes when a Job finishes, by the condition they stand for. */
const ENDING_EVENTS: Record<string, 'Complete' | 'Failed'> = {
  Completed: 'Complete',
  BackoffLimitExceeded: 'Failed',
  DeadlineExceeded: 'Failed',
};

/**
 * How a Job that vanished while watched had ended (ttlSecondsAfterFinished can delete it between
 * two looks): the last ending event since it was created, as the condition it stood for. Undefined
 * when it was deleted before it finished.
 */
export function endingFromEvents(
  events: Pick<Event, 'reason' | 'message' | 'createdAt'>[],
  createdAt: string | undefined,
): JobCondition | undefined {
  const since = Date.parse(createdAt ?? '') || 0;
  const ending = events
    .filter((e) => e.reason && ENDING_EVENTS[e.reason] && (Date.parse(e.createdAt ?? '') || 0) >= since)
    .at(-1);
  if (!ending?.reason) return undefined;
  return {
    type: ENDING_EVENTS[ending.reason],
    status: 'True',
    reason: ending.reason,
    message: ending.message,
  };
}
