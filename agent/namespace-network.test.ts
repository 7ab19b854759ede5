import { describe, expect, it } from 'vitest';
import { BRIDGE_PREFIX, bridgeName, namespaceNetwork } from './namespace-network.ts';

const ENGINE = 'ABCD:EFGH:IJKL';

describe('namespaceNetwork', () => {
  it('names the network after the namespace', () => {
    expect(namespaceNetwork('shop')).toEqual({ namespace: 'shop', name: 'berth-ns-shop' });
  });
});

describe('bridgeName', () => {
  it('is derived, so every agent of an engine agrees on it', () => {
    // sha256("ABCD:EFGH:IJKL\nshop"), first 12 hex digits.
    expect(bridgeName(ENGINE, 'shop')).toBe('bth130cb8a2454b');
    expect(bridgeName(ENGINE, 'shop')).toBe(bridgeName(ENGINE, 'shop'));
  });

  it('fits any namespace name into a Linux interface name (15 characters) matched by bth+', () => {
    for (const ns of ['a', 'default', 'x'.repeat(63), `team-${'9'.repeat(58)}`]) {
      const bridge = bridgeName(ENGINE, ns);
      expect(bridge).toMatch(/^bth[0-9a-f]{12}$/);
      expect(bridge.length).toBeLessThanOrEqual(15);
      expect(bridge.startsWith(BRIDGE_PREFIX)).toBe(true);
    }
  });

  it('differs between namespaces, even ones sharing a long prefix, and between engines on one machine', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `${'n'.repeat(50)}-${i}`);
    expect(new Set(names.map((n) => bridgeName(ENGINE, n))).size).toBe(names.length);
    expect(bridgeName('another-engine', 'default')).not.toBe(bridgeName(ENGINE, 'default'));
    // Engines sharing /etc/docker share an ID; their data roots tell them apart.
    expect(bridgeName(`${ENGINE}\n/tmp/engine-2`, 'default')).not.toBe(
      bridgeName(`${ENGINE}\n/var/lib/docker`, 'default'),
    );
  });
});
