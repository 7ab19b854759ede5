import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { rowsOf } from '../../db/rows.ts';
import { acmeAccounts, acmeChallenges, certificates } from '../../db/schema/index.ts';
import { secretBinding } from '../kinds/secret.ts';
import { openSecret, sealSecret } from '../secret-box.ts';

/**
 * The certificates' rows in Postgres: which hosts want one, who orders which (a lease claimed by
 * one conditional UPDATE: correctness from the database, never from being the only copy), the
 * stored pairs, HTTP-01 answers and the ACME account. No node: import, so any runtime can read.
 */

/** How long a claimed order may run before another copy may take it over. */
export const LEASE_SECONDS = 120;

export type CertificateRow = typeof certificates.$inferSelect;

/**
 * The host names held by Services and Ingresses, each with the namespace that holds it, plus
 * `extra` (the API's public host). Wildcards (`*.apps.example.com`) only with `wildcards`: they
 * can be validated over DNS-01 only, so without a DNS provider they are left unordered.
 */
export async function wantedHosts(
  db: Database,
  extra: readonly string[],
  wildcards = false,
): Promise<Map<string, string>> {
  const rows = await db.execute(sql`
    select host, min(namespace) as namespace from (
      select jsonb_array_elements_text(hosts) as host, namespace from services
      union all
      select jsonb_array_elements_text(hosts) as host, namespace from ingresses
    ) h where ${wildcards ? sql`host not like '*%' or host like '*.%'` : sql`host not like '*%'`} group by host`);
  const out = new Map<string, string>();
  for (const r of rowsOf<{ host: string; namespace: string }>(rows)) out.set(r.host, r.namespace);
  for (const h of extra) if (!out.has(h)) out.set(h, 'default');
  return out;
}

/**
 * Makes the rows match the wanted hosts: a new host gets a row that is due at once; a host no
 * longer held loses its row (and its certificate) unless an order for it is running.
 */
export async function syncCertificateRows(db: Database, wanted: Map<string, string>): Promise<void> {
  const known = await db.select({ host: certificates.host }).from(certificates);
  const have = new Set(known.map((r) => r.host));
  const added = [...wanted].filter(([h]) => !have.has(h));
  if (added.length)
    await db
      .insert(certificates)
      .values(added.map(([host, namespace]) => ({ host, namespace })))
      .onConflictDoNothing();
  const gone = [...have].filter((h) => !wanted.has(h));
  for (const host of gone)
    await db
      .delete(certificates)
      .where(and(eq(certificates.host, host), sql`(lease_until is null or lease_until < now())`));
}

/**
 * Takes the lease of one host whose order is due (new, renewal time reached, or a retry's wait
 * over) and no other copy is ordering. Postgres' clock judges both, so copies with skewed clocks
 * still agree. Undefined when nothing is due.
 */
export async function claimDueCertificate(db: Database, holder: string): Promise<CertificateRow | undefined> {
  const rows = await db.execute(sql`
    update certificates set lease_holder = ${holder},
      lease_until = now() + make_interval(secs => ${LEASE_SECONDS}),
      orders = orders + 1, updated_at = now()
    where host = (
      select host from certificates
      where next_attempt_at <= now() and (lease_until is null or lease_until < now())
      order by next_attempt_at limit 1 for update skip locked)
    returning host`);
  const host = rowsOf<{ host: string }>(rows)[0]?.host;
  if (!host) return undefined;
  const [row] = await db.select().from(certificates).where(eq(certificates.host, host));
  return row;
}

