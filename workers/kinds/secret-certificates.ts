import { sql } from 'drizzle-orm';
import { INGRESS_HTTPS_LABEL } from '../../common/ingress.ts';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import type { FieldError } from '../errors.ts';

/**
 * Whether a Secret named for hosts (an Ingress's `tls`, a Service's `tlsSecretName`) is served by
 * anyone: a control plane on Node that serves HTTPS itself (`hostCertificates`), or a node whose
 * agent serves HTTPS (it says so by a label). With neither, the field would be accepted and
 * ignored: a 422 at `path` instead.
 */
export async function unservedSecretCertificate(
  tx: Database,
  hostCertificates: boolean,
  path: string,
): Promise<FieldError | undefined> {
  if (hostCertificates) return undefined;
  const rows = await tx.execute(
    sql`select 1 from nodes where labels->>${INGRESS_HTTPS_LABEL} = 'true' limit 1`,
  );
  if (rowsOf(rows).length > 0) return undefined;
  return {
    path,
    message:
      'is served only by a control plane on Node that serves HTTPS itself (BERTH_TLS_CERT_FILE/_KEY_FILE or ACME) or by nodes whose agents serve HTTPS (--ingress-tls-listen); this cluster has neither',
  };
}
