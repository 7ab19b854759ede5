import { describe, expect, it } from 'vitest';
import { hostMatches } from '../verbs/services.ts';
import { HostTable, hostOf, normalizeHost } from './hosts.ts';

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

describe('HostTable', () => {
  const table = new HostTable([
    { hosts: ['web.example.com', 'www.example.com'], value: 'web' },
    { hosts: ['*.example.com'], value: 'wild' },
    { hosts: ['*.apps.test'], value: 'apps' },
  ]);

  it('matches exact hosts before wildcards', () => {
    expect(table.match('web.example.com')).toBe('web');
    expect(table.match('www.example.com')).toBe('web');
    expect(table.match('shop.example.com')).toBe('wild');
  });

  it('lets a wildcard cover exactly one label', () => {
    expect(table.match('a.apps.test')).toBe('apps');
    expect(table.match('apps.test')).toBeUndefined();
    expect(table.match('a.b.apps.test')).toBeUndefined();
    expect(table.match('example.com')).toBeUndefined();
  });

  it('matches nothing else', () => {
    expect(table.match('localhost')).toBeUndefined();
    expect(table.match(undefined)).toBeUndefined();
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
      expect(new HostTable([{ hosts: [pattern], value: 1 }]).match(host) === 1).toBe(want);
    }
  });
});
