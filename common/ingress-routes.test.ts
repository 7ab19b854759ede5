import { describe, expect, it } from 'vitest';
import { type PathRule, pathMatches, RouteTable } from './ingress-routes.ts';

const rule = (
  host: string,
  path: string,
  pathType: 'Prefix' | 'Exact',
  value = `${host} ${pathType} ${path}`,
) => ({ host, path, pathType, value }) satisfies PathRule<string>;

describe('path matching, as Kubernetes Ingress', () => {
  it.each([
    ['Prefix', '/', '/', true],
    ['Prefix', '/', '/anything/at/all', true],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo', '/foo/bar', true],
    ['Prefix', '/foo', '/foobar', false],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/bar', true],
    ['Prefix', '/foo/bar', '/foo', false],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Exact', '/foo', '/foo/bar', false],
  ] as const)('%s %s against %s: %s', (pathType, path, request, matches) => {
    expect(pathMatches({ path, pathType }, request)).toBe(matches);
  });
});

describe('RouteTable', () => {
  const table = new RouteTable([
    rule('shop.example.com', '/', 'Prefix', 'web'),
    rule('shop.example.com', '/api', 'Prefix', 'api'),
    rule('shop.example.com', '/api/v2', 'Prefix', 'api-v2'),
    rule('shop.example.com', '/api/v2/health', 'Exact', 'health'),
    rule('shop.example.com', '/api', 'Exact', 'api-root'),
    rule('*.example.com', '/', 'Prefix', 'any'),
    rule('docs.example.com', '/guide', 'Prefix', 'guide'),
  ]);
  const value = (host: string, path: string) => table.match(host, path)?.value;

  it('sends Exact before the longest Prefix, by whole path elements', () => {
    expect(value('shop.example.com', '/')).toBe('web');
    expect(value('shop.example.com', '/apis')).toBe('web');
    expect(value('shop.example.com', '/api')).toBe('api-root');
    expect(value('shop.example.com', '/api/')).toBe('api');
    expect(value('shop.example.com', '/api/v1/x')).toBe('api');
    expect(value('shop.example.com', '/api/v2')).toBe('api-v2');
    expect(value('shop.example.com', '/api/v2/health')).toBe('health');
    expect(value('shop.example.com', '/api/v2/health/x')).toBe('api-v2');
  });

  it('matches an exact host before a wildcard, and a wildcard by one label only', () => {
    expect(value('other.example.com', '/x')).toBe('any');
    expect(table.match('a.b.example.com', '/')).toBeUndefined();
    expect(table.match('example.com', '/')).toBeUndefined();
    expect(table.match(undefined, '/')).toBeUndefined();
  });

  it('says when the host is routed but none of its paths matches (the wildcard does not take over)', () => {
    expect(table.match('docs.example.com', '/guide/intro')).toEqual({ value: 'guide' });
    expect(table.match('docs.example.com', '/blog')).toEqual({ hostOnly: true });
  });

  it('keeps the first of two equal rules', () => {
    const t = new RouteTable([
      rule('a.test', '/x', 'Prefix', 'first'),
      rule('a.test', '/x/', 'Prefix', 'second'),
    ]);
    expect(t.match('a.test', '/x/y')?.value).toBe('first');
  });
});
