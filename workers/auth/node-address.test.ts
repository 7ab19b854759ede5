import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { checkNodeAddress, parseCidrList } from './node-address.ts';

const check = (address: string, cidrs = '') => checkNodeAddress(address, parseCidrList(cidrs).cidrs);

describe('checkNodeAddress', () => {
  it('takes IP literals in canonical form, loopback included, by default', () => {
    expect(check('10.0.0.5')).toEqual({ ok: true, address: '10.0.0.5' });
    expect(check('127.0.0.1')).toEqual({ ok: true, address: '127.0.0.1' });
    expect(check('::1')).toEqual({ ok: true, address: '::1' });
    expect(check('2001:0DB8::0001')).toEqual({ ok: true, address: '2001:db8::1' });
    expect(check('::ffff:10.0.0.5')).toEqual({ ok: true, address: '10.0.0.5' });
  });

  it.each([
    ['metadata.google.internal', /not a host name/],
    ['169.254.169.254', /link-local.*169\.254\.169\.254/],
    ['::ffff:169.254.169.254', /link-local/],
    ['::ffff:a9fe:a9fe', /link-local/],
    ['fe80::1', /link-local/],
    ['fd00:ec2::254', /AWS metadata/],
    ['100.100.100.200', /Alibaba/],
    ['0.0.0.0', /not a host address/],
    ['::', /not a host address/],
    ['ff02::1', /multicast/],
    ['255.255.255.255', /broadcast/],
  ])('refuses %s by default', (address, why) => {
    const r = check(address);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(why);
  });

  it('with ranges set, takes only what they hold; a refused range opens only to a range inside it', () => {
    const cidrs = '10.0.0.0/8,fd00::/8';
    expect(check('10.9.8.7', cidrs).ok).toBe(true);
    expect(check('fd00::1', cidrs).ok).toBe(true);
    expect(check('127.0.0.1', cidrs).ok).toBe(false);
    expect(check('192.168.0.1', cidrs)).toEqual({
      ok: false,
      message: expect.stringContaining('outside the node address ranges'),
    });
    expect(check('169.254.169.254', '0.0.0.0/0').ok).toBe(false);
    expect(check('169.254.169.254', '169.0.0.0/8').ok).toBe(false);
    expect(check('169.254.169.254', '169.254.0.0/16').ok).toBe(true);
    expect(check('169.254.169.254', '169.254.169.254').ok).toBe(true);
    expect(check('169.254.1.1', '169.254.169.254/32').ok).toBe(false);
  });
});

describe('BERTH_NODE_ADDRESS_CIDRS', () => {
  it('is parsed into the configuration, and a bad entry stops the start', async () => {
    expect((await parseConfig({})).nodeAddressCidrs).toEqual([]);
    const set = await parseConfig({ BERTH_NODE_ADDRESS_CIDRS: ' 10.0.0.0/8 , fd00::/8,' });
    expect(set.nodeAddressCidrs.map((c) => c.text)).toEqual(['10.0.0.0/8', 'fd00::/8']);
    await expect(parseConfig({ BERTH_NODE_ADDRESS_CIDRS: '10.0.0.0/8,nope,10.0.0.0/40' })).rejects.toThrow(
      /BERTH_NODE_ADDRESS_CIDRS: "nope" is not a CIDR block[\s\S]*"10\.0\.0\.0\/40"/,
    );
  });
});
