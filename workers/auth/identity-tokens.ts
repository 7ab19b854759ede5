import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { issuerProblem } from './oidc-issuers.ts';

/**
 * Verifies OpenID Connect identity tokens (GitHub Actions' ID tokens, or another configured
 * issuer's) with jose, which runs alike on Workers, Deno and Node: the signature against the
 * issuer's published keys, `iss`, `aud`, `exp`/`nbf`/`iat` within a minute of skew, and the
 * algorithm (asymmetric only: never `none` or an HMAC, whose "key" anyone could pick).
 *
 * Keys are cached per issuer, and only issuers of the configuration are ever fetched (the token's
 * own `iss` is checked against that list first, so a token cannot point Berth at a URL):
 *
 *   no keys ──fetch──▶ keys (fresh for 10 min) ──older──▶ fetch again (the old keys serve if it fails)
 *                        │
 *                        └─ a kid they lack ──▶ fetch again, at most once per 30 s per issuer
 *
 * Only finished key sets are shared between requests (on Workers a request may not await another
 * request's I/O); two requests that find no keys at once each fetch them.
 */

/** Which check refused a token: the problem's `detail` starts with it, and so does the event. */
export type IdentityCheck =
  | 'malformed'
  | 'issuer'
  | 'algorithm'
  | 'signature'
  | 'audience'
  | 'expired'
  | 'not yet valid'
  | 'issued in the future'
  | 'claims';

/** A token refused, and why. `claim` names the claim at fault, for the problem's `errors[].path`. */
export class IdentityTokenRefused extends Error {
  constructor(
    readonly check: IdentityCheck,
    message: string,
    readonly claim?: string,
  ) {
    super(message);
  }
}

/** The issuer's keys could not be had (and none were cached): not the caller's fault, worth a retry. */
export class IssuerUnavailable extends Error {}

