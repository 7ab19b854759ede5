import { describe, expect, it } from 'vitest';
import { RefreshingCache } from './refreshing-cache.ts';

function setup(ttlMs = 1000, waitMs = 1000) {
  let now = 0;
  let loads = 0;
  let fail = false;
  let gate: Promise<void> | undefined;
  const load = (key: string) => async () => {
    loads++;
    const n = loads;
    await gate;
    if (fail) throw new Error('database away');
    return `${key}#${n}`;
  };
  const raw = new RefreshingCache<string>({ ttlMs, waitMs, now: () => now });
  const cache = {
    get: (key: string, owner?: object) => raw.get(key, load(key), owner),
    invalidate: () => raw.invalidate(),
  };
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

  it('shares loaded values between owners but never a load in flight', async () => {
    const s = setup();
    const [a, b] = [{}, {}];
    const release = s.hold();
    const first = s.cache.get('k', a);
    const sameOwner = s.cache.get('k', a);
    const second = s.cache.get('k', b);
    release();
    expect(await first).toBe('k#1');
    expect(await sameOwner).toBe('k#1');
    expect(await second).toBe('k#2');
    expect(await s.cache.get('k', {})).toBe('k#2');
    expect(s.loads()).toBe(2);
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

  it('holds a request at most waitMs when the database is slow, then answers with the last value', async () => {
    const s = setup(1000, 30);
    await s.cache.get('a');
    s.tick(1000);
    const release = s.hold();
    const started = performance.now();
    expect(await s.cache.get('a')).toBe('a#1');
    expect(performance.now() - started).toBeLessThan(500);
    release();
    await new Promise((r) => setTimeout(r, 0));
    // The slow load finished behind the request, and its value is used from then on.
    expect(await s.cache.get('a')).toBe('a#2');
    expect(s.loads()).toBe(2);
  });

  it('during an outage answers from the last value without waiting, trying again once per TTL', async () => {
    const s = setup(1000, 60_000);
    await s.cache.get('a');
    s.setFail(true);
    s.tick(1000);
    expect(await s.cache.get('a')).toBe('a#1');
    // Known to be failing: no wait at all now, even with a load running that never ends.
    s.tick(1000);
    s.hold();
    const started = performance.now();
    expect(await s.cache.get('a')).toBe('a#1');
    expect(performance.now() - started).toBeLessThan(500);
    expect(s.loads()).toBe(3);
  });

  it('waits in full for a value invalidated by a change, however slow the load', async () => {
    const s = setup(1000, 10);
    await s.cache.get('a');
    s.cache.invalidate();
    const release = s.hold();
    const pending = s.cache.get('a');
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await pending).toBe('a#2');
  });

  it('throws when a load fails and there was never a value', async () => {
    const s = setup();
    s.setFail(true);
    await expect(s.cache.get('a')).rejects.toThrow('database away');
  });
});
