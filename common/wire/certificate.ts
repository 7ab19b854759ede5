import { z } from 'zod';

/**
 * A host's certificate at the control plane's ingress, as `GET /v1/certificates` and
 * `berth get certificates` show it. `status` is the lifecycle of workers/certificates/schedule.ts.
 */
export const Certificate = z
  .object({
    host: z.string(),
    namespace: z.string(),
    source: z.enum(['acme']),
    status: z.enum([
      'Pending',
      'Ordering',
      'Failed',
      'Ready',
      'RenewalDue',
      'Renewing',
      'RenewalFailing',
      'Expired',
    ]),
    issuer: z.string().nullable(),
    notBefore: z.string().nullable(),
    notAfter: z.string().nullable(),
    /** When the next order (first, renewal or retry) may start. */
    nextAttemptAt: z.string(),
    /** Orders placed for this host so far, successful or not. */
    orders: z.number().int(),
    /** Failed orders since the last success. */
    failures: z.number().int(),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'Certificate' });
export type Certificate = z.infer<typeof Certificate>;

export const CertificateList = z.object({ items: z.array(Certificate) }).meta({ id: 'CertificateList' });
export type CertificateList = z.infer<typeof CertificateList>;
