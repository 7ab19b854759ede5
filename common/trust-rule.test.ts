import { describe, expect, it } from 'vitest';
import { claimMatches, ruleMatchesClaims, TrustRuleSpec } from './trust-rule.ts';

describe('claimMatches', () => {
  it.each([
    ['refs/heads/main', 'refs/heads/main', true],
    ['refs/heads/main', 'refs/heads/main2', false],
    ['refs/heads/*', 'refs/heads/main', true],
    ['refs/heads/*', 'refs/heads/feature/x', false],
    ['refs/heads/**', 'refs/heads/feature/x', true],
    ['refs/*/v*', 'refs/tags/v1.2', true],
    ['refs/*/v*', 'refs/tags/1.2', false],
    ['acme/*', 'acme/shop', true],
    ['acme/*', 'acme-evil/shop', false],
    ['acme/*', 'acme/', true],
    ['*', '', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    [
      'acme/shop/.github/workflows/*.yml@refs/heads/main',
      'acme/shop/.github/workflows/deploy.yml@refs/heads/main',
      true,
    ],
  ])('%s ~ %s: %s', (pattern, value, want) => {
    expect(claimMatches(pattern, value)).toBe(want);
  });

  it('takes no time on patterns made to backtrack', () => {
    const started = performance.now();
    expect(claimMatches('*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(1000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('ruleMatchesClaims', () => {
  const spec = TrustRuleSpec.parse({
    claims: { repository: 'acme/shop', environment: 'production' },
    role: 'deployer',
    namespaces: ['shop'],
  });
  it('needs every claim the rule names, as a string', () => {
    expect(ruleMatchesClaims(spec, { repository: 'acme/shop', environment: 'production', ref: 'x' })).toBe(
      true,
    );
    expect(ruleMatchesClaims(spec, { repository: 'acme/shop' })).toBe(false);
    expect(ruleMatchesClaims(spec, { repository: 'acme/shop', environment: ['production'] })).toBe(false);
  });
  it('defaults to GitHub Actions as the issuer and 15 minutes', () => {
    expect(spec).toMatchObject({ issuer: 'https://token.actions.githubusercontent.com', ttlSeconds: 900 });
  });
});
