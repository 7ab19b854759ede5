import { hostname } from 'node:os';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from '../../common/logger.ts';
import type { Database } from '../../db/database.ts';
import { nextAttemptAfterFailure, nextAttemptAfterIssue } from '../certificates/schedule.ts';
import {
  challengeAnswer,
  claimDueCertificate,
  dropChallenge,
  loadPair,
  openSecretPair,
  putChallenge,
  secretCertificateRefs,
  servedVersions,
  storeFailure,
  storeIssued,
  syncCertificateRows,
  wantedHosts,
} from '../certificates/store.ts';
import { shortId } from '../crypto.ts';
import type { Metrics } from '../metrics.ts';
import { recordEvents } from '../store/events.ts';
import { type Issuer, retryAfterOf } from './acme-issuer.ts';

export interface CertificateManagerOptions {
  db: Database;
  secretKey: string;
  /** Absent with ACME off: only Ingresses' Secrets are served. */
  issuer: Issuer | undefined;
  log: Logger;
  metrics?: Metrics;
  /** Hosts ordered besides the Services' and Ingresses' (the API's public host, without files). */
  extraHosts: readonly string[];
  /** How often the hosts, the due orders and the stored pairs are looked at. */
  intervalMs?: number;
}

interface Served {
  version: number;
  context: SecureContext;
  notAfter: Date;
}

/**
 * Keeps every wanted host's certificate ordered, renewed and served, on each control-plane copy:
 * a scan (every second, and at once when a host is first asked for) adds rows for new hosts,
 * orders what is due when this copy wins its lease, and loads pairs that moved into secure
 * contexts for SNI. All agreement is in Postgres; this object only caches contexts.
 */
