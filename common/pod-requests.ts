import type { PodTemplate } from './deployment.ts';
import { parseCpu, parseMemory } from './quantity.ts';

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

/**
 * The host ports one replica takes on its node, as "port/PROTOCOL" ("8080/TCP", "53/UDP"): every
 * port of every container that asks for a hostPort, as Kubernetes' NodePorts filter counts them,
 * each once, in the order the template lists them.
 */
export function podHostPorts(template: PodTemplate): string[] {
  const ports = new Set<string>();
  for (const c of template.spec.containers) {
    for (const p of c.ports) if (p.hostPort) ports.add(`${p.hostPort}/${p.protocol}`);
  }
  return [...ports];
}
