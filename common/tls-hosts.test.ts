import { describe, expect, it } from 'vitest';
import { certificateFor, challengeToken, httpsLocation, pickCertificate } from './tls-hosts.ts';

describe('SNI selection', () => {
  const hosts = new Map([
    ['shop.example.com', 'shop'],
    ['blog.example.com', 'blog'],
  ]);
  it("gives a host its own certificate, whatever the case or a trailing dot, else the API's", () => {
    expect(pickCertificate('shop.example.com', hosts, 'api')).toBe('shop');
    expect(pickCertificate('BLOG.Example.com.', hosts, 'api')).toBe('blog');
    expect(pickCertificate('berth.example.com', hosts, 'api')).toBe('api');
    expect(pickCertificate(undefined, hosts, 'api')).toBe('api');
    expect(pickCertificate('', hosts, 'api')).toBe('api');
  });
  it('serves a wildcard certificate for exactly one more label, unless the host has its own', () => {
    const withWildcard = new Map([
      ['*.apps.example.com', 'wildcard'],
      ['own.apps.example.com', 'own'],
    ]);
    expect(pickCertificate('a.apps.example.com', withWildcard, 'api')).toBe('wildcard');
    expect(pickCertificate('A.Apps.Example.com.', withWildcard, 'api')).toBe('wildcard');
    expect(pickCertificate('own.apps.example.com', withWildcard, 'api')).toBe('own');
    // Neither two more labels nor the name the wildcard stands under.
    expect(pickCertificate('b.a.apps.example.com', withWildcard, 'api')).toBe('api');
    expect(pickCertificate('apps.example.com', withWildcard, 'api')).toBe('api');
    expect(certificateFor('a.apps.example.com', withWildcard)).toBe('wildcard');
    expect(certificateFor('a.other.example.com', withWildcard)).toBeUndefined();
    // A single label or a wildcard name itself is never matched through another wildcard.
    expect(certificateFor('com', new Map([['*.com', 'x']]))).toBeUndefined();
    expect(certificateFor('example.com', new Map([['*.com', 'x']]))).toBeUndefined();
    expect(certificateFor('*.apps.example.com', new Map([['*.example.com', 'x']]))).toBeUndefined();
  });
  it('has nothing for an unknown name when the API has no files', () => {
    expect(pickCertificate('other.example.com', hosts, undefined)).toBeUndefined();
    expect(pickCertificate(undefined, new Map<string, string>(), undefined)).toBeUndefined();
  });
});

describe('HTTP-01 path and redirect', () => {
  it('knows a challenge path and refuses anything that is no token', () => {
    expect(challengeToken('/.well-known/acme-challenge/abc_DEF-123')).toBe('abc_DEF-123');
    expect(challengeToken('/.well-known/acme-challenge/a/../b')).toBeUndefined();
    expect(challengeToken('/.well-known/acme-challenge/')).toBeUndefined();
    expect(challengeToken('/index.html')).toBeUndefined();
  });
  it('keeps path and query, naming the port unless it is 443', () => {
    expect(httpsLocation('shop.example.com', 443, '/cart?item=1')).toBe(
      'https://shop.example.com/cart?item=1',
    );
    expect(httpsLocation('shop.example.com', 8443, '/')).toBe('https://shop.example.com:8443/');
  });
});