export class CertificateManager {
  private readonly served = new Map<string, Served>();
  /** Hosts an Ingress serves with a kubernetes.io/tls Secret: the Secret's version and context. */
  private readonly fromSecrets = new Map<string, { stamp: string; context: SecureContext }>();
  private contexts = new Map<string, SecureContext>();
  private readonly holder = `${hostname()}:${process.pid}:${shortId(6)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private warnedAt = 0;

  constructor(private readonly o: CertificateManagerOptions) {}

  /** Secure contexts by host, for pickCertificate. */
  get hosts(): ReadonlyMap<string, SecureContext> {
    return this.contexts;
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.o.intervalMs ?? 1000);
    this.timer.unref();
    this.wake();
  }

  /** Scan now (or right after the scan running): a handshake for a host with no certificate yet. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.scan()
      .catch((e) => this.warn('certificates: scan failed; serving the pairs loaded before', e))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** The HTTP-01 answer for a token, from Postgres: whichever copy placed the order. */
  answer(token: string): Promise<string | undefined> {
    return challengeAnswer(this.o.db, token);
  }

  private async scan(): Promise<void> {
    const { db } = this.o;
    const refs = await secretCertificateRefs(db);
    if (this.o.issuer) {
      const wanted = await wantedHosts(db, this.o.extraHosts, this.o.issuer.wildcards);
      // A host with a Secret of its own is never ordered (its ACME row and certificate go).
      for (const r of refs) wanted.delete(r.host);
      await syncCertificateRows(db, wanted);
    }
    await this.reloadSecrets(refs);
    await this.reload();
    // One order at a time per copy: other copies take the other due hosts.
    for (;;) {
      if (this.stopped || !this.o.issuer) return;
      const row = await claimDueCertificate(db, this.holder);
      if (!row) return;
      await this.order(row.host, row.namespace, row.notAfter, row.failures);
      await this.reload();
    }
  }

  /** Loads the Secrets' pairs that moved; one that cannot be used is logged and not served. */
  private async reloadSecrets(refs: Awaited<ReturnType<typeof secretCertificateRefs>>): Promise<void> {
    const seen = new Set<string>();
    for (const ref of refs) {
      seen.add(ref.host);
      const stamp = `${ref.namespace}/${ref.secretName}@${ref.resourceVersion ?? 'none'}`;
      if (this.fromSecrets.get(ref.host)?.stamp === stamp) continue;
      this.fromSecrets.delete(ref.host);
      try {
        const pair = await openSecretPair(this.o.secretKey, ref);
        if (typeof pair === 'string') throw new Error(pair);
        const context = createSecureContext({ cert: pair.certPem, key: pair.keyPem, minVersion: 'TLSv1.2' });
        this.fromSecrets.set(ref.host, { stamp, context });
      } catch (e) {
        this.o.log.warn(
          `certificates: the Secret for ${ref.host} (${ref.namespace}/${ref.secretName}) cannot be served`,
          {
            error: describe(e),
          },
        );
      }
    }
    for (const host of [...this.fromSecrets.keys()]) if (!seen.has(host)) this.fromSecrets.delete(host);
  }

  /** Loads the pairs whose version moved since this copy last did; drops those gone. */
  private async reload(): Promise<void> {
    const versions = await servedVersions(this.o.db);
    for (const host of [...this.served.keys()]) if (!versions.has(host)) this.served.delete(host);
    for (const [host, version] of versions) {
      if (this.served.get(host)?.version === version) continue;
      try {
        const pair = await loadPair(this.o.db, this.o.secretKey, host);
        if (!pair) continue;
        const context = createSecureContext({ cert: pair.certPem, key: pair.keyPem, minVersion: 'TLSv1.2' });
        this.served.set(host, { version: pair.version, context, notAfter: pair.notAfter });
      } catch (e) {
        this.warn(`certificates: the stored pair of ${host} cannot be used; the one loaded before stays`, e);
      }
    }
    // Replaced whole, so a handshake never sees half an update; a Secret wins over ACME.
    const next = new Map<string, SecureContext>();
    for (const [host, s] of this.served) next.set(host, s.context);
    for (const [host, s] of this.fromSecrets) next.set(host, s.context);
    this.contexts = next;
  }

  private async order(host: string, namespace: string, had: Date | null, failures: number): Promise<void> {
    const { db, log, metrics } = this.o;
    const renewal = had !== null;
    const started = performance.now();
    try {
      const pair = await this.o.issuer!.order(host, {
        publish: (token, h, keyAuthorization) => putChallenge(db, token, h, keyAuthorization),
        withdraw: (token) => dropChallenge(db, token),
      });
      const stored = await storeIssued(
        db,
        this.o.secretKey,
        host,
        this.holder,
        pair,
        nextAttemptAfterIssue(pair.notBefore, pair.notAfter),
      );
      if (!stored) return;
      metrics?.inc('berth_certificate_orders_total', 'ACME orders by result', { result: 'issued' });
      metrics?.observe(
        'berth_certificate_order_seconds',
        'Time to order a certificate',
        (performance.now() - started) / 1000,
      );
      log.info(`certificate ${renewal ? 'renewed' : 'issued'}`, {
        host,
        issuer: pair.issuer,
        notAfter: pair.notAfter.toISOString(),
      });
      await recordEvents(
        db,
        [
          {
            namespace,
            objectKind: 'certificate',
            objectName: host,
            type: 'Normal',
            reason: renewal ? 'CertificateRenewed' : 'CertificateIssued',
            message: `certificate for ${host} from ${pair.issuer}, valid until ${pair.notAfter.toISOString()}`,
          },
        ],
        new Date(),
      );
    } catch (e) {
      const error = describe(e);
      // Never before the CA's Retry-After (rate limited, or unavailable), if it sent one.
      const retry = nextAttemptAfterFailure(failures + 1, new Date(), had, retryAfterOf(e));
      metrics?.inc('berth_certificate_orders_total', 'ACME orders by result', { result: 'failed' });
      log.warn(`certificate ${renewal ? 'renewal' : 'order'} failed`, {
        host,
        error,
        retryAt: retry.toISOString(),
        ...(renewal ? { serving: `the certificate valid until ${had.toISOString()}` } : {}),
      });
      await storeFailure(db, host, this.holder, error, retry).catch(() => {});
      await recordEvents(
        db,
        [
          {
            namespace,
            objectKind: 'certificate',
            objectName: host,
            type: 'Warning',
            reason: 'CertificateFailed',
            message: `${renewal ? 'renewal' : 'order'} of the certificate for ${host} failed (${error}); ${renewal ? `the certificate valid until ${had.toISOString()} is still served; ` : ''}retrying at ${retry.toISOString()}`,
          },
        ],
        new Date(),
      ).catch(() => {});
    }
  }

  private warn(message: string, e: unknown): void {
    const now = Date.now();
    if (now - this.warnedAt < 10_000) return;
    this.warnedAt = now;
    this.o.log.warn(message, { error: describe(e) });
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}
