import { z } from 'zod';
import { ApiVersion, ObjectMeta } from './meta.ts';

/** ServiceAccounts as the API returns them. */
export const ServiceAccount = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('ServiceAccount'),
    metadata: ObjectMeta,
    /** Only when the account says. */
    automountServiceAccountToken: z.boolean().optional(),
  })
  .meta({ id: 'ServiceAccount' });
export type ServiceAccount = z.infer<typeof ServiceAccount>;

export const ServiceAccountList = z
  .object({ items: z.array(ServiceAccount) })
  .meta({ id: 'ServiceAccountList' });
export type ServiceAccountList = z.infer<typeof ServiceAccountList>;
