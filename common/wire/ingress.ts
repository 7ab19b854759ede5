import { z } from 'zod';
import { IngressSpec } from '../ingress.ts';
import { ApiVersion, ObjectMeta } from './meta.ts';

/** Ingresses as the API returns them: the spec as applied. */
export const Ingress = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('Ingress'),
    metadata: ObjectMeta,
    spec: IngressSpec,
  })
  .meta({ id: 'Ingress' });
export type Ingress = z.infer<typeof Ingress>;

export const IngressList = z.object({ items: z.array(Ingress) }).meta({ id: 'IngressList' });
export type IngressList = z.infer<typeof IngressList>;
