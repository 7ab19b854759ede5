import { stripRoot } from './manifest-kubernetes.ts';

/**
 * Kubernetes' configuration kinds (v1 ConfigMap) → the berth.dev/v1 shape, which uses Kubernetes'
 * own field names: only what the Kubernetes API server assigns is dropped, so what `kubectl create
 * configmap ... --dry-run=client -o yaml` prints applies unchanged.
 */

/** v1 ConfigMap → berth.dev/v1 ConfigMap input. */
export const kubernetesConfigMap = (doc: Record<string, unknown>): unknown => stripRoot(doc);
