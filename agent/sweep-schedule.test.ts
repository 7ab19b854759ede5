import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SweepSchedule } from './sweep-schedule.ts';

describe('SweepSchedule', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const timing = { delayMs: 5_000, minIntervalMs: 60_000 };

  it('runs once for a burst of requests, after the delay', async () => {
    let runs = 0;
    const s = new SweepSchedule(async () => void runs++, timing);
    for (let i = 0; i < 50; i++) s.request();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(runs).toBe(1);
  });

  it('never runs more often than once per minimum interval, however often it is asked', async () => {
    const at: number[] = [];
    const s = new SweepSchedule(async () => void at.push(Date.now()), timing);
    const start = Date.now();
    for (let t = 0; t < 300_000; t += 1_000) {
      s.request();
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(at[0]! - start).toBe(5_000);
    expect(gaps.every((g) => g >= 60_000)).toBe(true);
    expect(at.length).toBe(5);
  });

  it('never overlaps runs: a request during a run schedules one more after it', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let release: () => void = () => {};
    const s = new SweepSchedule(async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      await new Promise<void>((r) => {
        release = r;
      });
      running--;
    }, timing);
    s.request();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(1);
    s.request();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(runs).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(2);
    release();
    expect(most).toBe(1);
  });

  it('survives a failing run and runs nothing after stop', async () => {
    let runs = 0;
    const s = new SweepSchedule(async () => {
      runs++;
      throw new Error('engine gone');
    }, timing);
    s.request();
    await vi.advanceTimersByTimeAsync(5_000);
    s.request();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(2);
    s.request();
    s.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(runs).toBe(2);
  });
});
