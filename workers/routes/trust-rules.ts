import type { OpenAPIHono } from '@hono/zod-openapi';
import { TrustRuleInput } from '../../common/trust-rule.ts';
import {
  ExchangedToken,
  TokenExchangeRequest,
  TrustRule,
  TrustRuleList,
} from '../../common/wire/trust-rule.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { requireAdmin } from '../auth/authorize.ts';
import { IdentityTokenVerifier, IssuerUnavailable } from '../auth/identity-tokens.ts';
import { readValid } from '../http/body.ts';
import { clientOf } from '../http/client.ts';
import { ApiError } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { ExchangeRefused, exchangeIdentityToken, recordExchangeRefusal } from '../verbs/token-exchange.ts';
import {
  applyTrustRule,
  deleteTrustRule,
  listTrustRules,
  readTrustRule,
  toTrustRuleObject,
} from '../verbs/trust-rules.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const TAGS = ['Trust rules'];

/** Carries no bearer token: the exchange proves itself with the identity token in its body. */
export const EXCHANGE_PATH = '/v1/tokens/exchange';

export function trustRuleRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'put',
      path: '/v1/trustrules/{name}',
      summary:
        'Create or replace a trust rule (admins): which identity tokens (GitHub Actions OIDC) POST /v1/tokens/exchange trades for a Berth token',
      tags: TAGS,
      body: TrustRuleInput,
      query: DryRunQuery,
      response: TrustRule,
      status: [200, 201],
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, TrustRuleInput);
      const result = await applyTrustRule(deps.db, name, input, writeOptions(c, deps, dryRun));
      return c.json(toTrustRuleObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/trustrules/{name}',
      summary: 'One trust rule (admins)',
      tags: TAGS,
      response: TrustRule,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      return c.json(await readTrustRule(deps.db, nameParam(c, 'name')));
    },
  );
  route(
    app,
    {
      method: 'delete',
      path: '/v1/trustrules/{name}',
      summary: 'Remove a trust rule (admins); tokens it already issued live out their minutes',
      tags: TAGS,
      response: TrustRule,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      return c.json(await deleteTrustRule(deps.db, nameParam(c, 'name')));
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/trustrules',
      summary: 'Every trust rule (admins)',
      tags: TAGS,
      response: TrustRuleList,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      return c.json({
        apiVersion: 'berth.dev/v1',
        kind: 'TrustRuleList',
        items: await listTrustRules(deps.db),
      });
    },
  );
  route(
    app,
    {
      method: 'post',
      path: EXCHANGE_PATH,
      summary:
        'Trade an OpenID Connect identity token (GitHub Actions) that a trust rule accepts for a Berth token that expires in minutes (no bearer token)',
      tags: ['Tokens'],
      body: TokenExchangeRequest,
      response: ExchangedToken,
      public: true,
    },
    async (c) => {
      const input = await readValid(c, TokenExchangeRequest);
      deps.identityTokens ??= new IdentityTokenVerifier();
      const verifier = deps.identityTokens;
      const now = deps.now();
      try {
        return c.json(await exchangeIdentityToken(deps.db, verifier, deps.config.oidc, input, now));
      } catch (e) {
        if (e instanceof IssuerUnavailable) {
          deps.log.warn('identity token issuer unavailable', { error: e.message });
          throw new ApiError('UNAVAILABLE', e.message, { headers: { 'retry-after': '5' } });
        }
        if (!(e instanceof ExchangeRefused)) throw e;
        // As with bearer tokens (auth/authenticate.ts): an address that keeps failing is told to
        // slow down, and its refusals stop costing an event each.
        const limiter = deps.failureLimiter;
        const client = clientOf(c, deps).address ?? 'unknown';
        const wait = limiter?.retryAfter(client, now.getTime()) ?? 0;
        if (wait > 0)
          throw new ApiError('RATE_LIMITED', 'too many refused exchanges from this address; slow down', {
            headers: { 'retry-after': String(wait) },
          });
        limiter?.recordFailure(client, now.getTime());
        await recordExchangeRefusal(deps.db, e, { token: input.token, rule: input.rule, client, now });
        throw new ApiError('UNAUTHENTICATED', `identity token refused (${e.check}): ${e.message}`, {
          errors: [{ path: e.claim ? `token.${e.claim}` : 'token', message: `${e.check}: ${e.message}` }],
          headers: { 'www-authenticate': 'Bearer realm="berth", error="invalid_token"' },
        });
      }
    },
  );
}
