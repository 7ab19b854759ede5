import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';
import { parseDockerConfigJson } from './docker-config.ts';

/**
 * The Secret as users write it (berth.dev/v1). Values are plain strings (not base64 as in
 * Kubernetes): the server encrypts them at rest and never returns them. A Kubernetes v1 Secret
 * (`/v1/apply`) arrives here decoded (common/manifest-kubernetes-config.ts), its `Opaque` as
 * `opaque`; the two Kubernetes types Berth honours keep their names.
 */

export const SecretType = z.enum([
  'opaque',
  'registry',
  /** `.dockerconfigjson`: registry credentials for imagePullSecrets, as `kubectl create secret docker-registry`. */
  'kubernetes.io/dockerconfigjson',
  /** `tls.crt` and `tls.key`, as `kubectl create secret tls`; read through env like any key. */
  'kubernetes.io/tls',
]);
export type SecretType = z.infer<typeof SecretType>;

/** Kubernetes' rule for Secret keys, so a key can become a file name or an env var source. */
export const SecretKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must consist of letters, digits, "-", "_" or "."');

export const SecretData = z.record(SecretKey, z.string().max(256 * 1024, 'must be at most 256 KiB'));
export type SecretData = z.infer<typeof SecretData>;

/** A registry secret is exactly what an image pull needs, so agents can use it without guessing. */
export const REGISTRY_KEYS = ['server', 'username', 'password'] as const;

export const SecretInput = z
  .strictObject({
    apiVersion: z.literal('berth.dev/v1').optional(),
    kind: z.literal('Secret').optional(),
    metadata: ObjectMetaInput.default({}),
    type: SecretType.default('opaque'),
    data: SecretData.default({}),
  })
  .check((ctx) => {
    const { type, data } = ctx.value;
    const problem = (key: string, message: string) =>
      ctx.issues.push({ code: 'custom', input: data, path: ['data', key], message });
    if (type === 'kubernetes.io/tls') {
      for (const key of ['tls.crt', 'tls.key'])
        if (data[key] === undefined) problem(key, `is required for a ${type} secret`);
      return;
    }
    if (type === 'kubernetes.io/dockerconfigjson') {
      const config = data['.dockerconfigjson'];
      if (config === undefined) problem('.dockerconfigjson', `is required for a ${type} secret`);
      else {
        const parsed = parseDockerConfigJson(config);
        if ('error' in parsed) problem('.dockerconfigjson', parsed.error);
      }
      return;
    }
    if (type !== 'registry') return;
    for (const key of REGISTRY_KEYS) {
      if (!data[key]) {
        ctx.issues.push({
          code: 'custom',
          input: data,
          path: ['data', key],
          message: `is required for a registry secret (${REGISTRY_KEYS.join(', ')})`,
        });
      }
    }
    for (const key of Object.keys(data)) {
      if (!(REGISTRY_KEYS as readonly string[]).includes(key)) {
        ctx.issues.push({
          code: 'custom',
          input: data,
          path: ['data', key],
          message: `is not allowed in a registry secret (only ${REGISTRY_KEYS.join(', ')})`,
        });
      }
    }
  });
export type SecretInput = z.infer<typeof SecretInput>;