export interface IssuedPair {
  certPem: string;
  keyPem: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

const keyBinding = (host: string) => `certificate:${host}`;

/** Stores a new pair and ends the lease; false when the lease was lost meanwhile (nothing written). */
export async function storeIssued(
  db: Database,
  secretKey: string,
  host: string,
  holder: string,
  pair: IssuedPair,
  nextAttemptAt: Date,
): Promise<boolean> {
  const keySealed = await sealSecret(secretKey, keyBinding(host), { key: pair.keyPem });
  const done = await db
    .update(certificates)
    .set({
      certPem: pair.certPem,
      keySealed,
      issuer: pair.issuer,
      notBefore: pair.notBefore,
      notAfter: pair.notAfter,
      version: sql`${certificates.version} + 1`,
      failures: 0,
      lastError: null,
      nextAttemptAt,
      leaseHolder: null,
      leaseUntil: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(certificates.host, host), eq(certificates.leaseHolder, holder)))
    .returning({ host: certificates.host });
  return done.length > 0;
}

/** Records a failed order and ends the lease; the pair in use (if any) stays. */
export async function storeFailure(
  db: Database,
  host: string,
  holder: string,
  error: string,
  nextAttemptAt: Date,
): Promise<void> {
  await db
    .update(certificates)
    .set({
      failures: sql`${certificates.failures} + 1`,
      lastError: error.slice(0, 2000),
      nextAttemptAt,
      leaseHolder: null,
      leaseUntil: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(certificates.host, host), eq(certificates.leaseHolder, holder)));
}

/** Versions of the stored pairs, to reload only those that moved. */
export async function servedVersions(db: Database): Promise<Map<string, number>> {
  const rows = await db
    .select({ host: certificates.host, version: certificates.version })
    .from(certificates)
    .where(isNotNull(certificates.certPem));
  return new Map(rows.map((r) => [r.host, r.version]));
}

export async function loadPair(
  db: Database,
  secretKey: string,
  host: string,
): Promise<{ certPem: string; keyPem: string; version: number; notAfter: Date } | undefined> {
  const [row] = await db.select().from(certificates).where(eq(certificates.host, host));
  if (!row?.certPem || !row.keySealed || !row.notAfter) return undefined;
  const { key } = await openSecret(secretKey, keyBinding(host), row.keySealed);
  if (!key) return undefined;
  return { certPem: row.certPem, keyPem: key, version: row.version, notAfter: row.notAfter };
}

export async function listCertificateRows(db: Database): Promise<CertificateRow[]> {
  return db.select().from(certificates).orderBy(certificates.host);
}

export async function putChallenge(
  db: Database,
  token: string,
  host: string,
  keyAuthorization: string,
): Promise<void> {
  await db
    .insert(acmeChallenges)
    .values({ token, host, keyAuthorization })
    .onConflictDoUpdate({ target: acmeChallenges.token, set: { host, keyAuthorization } });
}

export async function dropChallenge(db: Database, token: string): Promise<void> {
  await db.delete(acmeChallenges).where(eq(acmeChallenges.token, token));
}

/** The key authorization for an HTTP-01 token, whichever copy placed the order. */
export async function challengeAnswer(db: Database, token: string): Promise<string | undefined> {
  const [row] = await db
    .select({ keyAuthorization: acmeChallenges.keyAuthorization })
    .from(acmeChallenges)
    .where(eq(acmeChallenges.token, token));
  return row?.keyAuthorization;
}

/**
 * The account key for a directory: made once by whichever copy asks first (the insert that wins),
 * then read by all, so every copy orders as the same account.
 */
export async function accountKey(
  db: Database,
  secretKey: string,
  directoryUrl: string,
  make: () => Promise<string>,
): Promise<string> {
  const binding = `acme-account:${directoryUrl}`;
  const read = async () => {
    const [row] = await db.select().from(acmeAccounts).where(eq(acmeAccounts.directoryUrl, directoryUrl));
    return row && (await openSecret(secretKey, binding, row.keySealed)).key;
  };
  const existing = await read();
  if (existing) return existing;
  const keySealed = await sealSecret(secretKey, binding, { key: await make() });
  await db.insert(acmeAccounts).values({ directoryUrl, keySealed }).onConflictDoNothing();
  const key = await read();
  if (!key) throw new Error('the ACME account key could not be stored');
  return key;
}

/**
 * A host served with a kubernetes.io/tls Secret: named by an Ingress's `tls`, or a Service's
 * `tlsSecretName` for its hosts; and that Secret's row.
 */
export interface SecretCertificateRef {
  host: string;
  namespace: string;
  secretName: string;
  /** The Secret's stored row; null while it does not exist. */
  type: string | null;
  ciphertext: string | null;
  resourceVersion: number | null;
}

/**
 * The hosts served from Secrets, each once: an Ingress's `tls` first (the first by namespace and
 * name), then a Service's (a host has one namespace, so the two never disagree on the Secret's).
 */
export async function secretCertificateRefs(db: Database): Promise<SecretCertificateRef[]> {
  const rows = await db.execute(sql`
    select distinct on (r.host) r.host, r.namespace, r.secret_name, s.type, s.ciphertext, s.resource_version
    from (
      select h.host, i.namespace, t->>'secretName' as secret_name, 0 as source, i.name
      from ingresses i
      cross join lateral jsonb_array_elements(coalesce(i.spec->'tls', '[]'::jsonb)) t
      cross join lateral jsonb_array_elements_text(coalesce(t->'hosts', '[]'::jsonb)) h(host)
      union all
      select h.host, v.namespace, v.spec->>'tlsSecretName', 1, v.name
      from services v
      cross join lateral jsonb_array_elements_text(v.hosts) h(host)
      where v.spec->>'tlsSecretName' is not null
    ) r
    left join secrets s on s.namespace = r.namespace and s.name = r.secret_name
    order by r.host, r.source, r.namespace, r.name`);
  return rowsOf<{
    host: string;
    namespace: string;
    secret_name: string;
    type: string | null;
    ciphertext: string | null;
    resource_version: string | number | null;
  }>(rows).map((r) => ({
    host: r.host,
    namespace: r.namespace,
    secretName: r.secret_name,
    type: r.type,
    ciphertext: r.ciphertext,
    resourceVersion: r.resource_version === null ? null : Number(r.resource_version),
  }));
}

/** A kubernetes.io/tls Secret's pair (`tls.crt`, `tls.key`), or why it cannot be served. */
export async function openSecretPair(
  secretKey: string,
  ref: SecretCertificateRef,
): Promise<{ certPem: string; keyPem: string } | string> {
  if (!ref.ciphertext) return `secret "${ref.namespace}/${ref.secretName}" does not exist`;
  if (ref.type !== 'kubernetes.io/tls')
    return `secret "${ref.namespace}/${ref.secretName}" is of type ${ref.type}, not kubernetes.io/tls`;
  const data = await openSecret(secretKey, secretBinding(ref.namespace, ref.secretName), ref.ciphertext);
  const certPem = data['tls.crt'];
  const keyPem = data['tls.key'];
  if (!certPem || !keyPem) return `secret "${ref.namespace}/${ref.secretName}" lacks tls.crt or tls.key`;
  return { certPem, keyPem };
}
