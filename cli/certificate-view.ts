import type { Certificate } from '../common/wire/certificate.ts';
import type { Cell } from './table.ts';

/**
 * How `berth get certificates` shows the certificates of the hosts the control plane's ingress
 * serves: host, issuer, when it expires, its status, and the last error of a failing order.
 */
export const certificateView = {
  kind: 'certificate',
  headers: ['host', 'issuer', 'not-after', 'status', 'last-error'],
  wide: ['namespace', 'next-attempt', 'orders'],
  row: (c: Certificate): Cell[] => [c.host, c.issuer, c.notAfter, c.status, c.lastError],
  wideRow: (c: Certificate): Cell[] => [c.namespace, c.nextAttemptAt, c.orders],
  name: (c: Certificate) => c.host,
};
