import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import acme from 'acme-client';
import type { IssuedPair } from '../certificates/store.ts';
import { ConfigError } from '../config.ts';

/** Where an HTTP-01 answer is published while the CA validates, and withdrawn after. */
export interface ChallengeBoard {
  publish(token: string, host: string, keyAuthorization: string): Promise<void>;
  withdraw(token: string): Promise<void>;
}

/** Orders one certificate for one host: the only part that speaks ACME (RFC 8555). */
export interface Issuer {
  order(host: string, board: ChallengeBoard): Promise<IssuedPair>;
}

export interface AcmeIssuerOptions {
  directoryUrl: string;
  email: string | undefined;
  /** PEM bundle to verify the directory with (a private CA), besides Node's own roots. */
  caFile: string | undefined;
  /** The account's key (PEM), made once and kept (workers/certificates/store.ts accountKey). */
  accountKey: () => Promise<string>;
}

/** A new ECDSA P-256 key, PEM: accounts' and certificates' alike. */
export async function newKeyPem(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
}

/**
 * acme-client (HTTP-01 only) with the account kept in Postgres. The directory's CA bundle goes to
 * acme-client's own HTTP client, which is one per process: one directory per control plane.
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
  // a backoff kept in Postgres, so a request is tried twice here, a second apart.
  const defaults = acme.axios.defaults as { acmeSettings?: Record<string, number> };
  defaults.acmeSettings = { ...defaults.acmeSettings, retryMaxAttempts: 1, retryDefaultDelay: 1 };
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
    order(host, board) {
      return withTimeout(
        orderOnce(host, board),
        ORDER_TIMEOUT_MS,
        `no certificate within ${ORDER_TIMEOUT_MS / 1000} s`,
      );
    },
  };

  async function orderOnce(host: string, board: ChallengeBoard): Promise<IssuedPair> {
    const c = await account();
    const keyPem = await newKeyPem();
    const [, csr] = await acme.crypto.createCsr({ altNames: [host] }, keyPem);
    const published: string[] = [];
    try {
      const certPem = await c.auto({
        csr,
        email: o.email,
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA checks; a check from here would need the public DNS and routing the CA sees.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          if (challenge.type !== 'http-01') throw new Error(`challenge ${challenge.type} is not supported`);
          published.push(challenge.token);
          await board.publish(challenge.token, host, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          await board.withdraw(challenge.token);
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
    }
  }
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
