import { ApiError, type BerthClient } from '../cli/client.ts';
import { CliError } from '../cli/exit-codes.ts';

/**
 * `oidc: true`: no stored token. The job asks the runner for its identity token (OpenID Connect)
 * with Berth's audience, and the control plane trades it for a Berth token that expires in
 * minutes, as a trust rule says (POST /v1/tokens/exchange).
 *
 * The runner serves the identity token only to a job whose workflow grants
 * `permissions: id-token: write`; it then sets ACTIONS_ID_TOKEN_REQUEST_URL and
 * ACTIONS_ID_TOKEN_REQUEST_TOKEN, and answers `{"value": "<jwt>"}`.
 */

type Env = Record<string, string | undefined>;
type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export async function requestIdentityToken(
  env: Env,
  audience: string,
  fetchFn: Fetch = fetch,
): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer)
    throw new CliError(
      'oidc: the runner offers no identity token: give the workflow (or the job) `permissions: id-token: write`',
    );
  const target = new URL(url);
  target.searchParams.set('audience', audience);
  let res: Response;
  try {
    res = await fetchFn(target.toString(), {
      headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CliError(`oidc: the runner's identity token could not be had: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as { value?: unknown } | undefined;
  if (!res.ok || typeof body?.value !== 'string' || !body.value)
    throw new CliError(`oidc: the runner did not give an identity token (HTTP ${res.status})`);
  return body.value;
}

/** The exchange, its refusal said as the server says it (which check failed). */
export async function exchangeForBerthToken(client: BerthClient, identityToken: string, rule?: string) {
  try {
    return await client.exchangeIdentityToken(identityToken, rule);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 422))
      throw new CliError(
        `oidc: Berth refused this job's identity token: ${err.problem.detail ?? err.message} (an admin sees it in berth get events --for tokenexchange)`,
      );
    throw err;
  }
}
