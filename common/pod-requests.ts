import type { Container, PodTemplate } from './deployment.ts';
import { effectiveRequests } from './init-containers.ts';
import { parseCpu, parseMemory } from './quantity.ts';

/**
 * What one replica asks of a node, as Kubernetes counts it: the sum of its containers' requests,
 * or what its init containers need at their peak if that is more (init-containers.ts). As in
 * Kubernetes, a limit without a request counts as the request.
 */
export function podRequests(template: PodTemplate): { cpuMillis: number; memoryBytes: number } {
  return effectiveRequests(template.spec, containerRequests);
}

function containerRequests(c: Container): { cpuMillis: number; memoryBytes: number } {
  const cpu = c.resources.requests?.cpu ?? c.resources.limits?.cpu;
  const memory = c.resources.requests?.memory ?? c.resources.limits?.memory;
  return {
    cpuMillis: cpu === undefined ? 0 : (parseCpu(cpu) ?? 0),
    memoryBytes: memory === undefined ? 0 : (parseMemory(memory) ?? 0),
  };
}

/**
 * The host ports one replica takes on its node, as "port/PROTOCOL" ("8080/TCP", "53/UDP"): every
 * port of every container (init containers too) that asks for a hostPort, as Kubernetes' NodePorts
 * filter counts them, each once, in the order the template lists them.
 */
export function podHostPorts(template: PodTemplate): string[] {
  const ports = new Set<string>();
  for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
    for (const p of c.ports) if (p.hostPort) ports.add(`${p.hostPort}/${p.protocol}`);
  }
  return [...ports];
}
