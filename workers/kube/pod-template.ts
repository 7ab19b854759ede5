import { DEFAULT_DRAIN_DELAY_SECONDS, DRAIN_DELAY_ANNOTATION } from '../../common/deployment.ts';

interface ShownTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { drainDelaySeconds?: number; [field: string]: unknown };
}

/**
 * A stored pod template as Kubernetes shows it: `drainDelaySeconds`, which Kubernetes' PodSpec
 * lacks, moves to its annotation when it is not the default (kubectl's typed clients drop a field
 * they do not know, and would write the default back: `rollout undo` would then be a new
 * revision). Every kind with a pod template shows it through here, so a ReplicaSet's template
 * equals its Deployment's, as kubectl compares them.
 */
export function kubePodTemplate<T extends ShownTemplate>(template: T): T {
  const { drainDelaySeconds, ...spec } = template.spec;
  const annotations =
    drainDelaySeconds === undefined || drainDelaySeconds === DEFAULT_DRAIN_DELAY_SECONDS
      ? template.metadata.annotations
      : { ...template.metadata.annotations, [DRAIN_DELAY_ANNOTATION]: String(drainDelaySeconds) };
  return {
    ...template,
    metadata: { ...template.metadata, ...(annotations ? { annotations } : {}) },
    spec,
  };
}
