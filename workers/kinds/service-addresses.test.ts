import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import {
  type Ipv4Block,
  ipv4ToNumber,
  isAssignable,
  numberToIpv4,
  parseIpv4Block,
  parsePortRange,
  pickFree,
} from './service-addresses.ts';

describe('service address spaces', () => {
  it('parses IPv4 blocks and refuses host bits, tiny blocks and IPv6', () => {
    expect(parseIpv4Block('10.96.0.0/12')).toEqual({
      text: '10.96.0.0/12',
      first: ipv4ToNumber('10.96.0.0'),
      size: 2 ** 20,
    });
    expect(parseIpv4Block('10.96.0.1/12')).toMatch(/did you mean 10\.96\.0\.0\/12/);
    expect(parseIpv4Block('10.0.0.0/31')).toMatch(/too small/);
    expect(parseIpv4Block('fd00::/8')).toMatch(/not an IPv4 CIDR/);
    expect(numberToIpv4(ipv4ToNumber('255.1.2.3')!)).toBe('255.1.2.3');
  });

  it('never assigns the network or broadcast address', () => {
    const block = parseIpv4Block('10.0.0.0/30') as Ipv4Block;
    expect([0, 1, 2, 3].map((i) => isAssignable(block, block.first + i))).toEqual([false, true, true, false]);
    expect(isAssignable(block, block.first + 4)).toBe(false);
  });

  it('picks a free value, the last one of a nearly full range, and none of a full one', () => {
    expect(pickFree(1, 3, new Set([1, 3]))).toBe(2);
    expect(pickFree(1, 3, new Set([1, 2, 3]))).toBeUndefined();
    const used = new Set(Array.from({ length: 999 }, (_, i) => 30000 + i));
    expect(pickFree(30000, 30999, used)).toBe(30999);
  });

  it('parses port ranges', () => {
    expect(parsePortRange('30000-32767')).toEqual({ min: 30000, max: 32767 });
    expect(parsePortRange('32767-30000')).toMatch(/not a port range/);
    expect(parsePortRange('0-10')).toMatch(/not a port range/);
  });
});

describe('BERTH_SERVICE_CIDR, BERTH_NODE_PORT_RANGE, BERTH_ENDPOINT_CIDR', () => {
  it('default to the Kubernetes ranges', async () => {
    const config = await parseConfig({});
    expect([config.serviceCidr, config.nodePortRange, config.endpointCidr]).toEqual([
      '10.96.0.0/12',
      { min: 30000, max: 32767 },
      '10.112.0.0/16',
    ]);
  });

  it('are read, and bad or overlapping values stop the start', async () => {
    const config = await parseConfig({
      BERTH_SERVICE_CIDR: '172.20.0.0/16',
      BERTH_NODE_PORT_RANGE: '40000-40100',
      BERTH_ENDPOINT_CIDR: '172.21.0.0/16',
    });
    expect([config.serviceCidr, config.nodePortRange, config.endpointCidr]).toEqual([
      '172.20.0.0/16',
      { min: 40000, max: 40100 },
      '172.21.0.0/16',
    ]);
    await expect(parseConfig({ BERTH_SERVICE_CIDR: 'nope' })).rejects.toThrow(/BERTH_SERVICE_CIDR: "nope"/);
    await expect(parseConfig({ BERTH_NODE_PORT_RANGE: '1-70000' })).rejects.toThrow(/BERTH_NODE_PORT_RANGE/);
    await expect(parseConfig({ BERTH_ENDPOINT_CIDR: '10.100.0.0/16' })).rejects.toThrow(
      /BERTH_ENDPOINT_CIDR: 10\.100\.0\.0\/16 overlaps BERTH_SERVICE_CIDR 10\.96\.0\.0\/12/,
    );
  });
});