/** Asymmetric algorithms GitHub and common issuers sign with. */
export const IDENTITY_ALGORITHMS = ['RS256', 'ES256'];
export const CLOCK_SKEW_SECONDS = 60;
/** A token issued longer ago than this is refused whatever its `exp` says. */
const MAX_TOKEN_AGE_SECONDS = 3600;
const KEYS_FRESH_MS = 10 * 60_000;
const REFETCH_COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;
/** A discovery document or key set larger than this is not one. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
const MAX_KEYS = 100;

interface CachedKeys {
  keys: ReturnType<typeof createLocalJWKSet>;
  kids: Set<string>;
  fetchedAt: number;
}

export interface VerifiedIdentity {
  issuer: string;
  payload: JWTPayload & Record<string, unknown>;
}

export class IdentityTokenVerifier {
  private readonly cache = new Map<string, CachedKeys>();
  /** When each issuer's keys were last asked for (fetched or not): the refetch cooldown. */
  private readonly attempts = new Map<string, number>();

  constructor(private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init)) {}

  async verify(
    token: string,
    trust: { issuers: readonly string[]; audience: string },
    now: Date,
  ): Promise<VerifiedIdentity> {
    let unverified: JWTPayload;
    let alg: string | undefined;
    try {
      unverified = decodeJwt(token);
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new IdentityTokenRefused('malformed', 'the token is not a JWT (header.payload.signature)');
    }
    const issuer = unverified.iss;
    if (typeof issuer !== 'string' || !trust.issuers.includes(issuer))
      throw new IdentityTokenRefused(
        'issuer',
        `issuer ${JSON.stringify(issuer ?? null)} is not trusted (trusted: ${trust.issuers.join(', ')}; BERTH_OIDC_ISSUERS)`,
        'iss',
      );
    if (!alg || !IDENTITY_ALGORITHMS.includes(alg))
      throw new IdentityTokenRefused(
        'algorithm',
        `signed with ${JSON.stringify(alg ?? null)}: only ${IDENTITY_ALGORITHMS.join(' or ')} are accepted`,
      );
    const nowMs = now.getTime();
    let cached = await this.keysOf(issuer, nowMs, false);
    try {
      return await this.check(token, issuer, cached, trust.audience, now);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw classify(e);
      // The issuer may have rotated its keys since they were fetched: ask again, within the cooldown.
      const kid = decodeProtectedHeader(token).kid;
      const refreshed = await this.keysOf(issuer, nowMs, true);
      if (refreshed === cached)
        throw new IdentityTokenRefused(
          'signature',
          `no key the issuer publishes has kid ${JSON.stringify(kid ?? null)}`,
        );
      cached = refreshed;
      try {
        return await this.check(token, issuer, cached, trust.audience, now);
      } catch (again) {
        if (again instanceof errors.JWKSNoMatchingKey)
          throw new IdentityTokenRefused(
            'signature',
            `no key the issuer publishes has kid ${JSON.stringify(kid ?? null)}`,
          );
        throw classify(again);
      }
    }
  }

  private async check(token: string, issuer: string, cached: CachedKeys, audience: string, now: Date) {
    const { payload } = await jwtVerify(token, cached.keys, {
      issuer,
      audience,
      algorithms: IDENTITY_ALGORITHMS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      maxTokenAge: MAX_TOKEN_AGE_SECONDS,
      requiredClaims: ['exp', 'iat'],
      currentDate: now,
    });
    return { issuer, payload: payload as VerifiedIdentity['payload'] };
  }

  /** The issuer's keys: cached while fresh; `unknownKid` asks again unless asked within the cooldown. */
  private async keysOf(issuer: string, nowMs: number, unknownKid: boolean): Promise<CachedKeys> {
    const cached = this.cache.get(issuer);
    const fresh = cached && nowMs - cached.fetchedAt < KEYS_FRESH_MS;
    const lastAttempt = this.attempts.get(issuer) ?? Number.NEGATIVE_INFINITY;
    const cooling = nowMs - lastAttempt < REFETCH_COOLDOWN_MS;
    if (cached && (unknownKid ? cooling : fresh || cooling)) return cached;
    this.attempts.set(issuer, nowMs);
    try {
      const set = await this.fetchKeys(issuer);
      const next: CachedKeys = {
        keys: createLocalJWKSet(set),
        kids: new Set(set.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')),
        fetchedAt: nowMs,
      };
      this.cache.set(issuer, next);
      return next;
    } catch (e) {
      // Keys fetched before still verify what they signed: an issuer's outage stops no deploy.
      if (cached) return cached;
      throw new IssuerUnavailable(
        `the keys of issuer ${issuer} could not be fetched: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /** OpenID Connect discovery, then the key set it names. */
  private async fetchKeys(issuer: string): Promise<JSONWebKeySet> {
    const discovery = await this.fetchJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    if (discovery.issuer !== issuer)
      throw new Error(`its discovery document names issuer ${JSON.stringify(discovery.issuer)}`);
    const jwksUri = discovery.jwks_uri;
    if (typeof jwksUri !== 'string' || issuerProblem(jwksUri))
      throw new Error('its discovery document has no https jwks_uri');
    const set = await this.fetchJson(jwksUri);
    if (!Array.isArray(set.keys) || set.keys.length > MAX_KEYS)
      throw new Error(`its key set (${jwksUri}) has no keys array of at most ${MAX_KEYS}`);
    return set as unknown as JSONWebKeySet;
  }

  private async fetchJson(url: string): Promise<Record<string, unknown>> {
    const res = await this.fetchImpl(url, {
      headers: { accept: 'application/json' },
      // An issuer's keys are where its discovery document says, not wherever a redirect leads.
      redirect: 'manual',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > MAX_DOCUMENT_BYTES)
      throw new Error(`GET ${url}: larger than ${MAX_DOCUMENT_BYTES} bytes`);
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`GET ${url}: not a JSON object`);
    return value as Record<string, unknown>;
  }
}

/** jose's error → the check that failed. Anything else is ours, and escapes as such. */
function classify(e: unknown): Error {
  if (e instanceof errors.JWTExpired)
    return e.claim === 'iat'
      ? new IdentityTokenRefused('expired', `issued more than ${MAX_TOKEN_AGE_SECONDS} s ago`, 'iat')
      : new IdentityTokenRefused('expired', 'the token has expired (exp)', 'exp');
  if (e instanceof errors.JWTClaimValidationFailed) {
    const missing = e.reason === 'missing';
    if (missing) return new IdentityTokenRefused('claims', `the token has no "${e.claim}" claim`, e.claim);
    if (e.claim === 'aud')
      return new IdentityTokenRefused(
        'audience',
        `the token's audience (aud) is not this Berth's (BERTH_OIDC_AUDIENCE)`,
        'aud',
      );
    if (e.claim === 'iss') return new IdentityTokenRefused('issuer', 'unexpected issuer (iss)', 'iss');
    if (e.claim === 'nbf')
      return new IdentityTokenRefused('not yet valid', 'the token is not valid yet (nbf)', 'nbf');
    if (e.claim === 'iat')
      return new IdentityTokenRefused(
        'issued in the future',
        'the token was issued in the future (iat)',
        'iat',
      );
    return new IdentityTokenRefused('claims', e.message, e.claim);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed)
    return new IdentityTokenRefused('signature', "the signature does not verify with the issuer's keys");
  if (e instanceof errors.JWKSMultipleMatchingKeys)
    return new IdentityTokenRefused('signature', "several of the issuer's keys match the token's header");
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported)
    return new IdentityTokenRefused('algorithm', e.message);
  if (e instanceof errors.JOSEError) return new IdentityTokenRefused('malformed', e.message);
  return e instanceof Error ? e : new Error(String(e));
}
