import type { PodSpec } from './deployment.ts';

/**
 * What a pod may ask of the agent that runs it beyond what every berth-agent does. An agent that
 * predates a field ignores it in its assignment (a pod with runAsNonRoot would run as root, one
 * with volumes without its files), so each agent says what it honours as node labels, the way
 * Kubernetes' node feature discovery does, and a pod that uses a feature is placed only on nodes
 * that carry its label. Until an old agent is upgraded its replicas wait Pending, and say why.
 *
 * Adding a feature is adding a line here: the agent publishes every one it is built with.
 */

export const FEATURE_LABEL_PREFIX = 'feature.berth.dev/';

interface PodFeature {
  /** The label's name after the prefix, and what the scheduler's reason calls it. */
  name: string;
  uses(spec: PodSpec): boolean;
}

const any = <T>(list: readonly T[] | undefined, test: (item: T) => boolean) => (list ?? []).some(test);
const everyContainer = (spec: PodSpec) => [...(spec.initContainers ?? []), ...spec.containers];

export const POD_FEATURES: readonly PodFeature[] = [
  { name: 'init-containers', uses: (spec) => (spec.initContainers?.length ?? 0) > 0 },
  {
    name: 'volumes',
    uses: (spec) =>
      (spec.volumes?.length ?? 0) > 0 || any(everyContainer(spec), (c) => (c.volumeMounts?.length ?? 0) > 0),
  },
  {
    name: 'security-context',
    uses: (spec) =>
      spec.securityContext !== undefined || any(everyContainer(spec), (c) => !!c.securityContext),
  },
  {
    name: 'persistent-volume-claims',
    uses: (spec) => any(spec.volumes, (v) => v.persistentVolumeClaim !== undefined),
  },
  {
    // The group owns the pod's volumes, configMap and secret files included.
    name: 'volume-fs-group',
    uses: (spec) => spec.securityContext?.fsGroup !== undefined && (spec.volumes?.length ?? 0) > 0,
  },
  {
    // An emptyDir's subPath is bound through a file descriptor, safe from the containers' symlinks.
    name: 'empty-dir-sub-path',
    uses: (spec) =>
      any(everyContainer(spec), (c) =>
        any(c.volumeMounts, (m) => !!m.subPath && !!spec.volumes?.find((v) => v.name === m.name)?.emptyDir),
      ),
  },
  {
    // A disk emptyDir's sizeLimit: measured by the agent, which evicts the replica past it.
    name: 'empty-dir-size-limit',
    uses: (spec) =>
      any(spec.volumes, (v) => v.emptyDir?.sizeLimit !== undefined && v.emptyDir.medium !== 'Memory'),
  },
  { name: 'host-path-volumes', uses: (spec) => any(spec.volumes, (v) => !!v.hostPath) },
  { name: 'startup-probes', uses: (spec) => any(everyContainer(spec), (c) => !!c.startupProbe) },
  { name: 'lifecycle-hooks', uses: (spec) => any(everyContainer(spec), (c) => !!c.lifecycle) },
  {
    name: 'grpc-probes',
    uses: (spec) =>
      any(
        everyContainer(spec),
        (c) => !!(c.readinessProbe?.grpc || c.livenessProbe?.grpc || c.startupProbe?.grpc),
      ),
  },
];

export const featureLabel = (name: string) => `${FEATURE_LABEL_PREFIX}${name}`;

/** The labels a berth-agent of this build registers with: every feature it honours. */
export function agentFeatureLabels(): Record<string, string> {
  return Object.fromEntries(POD_FEATURES.map((f) => [featureLabel(f.name), 'true']));
}

const selectors = new WeakMap<PodSpec, Record<string, string>>();

/**
 * The node selector placement uses: the pod's own, plus the label of each feature it uses. A pod
 * that uses none gets its own selector back (the same object: the scheduler groups by it).
 */
export function placementSelector(spec: PodSpec): Record<string, string> {
  let selector = selectors.get(spec);
  if (selector) return selector;
  const used = POD_FEATURES.filter((f) => f.uses(spec));
  selector = used.length
    ? { ...spec.nodeSelector, ...Object.fromEntries(used.map((f) => [featureLabel(f.name), 'true'])) }
    : spec.nodeSelector;
  selectors.set(spec, selector);
  return selector;
}

/** The features a selector asks for that a node's labels lack, by name. */
export function missingFeatures(
  selector: readonly (readonly [string, string])[],
  labels: Record<string, string>,
): string[] {
  const missing: string[] = [];
  for (const [key, value] of selector)
    if (key.startsWith(FEATURE_LABEL_PREFIX) && labels[key] !== value)
      missing.push(key.slice(FEATURE_LABEL_PREFIX.length));
  return missing;
}

/** The scheduler's reason for nodes whose agent lacks a feature the pod uses. */
export function outdatedAgentsReason(count: number, features: ReadonlySet<string>): string {
  return `${count} node(s) run a berth-agent without ${[...features].sort().join(', ')} (upgrade berth-agent)`;
}
