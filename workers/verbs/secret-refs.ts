import type { PodSpec } from '../../common/deployment.ts';

/**
 * The secrets and ConfigMaps a pod names, and which of them (or of their keys) its namespace
 * lacks. As in Kubernetes, a container whose env names a secret, ConfigMap or key that does not
 * exist is not started (CreateContainerConfigError) rather than started with an empty value,
 * unless the reference is `optional`; here the same holds for an `imagePullSecrets` entry. The
 * agent is told the first reason with the assignment, and an apply warns about every one of them
 * ahead. Pure: the caller reads the secrets and ConfigMaps.
 */

/** The key names of a secret (or ConfigMap) of the namespace; undefined: there is none of that name. */
export type SecretKeysOf = (name: string) => readonly string[] | undefined;

/** Every secret the pod names (env `secretKeyRef`, `envFrom` `secretRef`, then `imagePullSecrets`), each once. */
export function secretNamesOf(spec: Pick<PodSpec, 'containers' | 'imagePullSecrets'>): string[] {
  const names = new Set<string>();
  for (const c of spec.containers) {
    for (const e of c.env) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
    for (const f of c.envFrom ?? []) if (f.secretRef) names.add(f.secretRef.name);
  }
  for (const s of spec.imagePullSecrets) names.add(s.name);
  return [...names];
}

/** Every ConfigMap the pod names (env `configMapKeyRef`, `envFrom` `configMapRef`), each once. */
export function configMapNamesOf(spec: Pick<PodSpec, 'containers'>): string[] {
  const names = new Set<string>();
  for (const c of spec.containers) {
    for (const e of c.env) if (e.valueFrom?.configMapKeyRef) names.add(e.valueFrom.configMapKeyRef.name);
    for (const f of c.envFrom ?? []) if (f.configMapRef) names.add(f.configMapRef.name);
  }
  return [...names];
}

/**
 * Why the pod cannot be configured, in pod order (containers, their envFrom then env, then
 * `imagePullSecrets`), each reason once: `secret "db" not found`, `key "password" not found in
 * secret "db"`, `configmap "app" not found`. An `optional` reference is never a reason. Empty:
 * everything it needs exists.
 */
export function missingSecretRefs(
  spec: Pick<PodSpec, 'containers' | 'imagePullSecrets'>,
  keysOf: SecretKeysOf,
  configMapKeysOf: SecretKeysOf,
): string[] {
  const reasons = new Set<string>();
  const kinds = { secret: keysOf, configmap: configMapKeysOf };
  const need = (kind: keyof typeof kinds, ref: { name: string; key?: string; optional?: boolean }) => {
    if (ref.optional) return;
    const keys = kinds[kind](ref.name);
    if (!keys) reasons.add(`${kind} "${ref.name}" not found`);
    else if (ref.key !== undefined && !keys.includes(ref.key))
      reasons.add(`key "${ref.key}" not found in ${kind} "${ref.name}"`);
  };
  for (const c of spec.containers) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef) need('configmap', f.configMapRef);
      if (f.secretRef) need('secret', f.secretRef);
    }
    for (const e of c.env) {
      if (e.valueFrom?.secretKeyRef) need('secret', e.valueFrom.secretKeyRef);
      if (e.valueFrom?.configMapKeyRef) need('configmap', e.valueFrom.configMapKeyRef);
    }
  }
  for (const s of spec.imagePullSecrets) need('secret', s);
  return [...reasons];
}
