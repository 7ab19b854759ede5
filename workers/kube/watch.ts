import type { AppDeps } from '../app-context.ts';
import type { KubeObject } from './objects.ts';
import { groupVersion, type KubeResource } from './resources.ts';
import { KubeStatusError } from './status.ts';
import { toTable } from './tables.ts';
import { readChanges, readClock } from './versions.ts';
import {
  bookmark,
  encodeEvent,
  eventFor,
  matchesFilter,
  type WatchEvent,
  type WatchFilter,
} from './watch-events.ts';
import {
  type HubSubscriber,
  type KubeWatchHub,
  materialize,
  objectKey,
  type ResourceChange,
} from './watch-hub.ts';

/**
 * `?watch=true` on a list URL: a stream of `{"type","object"}` lines. From a `resourceVersion`:
 * the changes after it (a 410 Expired ERROR event when the log no longer reaches back to it);
 * without one (or "0"): ADDED for every object there is, then the changes. The changes come from
 * the process's shared hub (watch-hub.ts); this module holds one watcher's state only.
 */

/** How often a watch that allows them gets a BOOKMARK (and once more just before it times out). */
export const BOOKMARK_MS = 10_000;
/** How long a watch without timeoutSeconds lasts; clients watch again from where they were. */
const DEFAULT_TIMEOUT_S: Record<AppDeps['runtime'], number> = { node: 1800, deno: 1800, workers: 300 };
const REPLAY_PAGE = 1000;

export interface WatchRequest {
  deps: AppDeps;
  hub: KubeWatchHub;
  resource: KubeResource;
  filter: WatchFilter;
  query: Record<string, string>;
  /** Each event's object as a one-row Table (`kubectl get -w`). */
  table: boolean;
  /** The objects there are now, selected and with their resourceVersions (a watch from now). */
  list: () => Promise<KubeObject[]>;
  /**
   * Node's own response for the request (Hono's Node adapter passes it as `c.env.outgoing`):
   * frames are written to it directly, which keeps no Web stream, Response or reader per watch.
   * Elsewhere (Deno, Workers, in-process requests) the watch is a ReadableStream body.
   */
  outgoing?: NodeOutgoing;
}

/** The part of Node's `ServerResponse` a watch writes to. */
export interface NodeOutgoing {
  writeHead(status: number, headers: Record<string, string>): unknown;
  flushHeaders(): void;
  write(chunk: string): boolean;
  end(): unknown;
  once(event: 'close', listener: () => void): unknown;
  destroyed: boolean;
}

// Unencoded and not to be transformed: events must reach kubectl as they happen (pod-log-route.ts STREAMED).
const HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-cache, private, no-transform',
  'content-encoding': 'identity',
};
/** Tells Hono's Node adapter the response was written already (its RESPONSE_ALREADY_SENT). */
const ALREADY_SENT = 'x-hono-already-sent';

export function isWatch(query: Record<string, string>): boolean {
  return query.watch === 'true' || query.watch === '1';
}

const encoder = new TextEncoder();

