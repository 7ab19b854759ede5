/**
 * Kubernetes' CrashLoopBackOff as a pure function: the first restart is immediate, the next ones
 * wait 10 s, 20 s, 40 s ... capped at 5 min; a container that ran for 10 min starts over.
 * The same curve paces image pull retries (ImagePullBackOff).
 */

export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
export const BACKOFF_RESET_AFTER_MS = 600_000;

export interface RestartTracker {
  /** Restarts in a row without a 10-minute stretch of running in between. */
  readonly consecutive: number;
}

export const initialTracker: RestartTracker = { consecutive: 0 };

/** Delay before retry number `attempt` (0-based): 0, 10 s, 20 s, 40 s, ..., 5 min. */
export function backoffDelayMs(attempt: number): number {
  if (attempt <= 0) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS);
}

/** A container exited after running `ranForMs`: how long to wait before starting it again. */
export function nextRestart(
  tracker: RestartTracker,
  ranForMs: number,
): { tracker: RestartTracker; delayMs: number } {
  const consecutive = ranForMs >= BACKOFF_RESET_AFTER_MS ? 0 : tracker.consecutive;
  return { tracker: { consecutive: consecutive + 1 }, delayMs: backoffDelayMs(consecutive) };
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}
