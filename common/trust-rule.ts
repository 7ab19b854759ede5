import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';
import { Name } from './names.ts';

/**
 * A trust rule (`berth.dev/v1 TrustRule`, cluster-scoped, admins only): which OpenID Connect
 * identity tokens `POST /v1/tokens/exchange` trades for a short-lived Berth token, and what that
 * token may do. A rule matches a token when the token comes from the rule's issuer and every claim
 * the rule names matches; the claims are those GitHub Actions puts in every job's token.
 *
 *   apiVersion: berth.dev/v1
 *   kind: TrustRule
 *   metadata: {name: shop-production}
 *   spec:
 *     claims: {repository: acme/shop, environment: production, ref: refs/heads/main}
 *     role: deployer
 *     namespaces: [shop]
 *     ttlSeconds: 900
 */

/** GitHub Actions' issuer: every job's ID token says `iss` is this. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** The claims a rule may match on (GitHub Actions' names). */
export const TRUST_CLAIMS = [
  'repository',
  'repository_owner',
  'ref',
  'environment',
  'workflow',
  'job_workflow_ref',
] as const;
export type TrustClaim = (typeof TRUST_CLAIMS)[number];

/** An exchanged token lives this long unless its rule says otherwise; never longer than the cap. */
export const DEFAULT_EXCHANGE_TTL_SECONDS = 900;
export const MAX_EXCHANGE_TTL_SECONDS = 3600;
export const MIN_EXCHANGE_TTL_SECONDS = 60;

/** A claim value longer than this matches no pattern (GitHub's are far shorter). */
const MAX_CLAIM_LENGTH = 1024;

const ClaimPattern = z
  .string()
  .min(1)
  .max(256)
  .refine((p) => !/\*{3,}/.test(p), 'use * (within one path segment) or ** (across segments), not ***');

const TrustRuleClaims = z
  .strictObject(
    Object.fromEntries(TRUST_CLAIMS.map((c) => [c, ClaimPattern.optional()])) as {
      [K in TrustClaim]: z.ZodOptional<typeof ClaimPattern>;
    },
  )
  .superRefine((claims, ctx) => {
    // Without a fixed owner a rule would trust every repository on the issuer: anyone's workflow.
    const owner = claims.repository_owner;
    const repository = claims.repository;
    if (owner === undefined && repository === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['repository'],
        message:
          'a rule names repository (owner/name) or repository_owner: without one it would trust every repository on the issuer',
      });
    if (owner?.includes('*'))
      ctx.addIssue({
        code: 'custom',
        path: ['repository_owner'],
        message: 'must be exact (no *): the owner is what fixes whose workflows are trusted',
      });
    if (repository !== undefined && (!repository.includes('/') || repository.split('/')[0]!.includes('*')))
      ctx.addIssue({
        code: 'custom',
        path: ['repository'],
        message: 'must be owner/name with an exact owner (acme/shop or acme/*)',
      });
  });

export const TrustRuleSpec = z.strictObject({
  /** The `iss` of the tokens this rule accepts; one of BERTH_OIDC_ISSUERS. */
  issuer: z.string().min(1).max(512).default(GITHUB_ACTIONS_ISSUER),
  /** Claim → exact value or glob (`*` within one `/`-separated segment, `**` across segments). */
  claims: TrustRuleClaims,
  /** What the exchanged token may do: never admin, so no workflow can reach tokens, nodes or policies. */
  role: z.enum(['deployer', 'viewer']),
  namespaces: z.array(Name).min(1).max(256),
  /** How long an exchanged token lives (default 15 minutes, at most an hour). */
  ttlSeconds: z
    .int()
    .min(MIN_EXCHANGE_TTL_SECONDS)
    .max(MAX_EXCHANGE_TTL_SECONDS)
    .default(DEFAULT_EXCHANGE_TTL_SECONDS),
});
export type TrustRuleSpec = z.infer<typeof TrustRuleSpec>;

export const TrustRuleInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('TrustRule').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: TrustRuleSpec,
});
export type TrustRuleInput = z.infer<typeof TrustRuleInput>;

/**
 * Whether a claim value matches a rule's pattern: `*` matches any run of characters but `/`, `**`
 * any run at all, everything else itself. Linear in pattern × value (no backtracking), so no
 * pattern can be made to take long.
 */
export function claimMatches(pattern: string, value: string): boolean {
  if (value.length > MAX_CLAIM_LENGTH) return false;
  if (!pattern.includes('*')) return pattern === value;
  type Token = { star: 'one' | 'any' } | { char: string };
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*') tokens.push({ char: pattern[i]! });
    else if (pattern[i + 1] === '*') {
      tokens.push({ star: 'any' });
      i++;
    } else tokens.push({ star: 'one' });
  }
  // reach[j]: the tokens so far can match value[0, j).
  let reach = new Array<boolean>(value.length + 1).fill(false);
  reach[0] = true;
  for (const token of tokens) {
    const next = new Array<boolean>(value.length + 1).fill(false);
    for (let j = 0; j <= value.length; j++) {
      if ('char' in token) {
        if (j > 0 && reach[j - 1] && value[j - 1] === token.char) next[j] = true;
        continue;
      }
      // A star extends any match before it by characters it may take.
      if (reach[j]) next[j] = true;
      else if (j > 0 && next[j - 1] && (token.star === 'any' || value[j - 1] !== '/')) next[j] = true;
    }
    reach = next;
  }
  return reach[value.length] === true;
}

/** Whether a verified token's claims satisfy every claim a rule names (a missing claim never does). */
export function ruleMatchesClaims(
  spec: Pick<TrustRuleSpec, 'claims'>,
  claims: Readonly<Record<string, unknown>>,
): boolean {
  return TRUST_CLAIMS.every((name) => {
    const pattern = spec.claims[name];
    if (pattern === undefined) return true;
    const value = claims[name];
    return typeof value === 'string' && claimMatches(pattern, value);
  });
}
