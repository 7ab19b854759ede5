import { describe, expect, it } from 'vitest';
import { parseTrustedProxies, resolveClient } from './client-address.ts';

const trusted = parseTrustedProxies('10.0.0.0/8, 192.168.1.7, fd00::/8');

describe('client address behind trusted proxies', () => {
  it('believes nothing a client writes when no proxy is trusted (the default)', () => {
    const none = parseTrustedProxies(undefined);
    expect(resolveClient('203.0.113.9', '1.2.3.4', none)).toEqual({
      address: '203.0.113.9',
      forwardedFor: ['203.0.113.9'],
    });
    expect(resolveClient('10.1.1.1', '1.2.3.4', none).address).toBe('10.1.1.1');
  });

  it('ignores X-Forwarded-For from a peer that is not trusted', () => {
    expect(resolveClient('203.0.113.9', '10.0.0.5, 192.168.1.7', trusted)).toEqual({
      address: '203.0.113.9',
      forwardedFor: ['203.0.113.9'],
    });
  });

  it('walks from the right past trusted hops to the first untrusted one', () => {
    // The client claims 6.6.6.6; its real address was appended by the first proxy.
    expect(resolveClient('10.0.0.2', '6.6.6.6, 198.51.100.20, 192.168.1.7', trusted)).toEqual({
      address: '198.51.100.20',
      forwardedFor: ['198.51.100.20', '192.168.1.7', '10.0.0.2'],
    });
  });

  it('takes the leftmost hop when every hop is trusted, and the peer when there is no header', () => {
    expect(resolveClient('10.0.0.2', '10.9.9.9, 192.168.1.7', trusted).address).toBe('10.9.9.9');
    expect(resolveClient('10.0.0.2', undefined, trusted)).toEqual({
      address: '10.0.0.2',
      forwardedFor: ['10.0.0.2'],
    });
  });

  it('stops at an entry that is not an address: the trusted hop that wrote it is the client', () => {
    expect(resolveClient('10.0.0.2', '1.2.3.4, unknown, 10.0.0.3', trusted)).toEqual({
      address: '10.0.0.3',
      forwardedFor: ['10.0.0.3', '10.0.0.2'],
    });
    expect(resolveClient('10.0.0.2', 'garbage', trusted).address).toBe('10.0.0.2');
  });

  it('reads the forms proxies write (ports, brackets, IPv4-mapped IPv6 peers, zones)', () => {
    expect(resolveClient('::ffff:10.0.0.2', '198.51.100.20:5123', trusted).address).toBe('198.51.100.20');
    expect(resolveClient('10.0.0.2', '[2001:DB8::1]:443', trusted).address).toBe('2001:db8::1');
    expect(resolveClient('fd00::1%eth0', '2001:db8:0:0:0:0:0:2', trusted).address).toBe('2001:db8::2');
    expect(resolveClient('::ffff:203.0.113.9', '1.2.3.4', trusted).address).toBe('203.0.113.9');
  });

  it('keeps an address the runtime gives in a form it cannot parse, and knows nothing without one', () => {
    expect(resolveClient('unix-socket', '1.2.3.4', trusted)).toEqual({
      address: 'unix-socket',
      forwardedFor: ['unix-socket'],
    });
    expect(resolveClient(undefined, '1.2.3.4', trusted)).toEqual({ address: undefined, forwardedFor: [] });
  });
});

describe('BERTH_TRUSTED_PROXIES', () => {
  it('accepts IPs and CIDR blocks of both families', () => {
    const list = parseTrustedProxies(' 127.0.0.1 ,10.0.0.0/8,::1, 2001:db8::/32 ');
    expect(list.map((b) => `${b.text} ${b.bits}`)).toEqual([
      '127.0.0.1 128',
      '10.0.0.0/8 104',
      '::1 128',
      '2001:db8::/32 32',
    ]);
    const behind = (peer: string) => resolveClient(peer, '198.51.100.1', list).address;
    expect(['127.0.0.1', '10.255.0.1', '::1', '2001:db8:ffff::1'].map(behind)).toEqual(
      Array(4).fill('198.51.100.1'),
    );
    expect(['127.0.0.2', '11.0.0.1', '::2', '2001:db9::1'].map(behind)).toEqual([
      '127.0.0.2',
      '11.0.0.1',
      '::2',
      '2001:db9::1',
    ]);
    expect(parseTrustedProxies('')).toEqual([]);
    expect(parseTrustedProxies(undefined)).toEqual([]);
  });

  it('rejects what is not an address or block, naming the entry', () => {
    for (const bad of [
      '10.0.0.0/33',
      'proxy.example.com',
      '10.0.0.256',
      '1.2.3.4/8/9',
      '::1/129',
      '10.0.0/8',
    ])
      expect(() => parseTrustedProxies(`127.0.0.1, ${bad}`), bad).toThrow(bad);
  });
});
