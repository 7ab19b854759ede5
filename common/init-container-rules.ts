/**
 * Kubernetes' pod-wide rules for init containers (common/init-containers.ts), over the plain shape
 * the pod schema has just parsed: the schema (deployment.ts) calls them, so they import nothing.
 */

interface SleepHook {
  sleep?: { seconds: number };
}
interface RuledContainer {
  name: string;
  restartPolicy?: string;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  lifecycle?: { postStart?: SleepHook; preStop?: SleepHook };
}

/** What the rules read of a pod. */
interface InitPod {
  containers: readonly { name: string }[];
  initContainers?: readonly RuledContainer[];
  terminationGracePeriodSeconds: number;
}

export interface InitContainerIssue {
  path: (string | number)[];
  message: string;
}

/** Fields a plain init container may not have: it runs once to its exit, nothing probes or hooks it. */
const SIDECAR_ONLY = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const;

/**
 * Kubernetes' validation of init containers: names unique across init and app containers, no
 * probes or lifecycle hooks on a plain init container, and (as for containers) no sleep hook
 * longer than the pod's grace on a sidecar.
 */
export function initContainerIssues(spec: InitPod): InitContainerIssue[] {
  const issues: InitContainerIssue[] = [];
  const names = new Set(spec.containers.map((c) => c.name));
  (spec.initContainers ?? []).forEach((c, i) => {
    if (names.has(c.name))
      issues.push({ path: ['initContainers', i, 'name'], message: `duplicate container name "${c.name}"` });
    names.add(c.name);
    if (c.restartPolicy !== 'Always') {
      for (const field of SIDECAR_ONLY)
        if (c[field] !== undefined)
          issues.push({
            path: ['initContainers', i, field],
            message: 'may not be set for init containers without restartPolicy=Always',
          });
      return;
    }
    for (const hook of ['postStart', 'preStop'] as const) {
      const seconds = c.lifecycle?.[hook]?.sleep?.seconds;
      if (seconds !== undefined && seconds > spec.terminationGracePeriodSeconds)
        issues.push({
          path: ['initContainers', i, 'lifecycle', hook, 'sleep', 'seconds'],
          message: `must be at most terminationGracePeriodSeconds (${spec.terminationGracePeriodSeconds})`,
        });
    }
  });
  return issues;
}
