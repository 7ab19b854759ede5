import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/**
 * A stand-in for GitHub Actions' OIDC issuer, on 127.0.0.1: it serves
 * /.well-known/openid-configuration and its key set, and signs tokens with keys jose generated
 * here. `rotate()` publishes a new key (the old one stays unpublished); `fetches` counts key-set
 * reads, so a test sees Berth's cache at work.
 */
export interface TestIssuer {
  url: string;
  /** Key-set requests served. */
  fetches: number;
  /** A token with GitHub-like claims (overridden by `claims`), signed by the published key. */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /** A new signing key, published; the previous one is no longer. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

export interface SignOptions {
  /** Seconds from now (negative: in the past). Defaults: iat now, exp +5 min. */
  iat?: number;
  exp?: number;
  nbf?: number;
  /** Sign with a key the issuer never published (a forged token). */
  unpublished?: boolean;
  alg?: 'RS256' | 'ES256';
}

interface Key {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(alg: 'RS256' | 'ES256', n: number): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: `test-${alg}-${n}`, alg, use: 'sig' };
  return { kid: jwk.kid, alg, privateKey, jwk };
}

/** GitHub Actions' claims for a push to main of acme/shop, deploying to production. */
export const GITHUB_CLAIMS = {
  sub: 'repo:acme/shop:environment:production',
  repository: 'acme/shop',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  environment: 'production',
  workflow: 'Deploy',
  job_workflow_ref: 'acme/shop/.github/workflows/deploy.yml@refs/heads/main',
};

export async function startTestIssuer(options: { audience?: string } = {}): Promise<TestIssuer> {
  let n = 0;
  let keys: Key[] = [await newKey('RS256', ++n), await newKey('ES256', ++n)];
  const stranger = await newKey('RS256', 999);
  const state = { fetches: 0 };
  const server: Server = createServer((req, res) => {
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration')
      return json({
        issuer: url,
        jwks_uri: `${url}/.well-known/jwks`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    if (req.url === '/.well-known/jwks') {
      state.fetches++;
      return json({ keys: keys.map((k) => k.jwk) });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    get fetches() {
      return state.fetches;
    },
    async sign(claims = {}, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      const key = o.unpublished ? stranger : keys.find((k) => k.alg === (o.alg ?? 'RS256'))!;
      const payload: JWTPayload = {
        iss: url,
        aud: options.audience ?? 'berth',
        iat: now + (o.iat ?? 0),
        exp: now + (o.exp ?? 300),
        ...(o.nbf !== undefined ? { nbf: now + o.nbf } : {}),
        ...GITHUB_CLAIMS,
        ...claims,
      };
      return new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    async rotate() {
      keys = [await newKey('RS256', ++n), await newKey('ES256', ++n)];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
