import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  initialTracker,
  nextRestart,
  type RestartTracker,
  shouldRestart,
} from './restart-tracker.ts';

describe('restart tracker', () => {
  it('restarts at once the first time, then 10 s doubling, capped at 5 min', () => {
    let t: RestartTracker = initialTracker;
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = nextRestart(t, 1000);
      delays.push(r.delayMs / 1000);
      t = r.tracker;
    }
    expect(delays).toEqual([0, 10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('starts over after 10 minutes of running', () => {
    let t: RestartTracker = initialTracker;
    for (let i = 0; i < 5; i++) t = nextRestart(t, 1000).tracker;
    expect(nextRestart(t, 599_999).delayMs).toBe(160_000);
    const reset = nextRestart(t, 600_000);
    expect(reset.delayMs).toBe(0);
    expect(nextRestart(reset.tracker, 1000).delayMs).toBe(10_000);
  });

  it('paces retries on the same curve', () => {
    expect([0, 1, 2, 3, 10].map(backoffDelayMs)).toEqual([0, 10_000, 20_000, 40_000, 300_000]);
  });

  it('follows the restart policy', () => {
    expect(shouldRestart('Always', 0)).toBe(true);
    expect(shouldRestart('Always', 1)).toBe(true);
    expect(shouldRestart('OnFailure', 0)).toBe(false);
    expect(shouldRestart('OnFailure', 137)).toBe(true);
    expect(shouldRestart('Never', 1)).toBe(false);
  });
});
