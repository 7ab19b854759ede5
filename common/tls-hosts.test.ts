import { describe, expect, it } from 'vitest';
import { certificateForName } from './tls-hosts.ts';

describe('the certificate for a server name', () => {
  const hosts = new Map([
    ['shop.example.com', 'shop'],
    ['*.apps.example.com', 'apps'],
    ['own.apps.example.com', 'own'],
  ]);
  it("is the host's own, else the wildcard one label above it", () => {
    expect(certificateForName('SHOP.example.com.', hosts)).toBe('shop');
    expect(certificateForName('a.apps.example.com', hosts)).toBe('apps');
    expect(certificateForName('own.apps.example.com', hosts)).toBe('own');
  });
  it('is none two labels below a wildcard, for the bare suffix, or without a name', () => {
    expect(certificateForName('a.b.apps.example.com', hosts)).toBeUndefined();
    expect(certificateForName('apps.example.com', hosts)).toBeUndefined();
    expect(certificateForName(undefined, hosts)).toBeUndefined();
    expect(certificateForName('', hosts)).toBeUndefined();
  });
});
