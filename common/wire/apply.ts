import { z } from 'zod';

/** The answer to `POST /v1/apply` (API.md "Manifests"). */

export const AppliedObject = z
  .object({
    kind: z.enum(['Deployment', 'Service', 'Secret']),
    namespace: z.string(),
    name: z.string(),
    /** `unchanged`: the document matched what was stored, and nothing was written. */
    action: z.enum(['created', 'configured', 'unchanged']),
  })
  .meta({ id: 'AppliedObject' });
export type AppliedObject = z.infer<typeof AppliedObject>;

/** One item per document, in document order. `dryRun`: nothing was written. */
export const ApplyResponse = z
  .object({ items: z.array(AppliedObject), dryRun: z.literal(true).optional() })
  .meta({ id: 'ApplyResponse' });
export type ApplyResponse = z.infer<typeof ApplyResponse>;
