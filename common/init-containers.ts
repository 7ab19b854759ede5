import type { AssignedContainer, AssignedInitContainer } from './agent-protocol.ts';
import type { Container, PodSpec } from './deployment.ts';

/**
 * A pod's init containers (`spec.initContainers`), as Kubernetes defines them: each runs to
 * success, in order, before the app containers start; one with `restartPolicy: Always` is a
 * sidecar, started in order and kept running for the pod's life. Their schema is the container's
 * (deployment.ts InitContainer); the rules that only make sense pod-wide are in
 * init-container-rules.ts, which the schema reads.
 */

/**
 * The pod with its init containers first in `containers`: what reads every container of a pod
 * the same way (env, secrets and ConfigMaps it names, mounts) reads init containers too.
 * splitInitContainers takes them out again.
 */
export function withInitContainers<S extends Pick<PodSpec, 'containers' | 'initContainers'>>(spec: S): S {
  const init = spec.initContainers ?? [];
  return init.length === 0 ? spec : { ...spec, containers: [...init, ...spec.containers] };
}

/**
 * An assignment built from withInitContainers(spec): its first containers are the init
 * containers, moved to `initContainers` (sidecars with their restartPolicy). A pod without any is
 * returned as it is, so its assignment is what it always was.
 */
export function splitInitContainers<A extends { containers: AssignedContainer[] }>(
  spec: Pick<PodSpec, 'initContainers'>,
  a: A,
): A & { initContainers?: AssignedInitContainer[] } {
  const init = spec.initContainers ?? [];
  if (init.length === 0) return a;
  return {
    ...a,
    initContainers: a.containers
      .slice(0, init.length)
      .map((c, i) => (init[i]!.restartPolicy === 'Always' ? { ...c, restartPolicy: 'Always' as const } : c)),
    containers: a.containers.slice(init.length),
  };
}

/** A container's requests, a limit without a request counting as the request (Kubernetes). */
export type Requests = { cpuMillis: number; memoryBytes: number };

/**
 * What a pod asks of a node, as Kubernetes' scheduler counts it: the larger of what its
 * initialization needs at its peak (each plain init container beside the sidecars started before
 * it) and what it runs with (app containers and every sidecar), resource by resource.
 */
export function effectiveRequests(
  spec: Pick<PodSpec, 'containers' | 'initContainers'>,
  requestsOf: (c: Container) => Requests,
): Requests {
  const sum = (a: Requests, b: Requests): Requests => ({
    cpuMillis: a.cpuMillis + b.cpuMillis,
    memoryBytes: a.memoryBytes + b.memoryBytes,
  });
  const max = (a: Requests, b: Requests): Requests => ({
    cpuMillis: Math.max(a.cpuMillis, b.cpuMillis),
    memoryBytes: Math.max(a.memoryBytes, b.memoryBytes),
  });
  const zero: Requests = { cpuMillis: 0, memoryBytes: 0 };
  let sidecars = zero;
  let peak = zero;
  for (const c of spec.initContainers ?? []) {
    if (c.restartPolicy === 'Always') {
      sidecars = sum(sidecars, requestsOf(c));
      peak = max(peak, sidecars);
    } else {
      peak = max(peak, sum(sidecars, requestsOf(c)));
    }
  }
  const running = spec.containers.map(requestsOf).reduce(sum, sidecars);
  return max(peak, running);
}
