import type { KubeObject } from './objects.ts';
import { PatchError } from './strategic-merge.ts';

/**
 * A Deployment's `scale` subresource (autoscaling/v1 Scale), what `kubectl scale` reads and
 * patches: the Deployment's replicas, and its selector as a label selector string. Pure.
 */
export function scaleOf(deployment: KubeObject) {
  const spec = deployment.spec as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (deployment.status ?? {}) as { replicas?: number };
  const m = deployment.metadata;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: {
      replicas: status.replicas ?? 0,
      selector: Object.entries(spec.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}

/** The replicas (and the resourceVersion precondition, if any) a written or patched Scale asks for. */
export function scaleReplicas(scale: unknown, name: string): { replicas: number; resourceVersion?: string } {
  const s = scale as {
    kind?: unknown;
    metadata?: { name?: unknown; resourceVersion?: unknown };
    spec?: { replicas?: unknown };
  };
  if (typeof s !== 'object' || s === null) throw new PatchError('a Scale must be an object');
  if (s.kind !== undefined && s.kind !== 'Scale')
    throw new PatchError(`kind must be Scale (got ${String(s.kind)})`);
  if (s.metadata?.name !== undefined && s.metadata.name !== name)
    throw new PatchError(`metadata.name must be "${name}"`);
  const replicas = s.spec?.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    throw new PatchError('spec.replicas must be a whole number, 0 or more');
  const rv = s.metadata?.resourceVersion;
  return { replicas, ...(typeof rv === 'string' && rv ? { resourceVersion: rv } : {}) };
}
