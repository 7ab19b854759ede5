/**
 * A per-process (per-isolate) cache of values loaded from the database, keyed, that answers
 * from memory for `ttlMs` and until `invalidate()`, so routing a request costs no database
 * round trip.
 *
 * - Loads are coalesced (one query however many requests wait), but only among callers with
 *   the same `owner`: on Workers each request has its own database connection and must not
 *   wait on another request's I/O, so requests share loaded values, never loads.
 * - The database being slow or away must not stop traffic to replicas that still run (nor
 *   delay the API behind the ingress): once a key has a value, the refresh that follows its
 *   TTL holds a request up for at most `waitMs`, after which the last value is used while the
 *   load goes on; after a failed load, the last value is used at once and the next attempt
 *   waits `ttlMs`. A value invalidated by a change this process saw is waited for in full.
 */
export interface RefreshingCacheOptions {
  ttlMs: number;
  /** Longest a TTL refresh may hold up a request when there is a previous value (default 500 ms). */
  waitMs?: number;
  now?: () => number;
  /** Entries not read for this long are forgotten (a cache of every host ever asked for would grow). */
  idleMs?: number;
}

interface Entry<T> {
  value?: T;
  /** When the load that produced `value` started. */
  loadedAt: number;
  /** `generation` at the start of the load that produced `value`. */
  generation: number;
  /** The last load failed: until one succeeds, the last value is served without waiting. */
  failing: boolean;
  /** No new attempt before this (set after a failed load). */
  retryAt: number;
  lastUsed: number;
  inflight?: { generation: number; promise: Promise<T>; owner: object; startedAt: number };
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

  /**
   * The value of `key`, loaded with `load` when missing or stale. `defer` receives a load that
   * may outlive the call (Workers: `waitUntil`, so the runtime lets it finish).
   */
  async get(
    key: string,
    load: () => Promise<T>,
    owner: object = SHARED,
    defer?: (p: Promise<unknown>) => void,
  ): Promise<T> {
    const now = this.now();
    this.sweep(now);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { loadedAt: 0, generation: -1, failing: false, retryAt: 0, lastUsed: now };
      this.entries.set(key, entry);
    }
    entry.lastUsed = now;
    const current = entry.generation === this.generation;
    if (entry.value !== undefined && current && now - entry.loadedAt < this.options.ttlMs) return entry.value;
    if (entry.value !== undefined && entry.failing && now < entry.retryAt) return entry.value;

    // A load that began before the last invalidation may have read what is now out of date.
    const inflight = entry.inflight;
    const joined = inflight && inflight.generation === this.generation && inflight.owner === owner;
    const promise = joined ? inflight.promise : this.start(entry, load, owner, now);
    if (entry.value === undefined) return promise;
    const fallback = entry.value;
    // Known to be out of date (a change went by here, and the database just took the write):
    // wait for the new value, falling back only if the load fails.
    if (!current && !entry.failing) return promise.catch(() => fallback);
    if (!joined) defer?.(promise.catch(() => {}));
    // A load already running counts against the wait: a hung database delays each request once.
    const ranFor = joined ? now - inflight.startedAt : 0;
    const waitMs = entry.failing ? 0 : Math.max(0, (this.options.waitMs ?? 500) - ranFor);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), waitMs);
    });
    try {
      return await Promise.race([promise.catch(() => fallback), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private start(entry: Entry<T>, load: () => Promise<T>, owner: object, now: number): Promise<T> {
    const generation = this.generation;
    const promise = load();
    entry.inflight = { generation, promise, owner, startedAt: now };
    promise.then(
      (value) => {
        if (entry.inflight?.promise === promise) entry.inflight = undefined;
        if (generation >= entry.generation) {
          entry.value = value;
          entry.generation = generation;
          entry.loadedAt = now;
        }
        entry.failing = false;
        entry.retryAt = 0;
      },
      () => {
        if (entry.inflight?.promise === promise) entry.inflight = undefined;
        entry.failing = true;
        entry.retryAt = this.now() + this.options.ttlMs;
      },
    );
    return promise;
  }

  private sweep(now: number): void {
    const idle = this.options.idleMs ?? 60_000;
    if (now - this.sweptAt < idle) return;
    this.sweptAt = now;
    for (const [key, entry] of this.entries)
      if (now - entry.lastUsed > idle && !entry.inflight) this.entries.delete(key);
  }
}
