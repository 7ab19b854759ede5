import { describe, expect, it } from 'vitest';
import { RefreshingCache } from './refreshing-cache.ts';

function setup(ttlMs = 1000) {
  let now = 0;
  let loads = 0;
  let fail = false;
  let gate: Promise<void> | undefined;
  const cache = new RefreshingCache(
    async (key: string) => {
      loads++;
      const n = loads;
      await gate;
      if (fail) throw new Error('database away');
      return `${key}#${n}`;
    },
    { ttlMs, now: () => now },
  );
  return {
    cache,
    loads: () => loads,
    tick: (ms: number) => {
      now += ms;
    },
    setFail: (v: boolean) => {
      fail = v;
    },
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => {
        release = r;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('RefreshingCache', () => {
  it('answers from memory within the TTL and loads again after it', async () => {
    const s = setup();
    expect(await s.cache.get('a')).toBe('a#1');
    s.tick(999);
    expect(await s.cache.get('a')).toBe('a#1');
    s.tick(1);
    expect(await s.cache.get('a')).toBe('a#2');
    expect(s.loads()).toBe(2);
  });

  it('loads again at once after invalidate()', async () => {
    const s = setup();
    await s.cache.get('a');
    s.cache.invalidate();
    expect(await s.cache.get('a')).toBe('a#2');
  });

  it('coalesces concurrent loads into one', async () => {
    const s = setup();
    const release = s.hold();
    const all = Promise.all([s.cache.get('a'), s.cache.get('a'), s.cache.get('a')]);
    release();
    expect(await all).toEqual(['a#1', 'a#1', 'a#1']);
    expect(s.loads()).toBe(1);
  });

  it('does not hand a load that started before invalidate() to a reader that came after it', async () => {
    const s = setup();
    const release = s.hold();
    const before = s.cache.get('a');
    s.cache.invalidate();
    const after = s.cache.get('a');
    release();
    expect(await before).toBe('a#1');
    expect(await after).toBe('a#2');
  });

  it('keeps serving the last value while loads fail, and retries only after the TTL', async () => {
    const s = setup();
    await s.cache.get('a');
    s.setFail(true);
    s.tick(1000);
    expect(await s.cache.get('a')).toBe('a#1');
    expect(await s.cache.get('a')).toBe('a#1');
    expect(s.loads()).toBe(2);
    s.setFail(false);
    s.tick(1000);
    expect(await s.cache.get('a')).toBe('a#3');
  });

  it('throws when a load fails and there was never a value', async () => {
    const s = setup();
    s.setFail(true);
    await expect(s.cache.get('a')).rejects.toThrow('database away');
  });
});
