import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { at, big } from './columns.ts';

/**
 * One row per host name the control plane's ingress serves HTTPS for with a certificate of its
 * own ordering (ACME). The certificate is stored once, so every control-plane copy serves the
 * same one; its key is sealed like secrets' values (workers/secret-box.ts). An order is taken by
 * a lease (`leaseHolder` until `leaseUntil`), claimed with one conditional UPDATE, so two copies
 * never order the same host at once and a copy that died mid-order is replaced when it lapses.
 */
export const certificates = pgTable(
  'certificates',
  {
    host: text('host').primaryKey(),
    /** The namespace of the Service or Ingress that holds the host (for its events). */
    namespace: text('namespace').notNull(),
    /** PEM chain, leaf first; null until the first order succeeds. */
    certPem: text('cert_pem'),
    keySealed: text('key_sealed'),
    issuer: text('issuer'),
    notBefore: at('not_before'),
    notAfter: at('not_after'),
    /** Grows with every certificate stored: copies reload a host's pair when it moves. */
    version: big('version').notNull().default(0),
    /** Orders started for this host, successful or not (the CA's rate limits count them). */
    orders: integer('orders').notNull().default(0),
    /** Failed orders since the last success: the backoff's exponent. */
    failures: integer('failures').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    leaseHolder: text('lease_holder'),
    leaseUntil: at('lease_until'),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [index('certificates_next_attempt').on(t.nextAttemptAt)],
);

/**
 * HTTP-01 answers while an order is validated: any copy answers the CA's request for
 * /.well-known/acme-challenge/<token>, whichever copy placed the order.
 */
export const acmeChallenges = pgTable('acme_challenges', {
  token: text('token').primaryKey(),
  host: text('host').notNull(),
  keyAuthorization: text('key_authorization').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
});

/** The ACME account per directory: its key made once (sealed), shared by every copy. */
export const acmeAccounts = pgTable('acme_accounts', {
  directoryUrl: text('directory_url').primaryKey(),
  keySealed: text('key_sealed').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
});
