import { decodeBase64Text } from './base64.ts';
import { stripRoot } from './manifest-kubernetes.ts';
import type { FieldError } from './problem.ts';

/**
 * Kubernetes' configuration kinds (v1 ConfigMap, v1 Secret) → the berth.dev/v1 shape. Only what
 * the Kubernetes API server assigns is dropped, so what `kubectl create configmap|secret ...
 * --dry-run=client -o yaml` prints applies unchanged.
 */

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** v1 ConfigMap → berth.dev/v1 ConfigMap input: the same fields. */
export const kubernetesConfigMap = (doc: PlainObject): unknown => stripRoot(doc);

/** Kubernetes' Secret types Berth honours, as Berth stores them. */
const SECRET_TYPES: Record<string, string> = {
  Opaque: 'opaque',
  'kubernetes.io/dockerconfigjson': 'kubernetes.io/dockerconfigjson',
  'kubernetes.io/tls': 'kubernetes.io/tls',
  // How the Kubernetes face shows Berth's own registry secrets, so what it shows writes back.
  'berth.dev/registry': 'registry',
};

const keyPath = (field: string, key: string) =>
  `${field}${/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`;

/**
 * v1 Secret → berth.dev/v1 Secret input: `data` decoded from base64 (a value that is not base64,
 * or not UTF-8 text, is an error naming its key), `stringData` written over it key by key (it wins,
 * as in Kubernetes), the type mapped (`Opaque`, or none, is `opaque`).
 */
export function kubernetesSecret(doc: PlainObject): { value: unknown; errors: FieldError[] } {
  const copy = stripRoot(doc);
  const errors: FieldError[] = [];
  const data: Record<string, unknown> = {};
  if (copy.data !== undefined) {
    if (!isPlainObject(copy.data))
      errors.push({ path: 'data', message: 'must be an object of key → base64' });
    else
      for (const [key, value] of Object.entries(copy.data)) {
        const text = typeof value === 'string' ? decodeBase64Text(value) : undefined;
        if (text === undefined)
          errors.push({
            path: keyPath('data', key),
            message: 'must be base64 (the standard alphabet, padded)',
          });
        else if (text === null)
          errors.push({
            path: keyPath('data', key),
            message: 'must decode to UTF-8 text: Berth keeps secret values as text',
          });
        else data[key] = text;
      }
  }
  if (copy.stringData !== undefined) {
    if (!isPlainObject(copy.stringData)) errors.push({ path: 'stringData', message: 'must be an object' });
    else Object.assign(data, copy.stringData);
  }
  delete copy.stringData;
  copy.data = data;
  if (copy.type === undefined || copy.type === '') copy.type = 'opaque';
  else if (typeof copy.type === 'string' && SECRET_TYPES[copy.type]) copy.type = SECRET_TYPES[copy.type];
  else {
    errors.push({
      path: 'type',
      message: `type ${String(copy.type)} is not supported by Berth (${Object.keys(SECRET_TYPES).join(', ')})`,
    });
    delete copy.type;
  }
  if (copy.immutable !== undefined) {
    if (copy.immutable !== false)
      errors.push({ path: 'immutable', message: 'immutable is not supported by Berth for a Secret' });
    delete copy.immutable;
  }
  return { value: copy, errors };
}

/**
 * v1 ServiceAccount → berth.dev/v1 ServiceAccount input. Its imagePullSecrets would reach its pods
 * in Kubernetes, and its secrets name the tokens Berth never mounts: either, non-empty, is a 422.
 */
export function kubernetesServiceAccount(doc: Record<string, unknown>): {
  value: Record<string, unknown>;
  errors: { path: string; message: string }[];
} {
  const value = stripRoot(doc);
  const errors: { path: string; message: string }[] = [];
  const refused = {
    imagePullSecrets:
      "a ServiceAccount's imagePullSecrets are not supported by Berth (list them under the pod template's imagePullSecrets)",
    secrets: "a ServiceAccount's secrets are not supported by Berth: it mounts no Kubernetes API token",
  };
  for (const [key, message] of Object.entries(refused)) {
    const list = value[key];
    if (Array.isArray(list) && list.length) errors.push({ path: key, message });
    if (list === null || Array.isArray(list)) delete value[key];
  }
  return { value, errors };
}
