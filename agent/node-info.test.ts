import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { detectAddress, platformLabels } from './node-info.ts';

const v4 = (address: string, internal = false) =>
  ({ address, family: 'IPv4', internal }) as NetworkInterfaceInfo;
const v6 = (address: string) => ({ address, family: 'IPv6', internal: false }) as NetworkInterfaceInfo;

describe('detectAddress', () => {
  it('takes the first non-internal IPv4 of a real interface', () => {
    expect(
      detectAddress({
        lo: [v4('127.0.0.1', true)],
        docker0: [v4('172.17.0.1')],
        'br-1a2b': [v4('172.18.0.1')],
        veth12: [v4('169.254.1.1')],
        eth0: [v6('fe80::1'), v4('10.0.0.5')],
      }),
    ).toBe('10.0.0.5');
  });

  it('falls back to loopback', () => {
    expect(detectAddress({ lo: [v4('127.0.0.1', true)], docker0: [v4('172.17.0.1')] })).toBe('127.0.0.1');
  });
});

describe('platformLabels', () => {
  it('names the platform as the kubelet does, in both label forms', () => {
    expect(platformLabels('x64')).toEqual({
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
    });
    expect(platformLabels('arm64')['kubernetes.io/arch']).toBe('arm64');
    expect(platformLabels('ppc64')['kubernetes.io/arch']).toBe('ppc64le');
  });
});
