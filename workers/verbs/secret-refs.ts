import type { PodSpec } from '../../common/deployment.ts';

/**
 * The secrets a pod names, and which of them (or of their keys) its namespace lacks. As in
 * Kubernetes, a container whose env names a secret or key that does not exist is not started
 * (CreateContainerConfigError) rather than started with an empty value; here the same holds for
 * an `imagePullSecrets` entry. The agent is told the first reason with the assignment, and an
 * apply warns about every one of them ahead. Pure: the caller reads the secrets.
 */

/** The key names of a secret of the namespace; undefined: there is no secret of that name. */
export type SecretKeysOf = (name: string) => readonly string[] | undefined;

/** Every secret the pod names (env `secretKeyRef`, then `imagePullSecrets`), each once. */
export function secretNamesOf(spec: Pick<PodSpec, 'containers' | 'imagePullSecrets'>): string[] {
  const names = new Set<string>();
  for (const c of spec.containers)
    for (const e of c.env) if (e.valueFrom) names.add(e.valueFrom.secretKeyRef.name);
  for (const s of spec.imagePullSecrets) names.add(s.name);
  return [...names];
}

/**
 * Why the pod cannot be configured, in pod order (containers and their env first, then
 * `imagePullSecrets`), each reason once: `secret "db" not found`, `key "password" not found in
 * secret "db"`. Empty: everything it names exists.
 */
export function missingSecretRefs(
  spec: Pick<PodSpec, 'containers' | 'imagePullSecrets'>,
  keysOf: SecretKeysOf,
): string[] {
  const reasons = new Set<string>();
  for (const c of spec.containers) {
    for (const e of c.env) {
      if (!e.valueFrom) continue;
      const { name, key } = e.valueFrom.secretKeyRef;
      const keys = keysOf(name);
      if (!keys) reasons.add(secretNotFound(name));
      else if (!keys.includes(key)) reasons.add(`key "${key}" not found in secret "${name}"`);
    }
  }
  for (const s of spec.imagePullSecrets) if (!keysOf(s.name)) reasons.add(secretNotFound(s.name));
  return [...reasons];
}

const secretNotFound = (name: string) => `secret "${name}" not found`;
