import type { Certificate } from '../../common/wire/certificate.ts';
import type { Database } from '../../db/database.ts';
import { certificateStatus } from '../certificates/schedule.ts';
import { type CertificateRow, listCertificateRows } from '../certificates/store.ts';

export function toCertificate(row: CertificateRow, now: Date): Certificate {
  return {
    host: row.host,
    namespace: row.namespace,
    source: 'acme',
    status: certificateStatus(row, now),
    issuer: row.issuer,
    notBefore: row.notBefore?.toISOString() ?? null,
    notAfter: row.notAfter?.toISOString() ?? null,
    nextAttemptAt: row.nextAttemptAt.toISOString(),
    orders: row.orders,
    failures: row.failures,
    lastError: row.lastError,
  };
}

/** The certificates of the hosts held in `visible` namespaces (all of them for '*'). */
export async function listCertificates(
  db: Database,
  visible: (namespace: string) => boolean,
  now: Date,
): Promise<Certificate[]> {
  return (await listCertificateRows(db))
    .filter((r) => visible(r.namespace))
    .map((r) => toCertificate(r, now));
}
