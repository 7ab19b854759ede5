import type { Database } from '../../db/database.ts';
import type { KubeObject } from './objects.ts';
import { groupVersion, KUBE_RESOURCES } from './resources.ts';
import { KUBE_SOURCES } from './sources.ts';
import { type ChangeRow, readChanges, readClock, stampVersions } from './versions.ts';
import { collapseType, type ObjectChange } from './watch-events.ts';

/**
 * The watches of one process share one reader of the change log (`kube_changes`): woken by the
 * commit's NOTIFY (`berth_kube`, where the driver can LISTEN) or by a slow poll, it reads the
 * changes after the last one it saw ONCE, fetches the changed objects once, and hands them to
 * every watcher in memory. An idle watcher costs no query, and a change costs the same queries
 * whether one watcher or a thousand wait for it.
 */

export const KUBE_CHANNEL = 'berth_kube';
const PAGE = 500;

export interface HubSubscriber {
  /** The Kubernetes plural watched. */
  resource: string;
  /** Changes of that resource (any namespace), in clock order; `through`: the clock value read to. */
  deliver(changes: readonly ResourceChange[], through: number): void;
  /** The hub stops (process shutting down): the watch ends. */
  end(): void;
}

export interface ResourceChange extends ObjectChange {
  key: string;
  /** The clock values of the object's first and last change in the log rows read. */
  firstRv: number;
  lastRv: number;
}

export interface HubOptions {
  db: Database;
  listen?: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;
  /** How often the log is read without a notification (a missed NOTIFY, or no LISTEN at all). */
  pollMs: number;
  /** How long the reader stays up after its last watcher left (kubectl re-watches at once). */
  idleMs: number;
  onError?: (err: unknown) => void;
}

export class KubeWatchHub {
  private readonly subs = new Map<string, Set<HubSubscriber>>();
  /** The last state each watched object was seen in: DELETED events carry it, filters compare with it. */
  private readonly lastSeen = new Map<string, KubeObject>();
  private cursor: number | undefined;
  private starting: Promise<number> | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private poll: ReturnType<typeof setInterval> | undefined;
  private idle: ReturnType<typeof setTimeout> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Reads of the change log, and fetches of changed objects (one per resource and namespace), so far. */
  logReads = 0;
  objectFetches = 0;

  constructor(private readonly opts: HubOptions) {}

