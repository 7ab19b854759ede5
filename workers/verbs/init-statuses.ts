import type { ContainerStatus, ReplicaStatus } from '../../common/agent-protocol.ts';

/**
 * A replica's init container statuses live in its `containers` column beside the app containers'
 * (first, each marked), so that a pod with init containers needs no column of its own; the API
 * shows them apart again, as `initContainers`.
 */
const MARK = 'initContainer';

type Stored = ContainerStatus & { [MARK]?: true };

/** What the column keeps of a report: init containers (marked), then app containers. */
export function storedContainers(r: Pick<ReplicaStatus, 'containers' | 'initContainers'>): ContainerStatus[] {
  const init = (r.initContainers ?? []).map((c): Stored => ({ ...c, [MARK]: true }));
  return init.length === 0 ? r.containers : [...init, ...r.containers];
}

/** The column as the API shows it: `initContainers` only for a pod that has them. */
export function shownContainers(stored: readonly ContainerStatus[]): {
  containers: ContainerStatus[];
  initContainers?: ContainerStatus[];
} {
  const all = stored as readonly Stored[];
  if (!all.some((c) => c[MARK])) return { containers: [...stored] };
  const strip = ({ [MARK]: _, ...c }: Stored): ContainerStatus => c;
  return {
    containers: all.filter((c) => !c[MARK]).map(strip),
    initContainers: all.filter((c) => c[MARK]).map(strip),
  };
}
