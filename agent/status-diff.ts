import type { ReplicaStatus } from '../common/agent-protocol.ts';
import { stableJson } from './container-spec.ts';

export interface StatusDiff {
  /** New or changed replicas. */
  changed: string[];
  /** Replicas reported before and absent now. */
  removed: string[];
}

/** What differs between two reports' replica lists (order does not matter). */
export function diffStatuses(prev: readonly ReplicaStatus[], next: readonly ReplicaStatus[]): StatusDiff {
  const before = new Map(prev.map((r) => [r.id, stableJson(r)]));
  const changed: string[] = [];
  for (const r of next) {
    if (before.get(r.id) !== stableJson(r)) changed.push(r.id);
    before.delete(r.id);
  }
  return { changed, removed: [...before.keys()] };
}

export function isEmptyDiff(d: StatusDiff): boolean {
  return d.changed.length === 0 && d.removed.length === 0;
}
