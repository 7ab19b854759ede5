import { z } from 'zod';
import { ApiVersion, ObjectMeta } from './meta.ts';

/** ConfigMaps as the API returns them (API.md "ConfigMaps"): values included, unlike secrets. */
export const ConfigMap = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('ConfigMap'),
    metadata: ObjectMeta,
    data: z.record(z.string(), z.string()),
    /** Only when it has any: base64 as written. */
    binaryData: z.record(z.string(), z.string()).optional(),
    /** Only when true. */
    immutable: z.boolean().optional(),
  })
  .meta({ id: 'ConfigMap' });
export type ConfigMap = z.infer<typeof ConfigMap>;

export const ConfigMapList = z.object({ items: z.array(ConfigMap) }).meta({ id: 'ConfigMapList' });
export type ConfigMapList = z.infer<typeof ConfigMapList>;
