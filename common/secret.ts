import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';

/**
 * The Secret as users write it (berth.dev/v1). Values are plain strings (not base64 as in
 * Kubernetes): the server encrypts them at rest and never returns them.
 */

export const SecretType = z.enum(['opaque', 'registry']);
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
    if (ctx.value.type !== 'registry') return;
    const data = ctx.value.data;
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
