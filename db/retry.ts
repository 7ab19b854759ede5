import { pgErrorCode } from './unavailable.ts';

/** deadlock_detected, serialization_failure: the transaction was rolled back and may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);

export function isRetryableConflict(e: unknown): boolean {
  return RETRYABLE.has(pgErrorCode(e) ?? '');
}

/**
 * Run a transaction again when Postgres chose it as a deadlock victim. Concurrent reconcilers
 * and agent reports lock overlapping replica rows; Postgres breaks the rare cycle by aborting
 * one side, which loses nothing and only has to be retried.
 */
export async function retryOnConflict<T>(run: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= attempts || !isRetryableConflict(e)) throw e;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
    }
  }
}
