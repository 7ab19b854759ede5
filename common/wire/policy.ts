import { z } from 'zod';
import { NamespacePolicySpec } from '../policy.ts';
import { ApiVersion, ObjectMeta } from './meta.ts';

/**
 * A namespace's policy as the API returns it. The policy in force for a namespace without one of
 * its own is the default, returned with no uid or resourceVersion and the annotation
 * `berth.dev/default: "true"`.
 */
export const NamespacePolicy = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('NamespacePolicy'),
    metadata: ObjectMeta.partial().extend({ name: z.string(), namespace: z.string() }),
    spec: NamespacePolicySpec,
  })
  .meta({ id: 'NamespacePolicy' });
export type NamespacePolicy = z.infer<typeof NamespacePolicy>;

export const NamespacePolicyList = z
  .object({ apiVersion: ApiVersion, kind: z.literal('NamespacePolicyList'), items: z.array(NamespacePolicy) })
  .meta({ id: 'NamespacePolicyList' });
export type NamespacePolicyList = z.infer<typeof NamespacePolicyList>;
