import type { PodTemplate } from '../../common/deployment.ts';
import { parseCpu, parseMemory } from '../../common/quantity.ts';

/**
 * What one replica asks of a node: the sum of its containers' requests. As in Kubernetes, a
 * limit without a request counts as the request.
 */
export function podRequests(template: PodTemplate): { cpuMillis: number; memoryBytes: number } {
  let cpuMillis = 0;
  let memoryBytes = 0;
  for (const c of template.spec.containers) {
    const cpu = c.resources.requests?.cpu ?? c.resources.limits?.cpu;
    const memory = c.resources.requests?.memory ?? c.resources.limits?.memory;
    cpuMillis += cpu === undefined ? 0 : (parseCpu(cpu) ?? 0);
    memoryBytes += memory === undefined ? 0 : (parseMemory(memory) ?? 0);
  }
  return { cpuMillis, memoryBytes };
}
