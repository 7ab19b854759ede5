import { z } from 'zod';

/** DNS-1123 label: what Kubernetes (and so Berth) accepts as an object name. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const Name = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(
    DNS_LABEL,
    'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending alphanumeric',
  );
export type Name = z.infer<typeof Name>;

/** Label keys may carry a DNS prefix (berth.dev/node); values are short and plain. */
export const LabelKey = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    'must be a valid label key',
  );
export const LabelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a valid label value');
export const Labels = z.record(LabelKey, LabelValue);
export type Labels = z.infer<typeof Labels>;
