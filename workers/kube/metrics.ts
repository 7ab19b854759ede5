import { formatMemory, formatNanoCores } from '../../common/quantity.ts';
import type { NodeUsageRow, ReplicaUsageRow, UsageWindow } from '../verbs/usage.ts';
import type { KubeObject } from './objects.ts';

/**
 * metrics.k8s.io/v1beta1 as metrics-server serves it (what `kubectl top` reads): the latest usage
 * sample the agents reported (workers/verbs/usage.ts) as PodMetrics and NodeMetrics, pure. A pod
 * or node with no sample is left out, as metrics-server leaves out what it has not scraped.
 */

export const METRICS_API_VERSION = 'metrics.k8s.io/v1beta1';

/** A duration as Go writes one (`metav1.Duration`, which kubectl parses): `15s`, `1.002s`, `1m5s`. */
export function goDuration(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  if (ms === 0) return '0s';
  const minutes = Math.floor(ms / 60_000);
  const rest = `${(ms % 60_000) / 1000}s`;
  return minutes ? `${minutes}m${rest}` : rest;
}

/** `metav1.Time`: RFC 3339 in whole seconds. */
const kubeTime = (at: Date) => at.toISOString().replace(/\.\d+Z$/, 'Z');

function window(u: UsageWindow) {
  return { timestamp: kubeTime(u.sampledAt), window: goDuration(u.windowSeconds) };
}

/** The metadata metrics-server gives: the pod's or node's name and labels, stamped when sampled. */
function metadata(of: KubeObject, u: UsageWindow) {
  return {
    name: of.metadata.name,
    ...(of.metadata.namespace !== undefined ? { namespace: of.metadata.namespace } : {}),
    uid: of.metadata.uid,
    resourceVersion: '',
    creationTimestamp: kubeTime(u.sampledAt),
    ...(of.metadata.labels ? { labels: of.metadata.labels } : {}),
  };
}

/** A Pod (objects.ts `kubePod`) and its replica's latest sample. */
export function podMetrics(pod: KubeObject, usage: ReplicaUsageRow): KubeObject {
  return {
    apiVersion: METRICS_API_VERSION,
    kind: 'PodMetrics',
    metadata: metadata(pod, usage),
    ...window(usage),
    containers: usage.containers.map((c) => ({
      name: c.name,
      usage: { cpu: formatNanoCores(c.cpuNanoCores), memory: formatMemory(c.memoryBytes) },
    })),
  };
}

/** A Node (objects.ts `kubeNode`) and its agent's latest sample of the machine. */
export function nodeMetrics(node: KubeObject, usage: NodeUsageRow): KubeObject {
  return {
    apiVersion: METRICS_API_VERSION,
    kind: 'NodeMetrics',
    metadata: metadata(node, usage),
    ...window(usage),
    usage: { cpu: formatNanoCores(usage.cpuNanoCores), memory: formatMemory(usage.memoryBytes) },
  };
}

/** Pods with a sample, in the pods' order; the rest are left out. */
export function podMetricsList(pods: KubeObject[], usage: ReplicaUsageRow[]): KubeObject[] {
  const byId = new Map(usage.map((u) => [u.replicaId, u]));
  return pods.flatMap((p) => {
    const u = byId.get(p.metadata.name);
    return u ? [podMetrics(p, u)] : [];
  });
}

/** Nodes with a sample, in the nodes' order. */
export function nodeMetricsList(nodes: KubeObject[], usage: NodeUsageRow[]): KubeObject[] {
  const byName = new Map(usage.map((u) => [u.node, u]));
  return nodes.flatMap((n) => {
    const u = byName.get(n.metadata.name);
    return u ? [nodeMetrics(n, u)] : [];
  });
}
