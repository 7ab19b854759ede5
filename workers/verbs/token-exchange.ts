import { and, isNotNull, lt } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { ruleMatchesClaims, TRUST_CLAIMS } from '../../common/trust-rule.ts';
import type { ExchangedToken, TokenExchangeRequest } from '../../common/wire/trust-rule.ts';
import type { Database } from '../../db/database.ts';
import { tokens } from '../../db/schema/index.ts';
import type { TokenExchangeRecord } from '../../db/schema/tokens.ts';
import {
  type IdentityCheck,
  IdentityTokenRefused,
  type IdentityTokenVerifier,
} from '../auth/identity-tokens.ts';
import { TOKEN_PREFIX } from '../auth/principal.ts';
import { randomToken, sha256Hex } from '../crypto.ts';
import { invalid } from '../errors.ts';
import { recordEvents } from '../store/events.ts';
import { listTrustRuleRows } from './trust-rules.ts';

/**
 * POST /v1/tokens/exchange: an identity token a trust rule accepts becomes a Berth token that
 * expires in minutes, recorded with the claims that earned it.
 *
 *   identity token ──verify──▶ claims ──rules──▶ one role, their namespaces ──▶ Berth token (TTL ≤ 1 h)
 *        │ refused                  │ none match
 *        └──────────────────────────┴──▶ 401 naming the check, and an event for the admin
 */

/** Events of the exchange are cluster events (GET /v1/events?object=tokenexchange). */
export const EXCHANGE_EVENT_KIND = 'tokenexchange';

/** Every check an exchange can fail, in the order they are made. */
export type ExchangeCheck = IdentityCheck | 'no matching rule';

export class ExchangeRefused extends Error {
  constructor(
    readonly check: ExchangeCheck,
    message: string,
    readonly claim?: string,
  ) {
    super(message);
  }
}

/** Exchanged tokens stay listed this long after they expire (who deployed what), then go. */
const EXPIRED_KEPT_MS = 24 * 3600_000;

export async function exchangeIdentityToken(
  db: Database,
  verifier: IdentityTokenVerifier,
  trust: { issuers: readonly string[]; audience: string },
  input: TokenExchangeRequest,
  now: Date,
): Promise<ExchangedToken> {
  let verified: Awaited<ReturnType<IdentityTokenVerifier['verify']>>;
  try {
    verified = await verifier.verify(input.token, trust, now);
  } catch (e) {
    if (e instanceof IdentityTokenRefused) throw new ExchangeRefused(e.check, e.message, e.claim);
    throw e;
  }
  const { issuer, payload } = verified;
  const claims = matchedClaims(payload);
  const subject = typeof payload.sub === 'string' ? payload.sub : '';
  const rules = (await listTrustRuleRows(db)).filter(
    (r) =>
      r.spec.issuer === issuer &&
      (input.rule === undefined || r.name === input.rule) &&
      ruleMatchesClaims(r.spec, payload),
  );
  if (rules.length === 0)
    throw new ExchangeRefused(
      'no matching rule',
      `no trust rule${input.rule ? ` named "${input.rule}"` : ''} matches ${describeClaims(claims)}`,
    );
  const roles = [...new Set(rules.map((r) => r.spec.role))];
  if (roles.length > 1)
    throw invalid([
      {
        path: 'rule',
        message: `rules of different roles match (${rules.map((r) => `${r.name}: ${r.spec.role}`).join(', ')}): name the one to use`,
      },
    ]);
  const role = roles[0]!;
  const namespaces = [...new Set(rules.flatMap((r) => r.spec.namespaces))].sort();
  const ttlSeconds = Math.min(...rules.map((r) => r.spec.ttlSeconds));
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const exchange: TokenExchangeRecord = { issuer, subject, claims, rules: rules.map((r) => r.name) };
  const id = `tok_${randomToken(9)}`;
  const secret = `${TOKEN_PREFIX.user}${randomToken(24)}`;
  const name = `${exchange.rules.join(',')}: ${subject || describeClaims(claims)}`.slice(0, 128);
  await db.transaction(async (tx) => {
    await tx
      .delete(tokens)
      .where(
        and(isNotNull(tokens.exchange), lt(tokens.expiresAt, new Date(now.getTime() - EXPIRED_KEPT_MS))),
      );
    await tx.insert(tokens).values({
      id,
      name,
      role,
      namespaces,
      secretHash: await sha256Hex(secret),
      createdAt: now,
      expiresAt,
      exchange,
    });
    await recordEvents(
      tx,
      rules.map((r) => ({
        namespace: '',
        objectKind: EXCHANGE_EVENT_KIND,
        objectName: r.name,
        type: 'Normal' as const,
        reason: 'TokenExchanged',
        message: `${describeClaims(claims)} was given token ${id} (${role} in ${namespaces.join(',')}) until ${expiresAt.toISOString()}`,
      })),
      now,
    );
  });
  return {
    id,
    token: secret,
    name,
    role,
    namespaces,
    expiresAt: expiresAt.toISOString(),
    exchange,
  };
}

/**
 * The event an admin sees for a refused exchange: the check, and who the token said it was
 * (read without trusting it when the refusal came before its signature was verified).
 */
export async function recordExchangeRefusal(
  db: Database,
  refusal: ExchangeRefused,
  args: { token: string; rule?: string | undefined; client: string; now: Date },
): Promise<void> {
  let said = 'a token that is not a JWT';
  try {
    const payload = decodeJwt(args.token);
    const sub = typeof payload.sub === 'string' ? `sub ${payload.sub.slice(0, 512)}` : 'no sub';
    // A verified token's claims are in the refusal's own message already.
    said =
      refusal.check === 'no matching rule'
        ? sub
        : `a token of ${describeClaims(matchedClaims(payload))} (${sub}; unverified)`;
  } catch {
    // Not a JWT: nothing to name.
  }
  await recordEvents(
    db,
    [
      {
        namespace: '',
        objectKind: EXCHANGE_EVENT_KIND,
        // '-': no rule named (a rule's name is a DNS label, never this).
        objectName: args.rule ?? '-',
        type: 'Warning',
        reason: 'ExchangeRefused',
        message: `refused (${refusal.check}): ${refusal.message}; ${said}, from ${args.client}`.slice(
          0,
          2000,
        ),
      },
    ],
    args.now,
  );
}

/** The claims rules match on, as strings (what is recorded with the token). */
function matchedClaims(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of TRUST_CLAIMS) {
    const value = payload[name];
    if (typeof value === 'string') out[name] = value.slice(0, 512);
  }
  return out;
}

function describeClaims(claims: Record<string, string>): string {
  const parts = TRUST_CLAIMS.filter((c) => claims[c] !== undefined).map((c) => `${c} ${claims[c]}`);
  return parts.length ? parts.join(', ') : 'no repository claims';
}
