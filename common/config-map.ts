import { z } from 'zod';
import { isBase64 } from './base64.ts';
import { ObjectMetaInput } from './deployment.ts';
import { SecretKey } from './secret.ts';

/**
 * The ConfigMap as users write it: Kubernetes' own fields (berth.dev/v1, or v1 through
 * `/v1/apply`). `data` is text, `binaryData` base64 as Kubernetes writes it; pods read `data`
 * through env (`configMapKeyRef`, `envFrom`). Values are not secret: viewers read them.
 */

/** Kubernetes' bound on a ConfigMap's keys and values together. */
export const MAX_CONFIG_MAP_BYTES = 1024 * 1024;

export const ConfigMapData = z.record(SecretKey, z.string());
export type ConfigMapData = z.infer<typeof ConfigMapData>;

export const ConfigMapBinaryData = z.record(
  SecretKey,
  z.string().refine(isBase64, 'must be base64 (the standard alphabet, padded)'),
);

export const ConfigMapInput = z
  .strictObject({
    apiVersion: z.literal('berth.dev/v1').optional(),
    kind: z.literal('ConfigMap').optional(),
    metadata: ObjectMetaInput.default({}),
    data: ConfigMapData.default({}),
    binaryData: ConfigMapBinaryData.default({}),
    /** Once true, `data` and `binaryData` can never change: delete and re-create to change them. */
    immutable: z.boolean().optional(),
  })
  .check((ctx) => {
    const { data, binaryData } = ctx.value;
    let size = 0;
    for (const [key, value] of Object.entries(data)) {
      size += key.length + value.length;
      if (Object.hasOwn(binaryData, key))
        ctx.issues.push({
          code: 'custom',
          input: key,
          path: ['binaryData', key],
          message: `duplicate of key "${key}" in data: a key is in data or binaryData, not both`,
        });
    }
    for (const [key, value] of Object.entries(binaryData)) size += key.length + (value.length * 3) / 4;
    if (size > MAX_CONFIG_MAP_BYTES)
      ctx.issues.push({
        code: 'custom',
        input: data,
        path: ['data'],
        message: `a ConfigMap holds at most ${MAX_CONFIG_MAP_BYTES} bytes (this one ${Math.ceil(size)})`,
      });
  });
export type ConfigMapInput = z.infer<typeof ConfigMapInput>;

/** What a ConfigMap holds, as stored and compared on writes. */
export interface ConfigMapSpec {
  data: ConfigMapData;
  binaryData: Record<string, string>;
  immutable: boolean;
}
