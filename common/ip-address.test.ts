import { describe, expect, it } from 'vitest';
import { cidrContains, cidrWithin, formatIp, parseCidr, parseIp } from './ip-address.ts';

const canonical = (text: string) => {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : null;
};

describe('parseIp', () => {
  it.each([
    ['10.0.0.5', '10.0.0.5'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['fe80::', 'fe80::'],
    ['::', '::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::2:0:0:3', '1::2:0:0:3'],
    ['::ffff:169.254.169.254', '169.254.169.254'],
    ['::ffff:a9fe:a9fe', '169.254.169.254'],
    ['64:ff9b::10.0.0.1', '64:ff9b::a00:1'],
  ])('reads %s as %s', (text, want) => {
    expect(canonical(text)).toBe(want);
  });

  it.each([
    '',
    'localhost',
    'metadata.google.internal',
    '10.0.0',
    '10.0.0.256',
    '010.0.0.1',
    '10.0.0.1 ',
    '[::1]',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7::8',
    '10.0.0.1:80',
    '0x7f.0.0.1',
    '2130706433',
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe('CIDR blocks', () => {
  const ip = (t: string) => parseIp(t)!;
  it('contains the addresses of its family, IPv4 in IPv4-mapped form too', () => {
    const ten = parseCidr('10.0.0.0/8')!;
    expect(cidrContains(ten, ip('10.255.1.2'))).toBe(true);
    expect(cidrContains(ten, ip('::ffff:10.1.1.1'))).toBe(true);
    expect(cidrContains(ten, ip('11.0.0.1'))).toBe(false);
    expect(cidrContains(ten, ip('::a00:1'))).toBe(false);
    const v6 = parseCidr('fd00::/8')!;
    expect(cidrContains(v6, ip('fd12::1'))).toBe(true);
    expect(cidrContains(v6, ip('fe80::1'))).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, ip('203.0.113.9'))).toBe(true);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, ip('2001:db8::1'))).toBe(false);
    expect(cidrContains(parseCidr('192.168.1.7')!, ip('192.168.1.7'))).toBe(true);
    expect(cidrContains(parseCidr('192.168.1.7')!, ip('192.168.1.8'))).toBe(false);
    // Host bits are ignored: 10.1.2.3/16 is 10.1.0.0/16.
    expect(cidrContains(parseCidr('10.1.2.3/16')!, ip('10.1.200.1'))).toBe(true);
  });

  it('knows when one block lies inside another', () => {
    const linkLocal = parseCidr('169.254.0.0/16')!;
    expect(cidrWithin(parseCidr('169.254.169.254/32')!, linkLocal)).toBe(true);
    expect(cidrWithin(parseCidr('169.254.0.0/16')!, linkLocal)).toBe(true);
    expect(cidrWithin(parseCidr('0.0.0.0/0')!, linkLocal)).toBe(false);
    expect(cidrWithin(parseCidr('169.0.0.0/8')!, linkLocal)).toBe(false);
  });

  it.each(['10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/08', 'ten/8', '10.0.0.0/8/8', ''])(
    'refuses %j',
    (text) => {
      expect(parseCidr(text)).toBeNull();
    },
  );
});