export async function serveWatch(w: WatchRequest): Promise<Response> {
  // The long-lived closures below name only what they need: a watch must not keep its request
  // (the list function holds the request's context) alive for its whole life.
  const { deps, hub, resource, filter, query, table, outgoing } = w;
  const list = w.list;
  const from = parseResourceVersion(query.resourceVersion);
  const timeoutS = parseTimeout(query.timeoutSeconds) ?? DEFAULT_TIMEOUT_S[deps.runtime];
  const bookmarks = query.allowWatchBookmarks === 'true' || query.allowWatchBookmarks === '1';
  const apiVersion = groupVersion(resource.group, resource.version);

  const early: string[] = [];
  let out: { enqueue(frame: string): void; close(): void } | undefined;
  let ended = false;
  let timers: ReturnType<typeof setTimeout>[] = [];
  /** Hub deliveries held while the watch replays up to the hub's position. */
  let pending: { changes: readonly ResourceChange[]; through: number }[] | undefined = [];
  /** Objects sent in a state newer than the hub's position: the hub's event for it is a repeat. */
  const sentAhead = new Map<string, number>();
  let floor = 0;
  let cursor = 0;

  const write = (e: WatchEvent) => {
    const frame = encodeEvent(table && e.type !== 'BOOKMARK' && e.type !== 'ERROR' ? asTable(e) : e);
    if (out) out.enqueue(frame);
    else early.push(frame);
  };
  const asTable = (e: WatchEvent): WatchEvent => {
    const o = e.object as KubeObject;
    return { type: e.type, object: toTable(resource.kind, [o], o.metadata.resourceVersion, deps.now()) };
  };
  const send = (changes: readonly ResourceChange[], through: number) => {
    for (const c of changes) {
      // The hub may have read from before this watch's point: what it had seen by then is not news.
      if (c.lastRv <= floor) continue;
      const ahead = sentAhead.get(c.key);
      if (ahead !== undefined && c.rv <= ahead) continue;
      const e = eventFor(filter, c.type === 'ADDED' && c.firstRv <= floor ? { ...c, type: 'MODIFIED' } : c);
      if (e) write(e);
    }
    cursor = Math.max(cursor, through);
    for (const [key, rv] of sentAhead) if (rv <= through) sentAhead.delete(key);
  };
  const finish = () => {
    if (ended) return;
    ended = true;
    for (const t of timers) clearTimeout(t);
    timers = [];
    hub.unsubscribe(sub);
    try {
      out?.close();
    } catch {
      // Already closed by the client going away.
    }
  };
  const sub: HubSubscriber = {
    resource: resource.plural,
    deliver: (changes, through) => {
      if (ended) return;
      if (pending) pending.push({ changes, through });
      else send(changes, through);
    },
    end: finish,
  };

  const hubFrom = await hub.subscribe(sub);
  try {
    const clock = await readClock(deps.db);
    if (from === undefined) {
      // Listed after the clock is read: every change up to it is in the list.
      const items = (await list()).filter((o) => matchesFilter(filter, o));
      for (const o of items) {
        write({ type: 'ADDED', object: o });
        const rv = Number(o.metadata.resourceVersion);
        if (rv > hubFrom)
          sentAhead.set(objectKey(resource.plural, o.metadata.namespace ?? '', o.metadata.name), rv);
      }
      hub.remember(resource.plural, items);
      floor = clock.rv;
    } else if (from < clock.prunedThrough) {
      write({
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${from} (${clock.prunedThrough})`,
          reason: 'Expired',
          code: 410,
        },
      });
      ended = true;
      hub.unsubscribe(sub);
    } else {
      floor = from;
      // The changes between the given point and the hub's, read by this watch alone, once.
      for (let after = from; after < hubFrom && !ended; ) {
        const rows = (await readChanges(deps.db, after, REPLAY_PAGE, resource.plural)).filter(
          (r) => r.rv <= hubFrom,
        );
        if (rows.length === 0) break;
        after = rows[rows.length - 1]!.rv;
        const changes = await materialize(deps.db, rows, {
          wanted: (r) => r === resource.plural,
          lastState: (key) => hub.lastState(key),
          replay: true,
        });
        for (const c of changes) {
          const e = eventFor(filter, c);
          if (e) write(e);
          if (c.rv > hubFrom) sentAhead.set(c.key, c.rv);
        }
      }
    }
    cursor = Math.max(floor, hubFrom);
  } catch (err) {
    hub.unsubscribe(sub);
    throw err;
  }
  const held = pending;
  pending = undefined;
  for (const p of held) send(p.changes, p.through);

  /** Attaches the transport: flushes what was written before, then keeps the watch's timers. */
  const begin = (sink: NonNullable<typeof out>) => {
    out = sink;
    for (const frame of early) sink.enqueue(frame);
    early.length = 0;
    if (ended) {
      sink.close();
      return;
    }
    const endAt = timeoutS * 1000;
    if (bookmarks) {
      timers.push(setInterval(() => write(bookmark(apiVersion, resource.kind, cursor)), BOOKMARK_MS));
      // Kubernetes sends one just before a watch times out, so the client resumes from it.
      if (endAt > 1000)
        timers.push(setTimeout(() => write(bookmark(apiVersion, resource.kind, cursor)), endAt - 1000));
    }
    timers.push(setTimeout(finish, endAt));
  };

  if (outgoing) {
    outgoing.writeHead(200, HEADERS);
    // The client learns the watch is open before any event comes (kubectl waits for the headers).
    outgoing.flushHeaders();
    // A client going away closes the response: the watch ends there.
    outgoing.once('close', finish);
    begin({
      enqueue: (frame) => {
        if (!outgoing.destroyed) outgoing.write(frame);
      },
      close: () => outgoing.end(),
    });
    return new Response(null, { headers: { [ALREADY_SENT]: 'true' } });
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      begin({
        enqueue: (frame) => controller.enqueue(encoder.encode(frame)),
        close: () => controller.close(),
      });
    },
    // A client going away cancels the stream (every runtime does): the watch ends there.
    cancel: finish,
  });
  return new Response(stream, { status: 200, headers: HEADERS });
}

/** undefined: from now (absent, '' or '0', which Kubernetes reads as "any"). */
export function parseResourceVersion(v: string | undefined): number | undefined {
  if (v === undefined || v === '' || v === '0') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new KubeStatusError('BAD_REQUEST', `invalid resource version "${v}"`);
  return Number(v);
}

export function parseTimeout(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,9}$/.test(v))
    throw new KubeStatusError('BAD_REQUEST', `invalid timeoutSeconds "${v}": must be a whole number`);
  const n = Number(v);
  return n > 0 ? n : undefined;
}