  get watchers(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  /** Adds a watcher; resolves to the clock value from which the hub will deliver to it. */
  async subscribe(sub: HubSubscriber): Promise<number> {
    const set = this.subs.get(sub.resource) ?? new Set();
    this.subs.set(sub.resource, set);
    set.add(sub);
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    if (this.cursor !== undefined) return this.cursor;
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  unsubscribe(sub: HubSubscriber): void {
    const set = this.subs.get(sub.resource);
    set?.delete(sub);
    if (set?.size === 0) this.subs.delete(sub.resource);
    if (this.subs.size === 0 && !this.idle) {
      this.idle = setTimeout(() => void this.stop(), this.opts.idleMs);
      unref(this.idle);
    }
  }

  /**
   * Objects a watch listed: their last state, for the DELETED events and filters to come. Only
   * states the hub has read past: a newer one is still to be delivered to the other watchers.
   */
  remember(resource: string, objects: readonly KubeObject[]): void {
    if (this.cursor === undefined) return;
    for (const o of objects) {
      if (Number(o.metadata.resourceVersion) > this.cursor) continue;
      const key = objectKey(resource, o.metadata.namespace ?? '', o.metadata.name);
      const had = this.lastSeen.get(key);
      if (!had || Number(had.metadata.resourceVersion) < Number(o.metadata.resourceVersion))
        this.lastSeen.set(key, o);
    }
  }

  lastState(key: string): KubeObject | undefined {
    return this.lastSeen.get(key);
  }

  /** Read the log now (a NOTIFY arrived, or the poll ticked). */
  wake(): void {
    if (this.cursor === undefined || this.subs.size === 0) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Ends every watch and stops reading (process shutdown). */
  async close(): Promise<void> {
    for (const set of [...this.subs.values()]) for (const s of [...set]) s.end();
    this.subs.clear();
    await this.stop();
  }

  private async start(): Promise<number> {
    const { rv } = await readClock(this.opts.db);
    this.cursor = rv;
    this.poll = setInterval(() => this.wake(), this.opts.pollMs);
    unref(this.poll);
    try {
      this.unlisten = await this.opts.listen?.(KUBE_CHANNEL, () => this.wake());
    } catch (err) {
      this.opts.onError?.(err);
    }
    // A change may have committed while LISTEN was being set up.
    this.wake();
    return rv;
  }

  private async stop(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    if (this.subs.size > 0) return;
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    this.cursor = undefined;
    this.lastSeen.clear();
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.().catch(() => {});
  }

  private async pump(): Promise<void> {
    for (;;) {
      const cursor = this.cursor;
      if (cursor === undefined) return;
      this.logReads++;
      const rows = await readChanges(this.opts.db, cursor, PAGE);
      if (rows.length === 0) return;
      const through = rows[rows.length - 1]!.rv;
      const changes = await materialize(this.opts.db, rows, {
        wanted: (resource) => this.subs.has(resource),
        lastState: (key) => this.lastSeen.get(key),
        record: (key, object) => (object ? this.lastSeen.set(key, object) : this.lastSeen.delete(key)),
        onFetch: () => this.objectFetches++,
      });
      this.cursor = through;
      const byResource = new Map<string, ResourceChange[]>();
      for (const c of changes) {
        const resource = c.key.slice(0, c.key.indexOf('\u0000'));
        const list = byResource.get(resource) ?? [];
        byResource.set(resource, list);
        list.push(c);
      }
      for (const [resource, set] of this.subs)
        for (const s of [...set]) s.deliver(byResource.get(resource) ?? [], through);
      if (rows.length < PAGE) return;
    }
  }
}

export function objectKey(resource: string, namespace: string, name: string): string {
  return `${resource}\u0000${namespace}\u0000${name}`;
}

export interface MaterializeContext {
  wanted: (resource: string) => boolean;
  lastState: (key: string) => KubeObject | undefined;
  /** A watch's own replay: the hub's last states are newer than its changes, so only deletions use them. */
  replay?: boolean;
  record?: (key: string, object: KubeObject | undefined) => void;
  onFetch?: () => void;
}

/**
 * Log rows to object changes: the changes of one object collapse to one, each changed object is
 * fetched once through the face's sources (one list per resource and namespace), in its newest
 * state; a deleted one is its last known state, or what the log kept (name, labels).
 */
export async function materialize(
  db: Database,
  rows: readonly ChangeRow[],
  ctx: MaterializeContext,
): Promise<ResourceChange[]> {
  const byKey = new Map<string, { row: ChangeRow; firstRv: number; types: ChangeRow['type'][] }>();
  for (const row of rows) {
    const key = objectKey(row.resource, row.namespace, row.name);
    const had = byKey.get(key);
    // Re-inserted last, so the map's order is each object's last change's order.
    byKey.delete(key);
    byKey.set(key, { row, firstRv: had?.firstRv ?? row.rv, types: [...(had?.types ?? []), row.type] });
  }
  const fetch = new Map<string, { resource: string; namespace: string }>();
  for (const { row, types } of byKey.values())
    if (ctx.wanted(row.resource) && collapseType(types) !== 'DELETED')
      fetch.set(`${row.resource}\u0000${row.namespace}`, {
        resource: row.resource,
        namespace: row.namespace,
      });
  const current = new Map<string, KubeObject>();
  await Promise.all(
    [...fetch.values()].map(async ({ resource, namespace }) => {
      const source = KUBE_SOURCES[resource];
      if (!source) return;
      ctx.onFetch?.();
      const objects = await source.list(db, namespace === '' ? undefined : namespace, undefined);
      await stampVersions(db, resource, objects);
      for (const o of objects) current.set(objectKey(resource, namespace, o.metadata.name), o);
    }),
  );
  const out: ResourceChange[] = [];
  for (const [key, { row, firstRv, types }] of byKey) {
    const rvs = { firstRv, lastRv: row.rv };
    if (!ctx.wanted(row.resource)) {
      ctx.record?.(key, undefined);
      continue;
    }
    const type = collapseType(types);
    const prev = ctx.replay ? undefined : ctx.lastState(key);
    if (type === 'DELETED') {
      const last = ctx.lastState(key) ?? tombstone(row);
      const object = { ...last, metadata: { ...last.metadata, resourceVersion: String(row.rv) } };
      ctx.record?.(key, undefined);
      out.push({ key, rv: row.rv, ...rvs, type, object });
      continue;
    }
    const object = current.get(key);
    // Gone since (its deletion is a later row) or not served (a soft-deleted workload's rows).
    if (!object) continue;
    // Already delivered in this state (fetched newer than its row, for an earlier row).
    if (prev && Number(prev.metadata.resourceVersion) >= Number(object.metadata.resourceVersion)) continue;
    ctx.record?.(key, object);
    out.push({
      key,
      rv: Number(object.metadata.resourceVersion),
      ...rvs,
      type,
      object,
      ...(prev ? { prev } : {}),
    });
  }
  return out;
}

/** What the log kept of a deleted object this process never saw. */
function tombstone(row: ChangeRow): KubeObject {
  const r = KUBE_RESOURCES.find((x) => x.plural === row.resource);
  return {
    apiVersion: r ? groupVersion(r.group, r.version) : 'v1',
    kind: r?.kind ?? '',
    metadata: {
      name: row.name,
      ...(row.namespace ? { namespace: row.namespace } : {}),
      uid: '',
      resourceVersion: String(row.rv),
      creationTimestamp: '',
      ...(row.labels && Object.keys(row.labels).length ? { labels: row.labels } : {}),
    },
  };
}

function unref(t: unknown): void {
  (t as { unref?: () => void }).unref?.();
}
