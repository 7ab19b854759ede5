import { describe, expect, it } from 'vitest';
import { RouteTable } from '../../common/ingress-routes.ts';
import { hostMatches } from '../verbs/services.ts';
import { hostOf, normalizeHost } from './hosts.ts';

describe('normalizeHost', () => {
  it('strips the port and a trailing dot, lower-cases, keeps IPv6 brackets', () => {
    expect(normalizeHost('Web.Example.COM:8080')).toBe('web.example.com');
    expect(normalizeHost('web.example.com.')).toBe('web.example.com');
    expect(normalizeHost('[::1]:8080')).toBe('[::1]');
    expect(normalizeHost('')).toBeUndefined();
    expect(normalizeHost(undefined)).toBeUndefined();
  });

  it('reads the Host header, else the URL', () => {
    expect(hostOf(new Request('http://api.internal/v1', { headers: { host: 'Web.Test:80' } }))).toBe(
      'web.test',
    );
    expect(hostOf(new Request('http://web.test:8080/'))).toBe('web.test');
  });
});

describe('host matching of the route table', () => {
  const table = new RouteTable(
    [
      { hosts: ['web.example.com', 'www.example.com'], value: 'web' },
      { hosts: ['*.example.com'], value: 'wild' },
      { hosts: ['*.apps.test'], value: 'apps' },
    ].flatMap(({ hosts, value }) =>
      hosts.map((host) => ({ host, path: '/', pathType: 'Prefix' as const, value })),
    ),
  );
  const match = (host: string | undefined) => table.match(host, '/')?.value;

  it('matches exact hosts before wildcards', () => {
    expect(match('web.example.com')).toBe('web');
    expect(match('www.example.com')).toBe('web');
    expect(match('shop.example.com')).toBe('wild');
  });

  it('lets a wildcard cover exactly one label', () => {
    expect(match('a.apps.test')).toBe('apps');
    expect(match('apps.test')).toBeUndefined();
    expect(match('a.b.apps.test')).toBeUndefined();
    expect(match('example.com')).toBeUndefined();
  });

  it('matches nothing else', () => {
    expect(match('localhost')).toBeUndefined();
    expect(match(undefined)).toBeUndefined();
  });

  it('agrees with hostMatches, which the API uses to protect its own host', () => {
    for (const [pattern, host, want] of [
      ['*.example.com', 'a.example.com', true],
      ['*.example.com', 'example.com', false],
      ['*.example.com', 'a.b.example.com', false],
      ['web.test', 'web.test', true],
      ['web.test', 'a.web.test', false],
    ] as const) {
      expect(hostMatches(pattern, host), `${pattern} ~ ${host}`).toBe(want);
      const one = new RouteTable([{ host: pattern, path: '/', pathType: 'Prefix', value: 1 }]);
      expect(one.match(host, '/')?.value === 1).toBe(want);
    }
  });
});
