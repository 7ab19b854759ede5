import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import acme from 'acme-client';
import type { Logger } from '../../common/logger.ts';
import { challengeRecordName, type DnsProvider, type DnsRecordHandle } from '../certificates/dns-provider.ts';
import { parseRetryAfter } from '../certificates/schedule.ts';
import type { IssuedPair } from '../certificates/store.ts';
import { ConfigError } from '../config.ts';

/** Where an HTTP-01 answer is published while the CA validates, and withdrawn after. */
export interface ChallengeBoard {
  publish(token: string, host: string, keyAuthorization: string): Promise<void>;
  withdraw(token: string): Promise<void>;
}

/** Orders one certificate for one host: the only part that speaks ACME (RFC 8555). */
export interface Issuer {
  /** Rejects with an Error; one that carries `retryAfter` (OrderError) says when the CA allows another. */
  order(host: string, board: ChallengeBoard): Promise<IssuedPair>;
  /** Whether wildcard hosts (`*.apps.example.com`) can be ordered: only over DNS-01. */
  readonly wildcards: boolean;
}

/** A failed order, with the CA's Retry-After when it sent one (RFC 8555 §6.6: 429 rateLimited, 503). */
export type OrderError = Error & { retryAfter?: Date };

/** When the CA said another try may come, if a failed order carries that. */
export function retryAfterOf(e: unknown): Date | undefined {
  const at = (e as OrderError | undefined)?.retryAfter;
  return at instanceof Date ? at : undefined;
}

/** DNS-01 through a provider: always for wildcard hosts, for exact ones too with `exactHosts`. */
export interface Dns01Options {
  provider: DnsProvider;
  /** Waited after a record is added, before the CA is told to look (BERTH_DNS_PROPAGATION_SECONDS). */
  propagationMs: number;
  /** BERTH_ACME_CHALLENGE=dns-01: exact hosts too, for hosts whose port 80 the CA cannot reach. */
  exactHosts: boolean;
}

export interface AcmeIssuerOptions {
  directoryUrl: string;
  email: string | undefined;
  /** PEM bundle to verify the directory with (a private CA), besides Node's own roots. */
  caFile: string | undefined;
  /** The account's key (PEM), made once and kept (workers/certificates/store.ts accountKey). */
  accountKey: () => Promise<string>;
  /** Absent: HTTP-01 only, and no wildcard host is ordered. */
  dns?: Dns01Options;
  /** Where a DNS record that could not be removed is reported. */
  log?: Logger;
}

/** A new ECDSA P-256 key, PEM: accounts' and certificates' alike. */
export async function newKeyPem(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
}

/**
 * acme-client with the account kept in Postgres: HTTP-01 answers on the board, DNS-01 ones through
 * the DNS provider. The directory's CA bundle goes to acme-client's own HTTP client, which is one
 * per process: one directory per control plane.
 */
