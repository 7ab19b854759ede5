import type { AssignedContainer } from '../common/agent-protocol.ts';
import type { ContainerSecurity } from './driver/driver.ts';
import { containerSecurity } from './security-context.ts';

/**
 * What every container the agent creates gets, unless a tenant's spec says otherwise: the limits
 * and privileges that keep one tenant from taking down the node or reaching its neighbours.
 * The pod and container securityContext map onto the same fields, starting from these defaults
 * (security-context.ts).
 */

/** Node-wide settings of the agent (berth-agent flags) that shape every container. */
export interface ContainerPolicy {
  /** Most processes and threads one container may have (HostConfig.PidsLimit); 0: no limit. */
  pidsLimit: number;
}

export const DEFAULT_PIDS_LIMIT = 4096;
export const DEFAULT_CONTAINER_POLICY: ContainerPolicy = { pidsLimit: DEFAULT_PIDS_LIMIT };

export { DROPPED_CAPABILITIES } from './security-context.ts';

export interface ContainerDefaults {
  security: ContainerSecurity;
  /** Absent: no limit (pidsLimit 0). */
  pidsLimit?: number;
  /**
   * `limits.memory`, else `requests.memory`: a container may not grow past what it asked for
   * when it set no limit (the control plane fills in a namespace default when it set neither).
   */
  memoryBytes?: number;
}

/** Docker refuses a memory limit below 6 MiB. */
export const MIN_MEMORY_LIMIT = 6 * 2 ** 20;

export function containerDefaults(c: AssignedContainer, policy: ContainerPolicy): ContainerDefaults {
  const limit = c.resources.memoryLimitBytes;
  const request = c.resources.memoryRequestBytes;
  // A limit the user wrote is passed on as written (too small, Docker says so in the replica's
  // message); one derived from a small request is raised to what Docker accepts instead.
  const memoryBytes = limit ?? (request ? Math.max(request, MIN_MEMORY_LIMIT) : undefined);
  return {
    security: containerSecurity(c.securityContext),
    ...(policy.pidsLimit > 0 ? { pidsLimit: policy.pidsLimit } : {}),
    ...(memoryBytes ? { memoryBytes } : {}),
  };
}
