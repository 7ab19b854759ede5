import { describe, expect, it } from 'vitest';
import {
  apiHostClaimedBy,
  hostMatches,
  isApiHost,
  isIpLiteral,
  patternsOverlap,
  withinSuffix,
} from './host-patterns.ts';

describe('host patterns', () => {
  it('lets a wildcard match exactly one more label', () => {
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(false);
    expect(hostMatches('web.example.com', 'web.example.com')).toBe(true);
  });

  it('finds patterns that share a host name', () => {
    expect(patternsOverlap('api.example.com', 'api.example.com')).toBe(true);
    expect(patternsOverlap('*.example.com', 'api.example.com')).toBe(true);
    expect(patternsOverlap('api.example.com', '*.example.com')).toBe(true);
    expect(patternsOverlap('*.example.com', '*.example.com')).toBe(true);
    expect(patternsOverlap('*.example.com', '*.a.example.com')).toBe(false);
    expect(patternsOverlap('*.example.com', 'example.com')).toBe(false);
    expect(patternsOverlap('*.workers.dev', 'berth.acct.workers.dev')).toBe(false);
    expect(patternsOverlap('*.acct.workers.dev', 'berth.acct.workers.dev')).toBe(true);
  });

  it('places hosts under a suffix', () => {
    expect(withinSuffix('example.com', 'example.com')).toBe(true);
    expect(withinSuffix('shop.example.com', 'example.com')).toBe(true);
    expect(withinSuffix('*.shop.example.com', 'example.com')).toBe(true);
    expect(withinSuffix('badexample.com', 'example.com')).toBe(false);
    expect(withinSuffix('example.com.evil.net', 'example.com')).toBe(false);
  });

  it('knows an address from a name', () => {
    expect(isIpLiteral('10.0.0.5')).toBe(true);
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('::1')).toBe(true);
    expect(isIpLiteral('web.example.com')).toBe(false);
    expect(isIpLiteral('1.2.3.example')).toBe(false);
  });
});

describe('the API host names', () => {
  const api = ['berth.example.com', '*.workers.dev', 'localhost'];

  it('recognises them, a suffix at any depth', () => {
    expect(isApiHost('berth.example.com', api)).toBe(true);
    expect(isApiHost('berth.acct.workers.dev', api)).toBe(true);
    expect(isApiHost('workers.dev', api)).toBe(true);
    expect(isApiHost('shop.example.com', api)).toBe(false);
  });

  it('names the API host a service pattern would take', () => {
    expect(apiHostClaimedBy('berth.example.com', api)).toBe('berth.example.com');
    expect(apiHostClaimedBy('*.example.com', api)).toBe('berth.example.com');
    expect(apiHostClaimedBy('x.acct.workers.dev', api)).toBe('*.workers.dev');
    expect(apiHostClaimedBy('*.acct.workers.dev', api)).toBe('*.workers.dev');
    expect(apiHostClaimedBy('*.dev', api)).toBe('*.workers.dev');
    expect(apiHostClaimedBy('localhost', api)).toBe('localhost');
    expect(apiHostClaimedBy('shop.example.com', api)).toBeUndefined();
    expect(apiHostClaimedBy('*.shop.example.com', api)).toBeUndefined();
    expect(apiHostClaimedBy('*.net', api)).toBeUndefined();
  });
});