export function acmeIssuer(o: AcmeIssuerOptions): Issuer {
  if (o.caFile) {
    let ca: Buffer;
    try {
      ca = readFileSync(o.caFile);
    } catch (e) {
      throw new ConfigError(`BERTH_ACME_CA_FILE: ${(e as Error).message}`);
    }
    acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ca.toString()], keepAlive: true });
  }
  acme.setLogger(() => {});
  // acme-client retries a failed request 5 times, waiting up to 25 s each: over a minute of an
  // unreachable CA before the order fails, holding its lease. Berth retries orders itself, with
  // a backoff kept in Postgres, so a request is tried twice here, a second apart (once only when
  // the CA asks for a longer wait: watchRetryAfter).
  const defaults = acme.axios.defaults as { acmeSettings?: Record<string, number> };
  defaults.acmeSettings = { ...defaults.acmeSettings, retryMaxAttempts: 1, retryDefaultDelay: 1 };
  watchRetryAfter();
  let client: acme.Client | undefined;
  const account = async () => {
    client ??= new acme.Client({
      directoryUrl: o.directoryUrl,
      accountKey: await o.accountKey(),
      backoffAttempts: 10,
      backoffMin: 200,
      backoffMax: 5000,
    });
    return client;
  };
  return {
    wildcards: o.dns !== undefined,
    async order(host, board) {
      const seen: OrderState = {};
      try {
        return await withTimeout(
          orderState.run(seen, () => orderOnce(host, board)),
          ORDER_TIMEOUT_MS,
          `no certificate within ${ORDER_TIMEOUT_MS / 1000} s`,
        );
      } catch (e) {
        const error: OrderError = e instanceof Error ? e : new Error(String(e));
        if (seen.retryAfter) error.retryAfter = seen.retryAfter;
        throw error;
      }
    },
  };

  async function orderOnce(host: string, board: ChallengeBoard): Promise<IssuedPair> {
    const c = await account();
    const keyPem = await newKeyPem();
    const [, csr] = await acme.crypto.createCsr({ altNames: [host] }, keyPem);
    const dns = o.dns;
    const overDns = dns !== undefined && (host.startsWith('*.') || dns.exactHosts);
    if (host.startsWith('*.') && !overDns)
      throw new Error('a wildcard host needs DNS-01: set BERTH_DNS_PROVIDER');
    const published: string[] = [];
    const records = new Map<string, DnsRecordHandle>();
    const removeRecord = async (token: string) => {
      const handle = records.get(token);
      if (!handle || !dns) return;
      records.delete(token);
      try {
        await dns.provider.cleanup(handle);
      } catch (e) {
        // The order's outcome stands; a TXT record left behind only clutters the zone.
        o.log?.warn(`certificates: the DNS-01 record ${handle.fqdn} could not be removed`, {
          error: (e as Error).message,
        });
      }
    };
    try {
      const certPem = await c.auto({
        csr,
        email: o.email,
        termsOfServiceAgreed: true,
        challengePriority: [overDns ? 'dns-01' : 'http-01'],
        // The CA checks; a check from here would need the public DNS and routing the CA sees.
        skipChallengeVerification: true,
        challengeCreateFn: async (authz, challenge, keyAuthorization) => {
          if (overDns && challenge.type === 'dns-01') {
            // keyAuthorization is already the record's value (the digest) for dns-01.
            const fqdn = challengeRecordName(authz.identifier.value);
            records.set(challenge.token, await dns.provider.present(fqdn, keyAuthorization));
            if (dns.propagationMs > 0) await new Promise((r) => setTimeout(r, dns.propagationMs));
            return;
          }
          if (overDns || challenge.type !== 'http-01')
            throw new Error(`challenge ${challenge.type} is not supported`);
          published.push(challenge.token);
          await board.publish(challenge.token, host, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          if (challenge.type === 'dns-01') await removeRecord(challenge.token);
          else await board.withdraw(challenge.token);
        },
      });
      const info = acme.crypto.readCertificateInfo(certPem);
      return {
        certPem,
        keyPem,
        issuer: info.issuer.commonName,
        notBefore: info.notBefore,
        notAfter: info.notAfter,
      };
    } finally {
      // A failed order leaves no answer behind (acme-client removes only those it validated).
      for (const token of published) await board.withdraw(token).catch(() => {});
      for (const token of [...records.keys()]) await removeRecord(token);
    }
  }
}

/** What one order's requests to the CA said about when to come back. */
interface OrderState {
  retryAfter?: Date;
}
const orderState = new AsyncLocalStorage<OrderState>();

/** A Retry-After of this much or less is waited out within the order, as acme-client does. */
const WAIT_WITHIN_ORDER_MS = 2_000;
let watching = false;

/**
 * Notes the CA's Retry-After on an error answer (429 rateLimited, 503) for the order that made the
 * request, so the failed order carries it (acme-client's errors hold only the problem's detail).
 * A longer wait ends the order at once: acme-client would otherwise sleep through it inside the
 * request, past the order's time limit, holding the lease; Berth's schedule waits instead. This
 * is an axios response transform on acme-client's own instance (run on every answer, before its
 * retry), and the retry is skipped through acme-client 5.4's own counter, config.retryAttempt.
 */
function watchRetryAfter(): void {
  if (watching) return;
  watching = true;
  const defaults = acme.axios.defaults;
  const transforms = defaults.transformResponse;
  const list = Array.isArray(transforms) ? transforms : transforms ? [transforms] : [];
  defaults.transformResponse = [
    ...list,
    function noteRetryAfter(this: object, data: unknown, headers: unknown, status?: number) {
      if (status !== 429 && status !== 503) return data;
      const value = (headers as Record<string, unknown> | undefined)?.['retry-after'];
      const now = new Date();
      const at = typeof value === 'string' ? parseRetryAfter(value, now) : undefined;
      const state = orderState.getStore();
      if (!at || !state) return data;
      if (!state.retryAfter || at > state.retryAfter) state.retryAfter = at;
      if (at.getTime() - now.getTime() > WAIT_WITHIN_ORDER_MS)
        (this as { retryAttempt?: number }).retryAttempt = Number.MAX_SAFE_INTEGER;
      return data;
    },
  ];
}

/**
 * An order gives up well within its lease (store.ts LEASE_SECONDS), so no other copy takes the
 * host over while this one still waits; one that completes after it gave up stores nothing (its
 * lease is gone).
 */
const ORDER_TIMEOUT_MS = 90_000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
