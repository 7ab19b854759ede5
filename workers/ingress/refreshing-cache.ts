/**
 * A per-process (per-isolate) cache of values loaded from the database, keyed, that answers
 * from memory for `ttlMs` and until `invalidate()`, so routing a request costs no database
 * round trip. Loads are coalesced (one query however many requests wait), but only among
 * callers with the same `owner`: on Workers each request has its own database connection and
 * must not wait on another request's I/O, so requests share loaded values, never loads. When a load fails,
 * the last value keeps being served (the database being away must not stop traffic to
 * replicas that still run), and the next attempt waits `ttlMs` so an outage is not hammered.
 */
export interface RefreshingCacheOptions {
  ttlMs: number;
  now?: () => number;
  /** Entries not read for this long are forgotten (a cache of every host ever asked for would grow). */
  idleMs?: number;
  onError?: (error: unknown, key: string) => void;
}

interface Entry<T> {
  value?: T;
  /** When `value` was read from the database. */
  loadedAt: number;
  /** `generation` at the start of the load that produced `value`. */
  generation: number;
  /** No new attempt before this (set after a failed load). */
  retryAt: number;
  lastUsed: number;
  inflight?: { generation: number; promise: Promise<T>; owner: object };
}

const SHARED = {};

export class RefreshingCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private generation = 0;
  private sweptAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: RefreshingCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Everything cached is stale from now on: the next read of each key loads it again. */
  invalidate(): void {
    this.generation++;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value of `key`, loaded with `load` when missing or stale. */
  async get(key: string, load: () => Promise<T>, owner: object = SHARED): Promise<T> {
    const now = this.now();
    this.sweep(now);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { loadedAt: 0, generation: -1, retryAt: 0, lastUsed: now };
      this.entries.set(key, entry);
    }
    entry.lastUsed = now;
    const fresh = entry.generation === this.generation && now - entry.loadedAt < this.options.ttlMs;
    if (entry.value !== undefined && (fresh || now < entry.retryAt)) return entry.value;
    // A load that began before the last invalidation may have read what is now out of date.
    const inflight = entry.inflight;
    if (inflight && inflight.generation === this.generation && inflight.owner === owner)
      return this.settle(entry, inflight.promise);
    const generation = this.generation;
    const promise = load();
    entry.inflight = { generation, promise, owner };
    promise.then(
      (value) => {
        if (entry.inflight?.promise === promise) entry.inflight = undefined;
        if (generation >= entry.generation) {
          entry.value = value;
          entry.generation = generation;
          entry.loadedAt = now;
          entry.retryAt = 0;
        }
      },
      (error) => {
        if (entry.inflight?.promise === promise) entry.inflight = undefined;
        entry.retryAt = this.now() + this.options.ttlMs;
        this.options.onError?.(error, key);
      },
    );
    return this.settle(entry, promise);
  }

  /** The loaded value; when the load fails, the last good one if there is one. */
  private async settle(entry: Entry<T>, promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      if (entry.value !== undefined) return entry.value;
      throw error;
    }
  }

  private sweep(now: number): void {
    const idle = this.options.idleMs ?? 60_000;
    if (now - this.sweptAt < idle) return;
    this.sweptAt = now;
    for (const [key, entry] of this.entries)
      if (now - entry.lastUsed > idle && !entry.inflight) this.entries.delete(key);
  }
}
