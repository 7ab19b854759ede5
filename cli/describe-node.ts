import { formatMemory } from '../common/quantity.ts';
import { taintText } from '../common/scheduling.ts';
import { formatAge, formatLabels } from './format.ts';
import type { Node } from './resources.ts';
import { renderFields } from './table.ts';

/** `berth describe node NAME`: what kubectl's describe node shows that Berth has. */
export function describeNode(n: Node, now: Date): string {
  const resources = (
    r:
      | {
          cpu?: number;
          memoryBytes?: number;
          ephemeralStorageBytes?: number | undefined;
          extendedResources?: Record<string, number> | undefined;
        }
      | undefined,
  ) =>
    r
      ? [
          `cpu ${r.cpu ?? '?'}, memory ${r.memoryBytes === undefined ? '?' : formatMemory(r.memoryBytes)}`,
          ...(r.ephemeralStorageBytes ? [`ephemeral-storage ${formatMemory(r.ephemeralStorageBytes)}`] : []),
          ...Object.entries(r.extendedResources ?? {}).map(([name, count]) => `${name} ${count}`),
        ].join(', ')
      : undefined;
  const taints = n.taints ?? [];
  return renderFields([
    ['Name', n.name],
    ['Status', `${n.condition ?? n.status ?? 'Unknown'}${n.unschedulable ? ', SchedulingDisabled' : ''}`],
    ['Address', n.address],
    ['Labels', formatLabels(n.labels)],
    ['Taints', taints.length ? taints.map(taintText).join(', ') : '<none>'],
    ['Capacity', resources(n.capacity)],
    ['Allocatable', resources(n.allocatable)],
    ['Allocated', `${resources(n.allocated)}, ${n.allocated?.replicas ?? 0} replicas`],
    ['Agent', n.agentVersion],
    ['Last heartbeat', n.lastHeartbeat ? `${formatAge(n.lastHeartbeat, now)} ago` : undefined],
    ['Created', n.createdAt ? `${n.createdAt} (${formatAge(n.createdAt, now)} ago)` : undefined],
  ]);
}

/** A toleration as `kubectl describe` writes it: `key=value:Effect`, `key:Effect op=Exists`, or every taint. */
export function formatToleration(t: {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}): string {
  if (!t.key) return 'every taint';
  const text = `${t.key}${t.value ? `=${t.value}` : ''}${t.effect ? `:${t.effect}` : ''}`;
  return t.operator === 'Exists' ? `${text} op=Exists` : text;
}
