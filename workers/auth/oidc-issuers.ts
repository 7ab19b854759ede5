import { GITHUB_ACTIONS_ISSUER } from '../../common/trust-rule.ts';

/**
 * The OpenID Connect issuers Berth may trust, as configuration (BERTH_OIDC_ISSUERS). An issuer is
 * an https URL; plain http is accepted only for a loopback host (a test issuer on 127.0.0.1), since
 * its keys would otherwise travel where anyone on the path could swap them.
 */

/** GitHub Actions' issuer is trusted unless BERTH_OIDC_ISSUERS says otherwise. */
export { GITHUB_ACTIONS_ISSUER };

/**
 * The `aud` an identity token must carry to be exchanged (BERTH_OIDC_AUDIENCE). A value only Berth
 * asks for, so a token minted for another service (GitHub's default audience is the repository
 * owner's URL) is never accepted here.
 */
export const DEFAULT_OIDC_AUDIENCE = 'berth';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why `text` is not an issuer Berth may trust, or undefined when it is one. */
export function issuerProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL (like ${GITHUB_ACTIONS_ISSUER})`;
  }
  if (url.search || url.hash || url.username || url.password)
    return `"${text}": an issuer URL has no query, fragment or credentials`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  if (url.protocol === 'http:')
    return `"${text}": plain http is accepted only for a loopback issuer (127.0.0.1, ::1, localhost); use https`;
  return `"${text}" is not an http(s) URL`;
}

/** Issuers, comma separated; each kept exactly as written (OIDC compares `iss` as a string). */
export function parseIssuerList(text: string): { issuers: string[]; bad: string[] } {
  const issuers: string[] = [];
  const bad: string[] = [];
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const problem = issuerProblem(item);
    if (problem) bad.push(problem);
    else if (!issuers.includes(item)) issuers.push(item);
  }
  return { issuers, bad };
}
