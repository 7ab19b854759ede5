import { sql } from 'drizzle-orm';
import type { NodeCertificate } from '../../common/agent-protocol.ts';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { sha256Hex } from '../crypto.ts';
import { loadPair, openSecretPair, type SecretCertificateRef, secretCertificateRefs } from './store.ts';

/**
 * The pairs the nodes' own ingresses serve: every certificate of a host a Service or an Ingress
 * holds, ACME's or an Ingress's Secret's (the Secret wins, as on the control plane). Never the
 * API's own host: a node serves the cluster's hosts, and holds no key that would let it pose as
 * the control plane. No node: import, so any runtime serves it.
 */

/** What the nodes' set is made of, without opening a key: cheap enough for every poll. */
interface PairSources {
  acme: { host: string; version: number }[];
  secrets: SecretCertificateRef[];
}

async function pairSources(db: Database): Promise<PairSources> {
  const [rows, secrets] = await Promise.all([
    db.execute(sql`
      select host, version from certificates
      where cert_pem is not null and host in (
        select jsonb_array_elements_text(hosts) from services
        union select jsonb_array_elements_text(hosts) from ingresses)`),
    secretCertificateRefs(db),
  ]);
  const fromSecrets = new Set(secrets.map((s) => s.host));
  const acme = rowsOf<{ host: string; version: number | string }>(rows)
    .filter((r) => !fromSecrets.has(r.host))
    .map((r) => ({ host: r.host, version: Number(r.version) }));
  return { acme, secrets };
}

/** An ETag of the set: it moves with a new pair, a renewal, a Secret's update or a host gone. */
async function stampOf(s: PairSources, hstsSeconds: number | undefined): Promise<string> {
  const parts = [
    ...s.acme.map((a) => `acme ${a.host} ${a.version}`),
    ...s.secrets.map((r) => `secret ${r.host} ${r.namespace}/${r.secretName} ${r.resourceVersion ?? '-'}`),
  ].sort();
  parts.push(`hsts ${hstsSeconds ?? '-'}`);
  return `"c-${(await sha256Hex(parts.join('\n'))).slice(0, 32)}"`;
}

export async function nodeCertificatesStamp(db: Database, hstsSeconds: number | undefined): Promise<string> {
  return stampOf(await pairSources(db), hstsSeconds);
}

/**
 * The set with its keys opened, and its stamp. A Secret that cannot be served (absent, of another
 * type, without tls.crt) is left out; the control plane's own log says why.
 */
export async function nodeCertificates(
  db: Database,
  secretKey: string | undefined,
  hstsSeconds: number | undefined,
): Promise<{ stamp: string; certificates: NodeCertificate[] }> {
  const sources = await pairSources(db);
  const stamp = await stampOf(sources, hstsSeconds);
  if (!secretKey) return { stamp, certificates: [] };
  const certificates: NodeCertificate[] = [];
  for (const { host } of sources.acme) {
    const pair = await loadPair(db, secretKey, host).catch(() => undefined);
    if (pair) certificates.push({ host, certPem: pair.certPem, keyPem: pair.keyPem });
  }
  for (const ref of sources.secrets) {
    const pair = await openSecretPair(secretKey, ref).catch(() => 'unreadable');
    if (typeof pair !== 'string') certificates.push({ host: ref.host, ...pair });
  }
  return { stamp, certificates };
}
