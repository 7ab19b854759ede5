import { matchesSelector, type Requirement } from '../../common/label-selector.ts';
import { type FieldRequirement, matchesFields } from './field-selector.ts';
import type { KubeObject } from './objects.ts';

/**
 * What one watcher is sent for one change, pure. A watch sees an object through its selectors
 * (namespace, labels, fields), as Kubernetes' watch cache does: an object that comes to match is
 * ADDED for it, one that stops matching is DELETED for it, and a deletion is the object's last
 * state.
 */

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: unknown;
}

export interface WatchFilter {
  /** Undefined: every namespace (or a cluster-scoped resource). */
  namespace?: string;
  /** What the token may see (e.g. the namespaces a limited token reaches), when not everything. */
  visible?: (o: KubeObject) => boolean;
  labels: readonly Requirement[];
  fields: readonly FieldRequirement[];
}

export function matchesFilter(f: WatchFilter, o: KubeObject): boolean {
  const ns = o.metadata.namespace ?? '';
  if (f.namespace !== undefined && ns !== f.namespace) return false;
  if (f.visible && !f.visible(o)) return false;
  return matchesSelector(o.metadata.labels ?? {}, [...f.labels]) && matchesFields(o, f.fields);
}

/** One object's change as the watch hub saw it. */
export interface ObjectChange {
  /** The clock value of its last change. */
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** Its state now; for DELETED its last state (or what the log kept of it). */
  object: KubeObject;
  /** Its state before, when known. */
  prev?: KubeObject;
}

export function eventFor(f: WatchFilter, change: ObjectChange): WatchEvent | undefined {
  const now = matchesFilter(f, change.object);
  if (change.type === 'DELETED') return now ? { type: 'DELETED', object: change.object } : undefined;
  if (change.type === 'ADDED') return now ? { type: 'ADDED', object: change.object } : undefined;
  // Unknown before: as matched as now (a watcher that had it sees a change, one that did not, nothing).
  const before = change.prev ? matchesFilter(f, change.prev) : now;
  if (now && before) return { type: 'MODIFIED', object: change.object };
  if (now) return { type: 'ADDED', object: change.object };
  if (before) return { type: 'DELETED', object: change.object };
  return undefined;
}

/** Kubernetes' BOOKMARK: only the kind and the resourceVersion the watch has reached. */
export function bookmark(apiVersion: string, kind: string, rv: number): WatchEvent {
  return { type: 'BOOKMARK', object: { kind, apiVersion, metadata: { resourceVersion: String(rv) } } };
}

/** A watch frame: one JSON object per line, as kubectl's stream decoder reads it. */
export function encodeEvent(e: WatchEvent): string {
  return `${JSON.stringify(e)}\n`;
}

/**
 * Several changes of one object in one read collapse to one event: the object is fetched once, in
 * its newest state. Created then deleted within the read: its deletion alone.
 */
export function collapseType(
  types: readonly ('ADDED' | 'MODIFIED' | 'DELETED')[],
): 'ADDED' | 'MODIFIED' | 'DELETED' {
  const last = types[types.length - 1] ?? 'MODIFIED';
  if (last === 'DELETED') return 'DELETED';
  // Deleted then created again (a workload's name reused) is a new object: ADDED.
  return types.includes('ADDED') ? 'ADDED' : 'MODIFIED';
}
