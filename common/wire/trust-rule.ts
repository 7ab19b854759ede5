import { z } from 'zod';
import { Name } from '../names.ts';
import { TrustRuleSpec } from '../trust-rule.ts';
import { CreatedToken, TokenExchange } from './access.ts';
import { ApiVersion, ObjectMeta } from './meta.ts';

/** A trust rule as the API returns it (cluster-scoped: its metadata has no namespace). */
export const TrustRule = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('TrustRule'),
    metadata: ObjectMeta.omit({ namespace: true }),
    spec: TrustRuleSpec,
  })
  .meta({ id: 'TrustRule' });
export type TrustRule = z.infer<typeof TrustRule>;

export const TrustRuleList = z
  .object({ apiVersion: ApiVersion, kind: z.literal('TrustRuleList'), items: z.array(TrustRule) })
  .meta({ id: 'TrustRuleList' });
export type TrustRuleList = z.infer<typeof TrustRuleList>;

/** The body of `POST /v1/tokens/exchange`. */
export const TokenExchangeRequest = z
  .strictObject({
    /** The OpenID Connect identity token (a JWT), e.g. GitHub Actions' ID token for Berth's audience. */
    token: z.string().min(1).max(16_384),
    /** Use this rule only; without it every rule the token matches counts (they must share one role). */
    rule: Name.optional(),
  })
  .meta({ id: 'TokenExchangeRequest' });
export type TokenExchangeRequest = z.infer<typeof TokenExchangeRequest>;

/** The answer to `POST /v1/tokens/exchange`: a Berth token (shown once) that expires in minutes. */
export const ExchangedToken = CreatedToken.extend({
  expiresAt: z.iso.datetime(),
  exchange: TokenExchange,
}).meta({
  id: 'ExchangedToken',
});
export type ExchangedToken = z.infer<typeof ExchangedToken>;
