import { describe, expect, it } from 'vitest';
import { BRIDGE_PREFIX, namespaceNetwork } from './namespace-network.ts';

describe('namespaceNetwork', () => {
  it('names the network after the namespace and the bridge after a hash of it', () => {
    expect(namespaceNetwork('shop')).toEqual({
      namespace: 'shop',
      name: 'berth-ns-shop',
      // sha256("shop"), first 12 hex digits: every agent on every engine derives the same.
      bridge: 'bth8d9001d32c6a',
    });
  });

  it('fits any namespace name into a Linux interface name (15 characters) matched by bth+', () => {
    for (const ns of ['a', 'default', 'x'.repeat(63), `team-${'9'.repeat(58)}`]) {
      const { bridge } = namespaceNetwork(ns);
      expect(bridge).toMatch(/^bth[0-9a-f]{12}$/);
      expect(bridge.length).toBeLessThanOrEqual(15);
      expect(bridge.startsWith(BRIDGE_PREFIX)).toBe(true);
    }
  });

  it('gives different namespaces different bridges, including names that share a long prefix', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `${'n'.repeat(50)}-${i}`);
    const bridges = new Set(names.map((n) => namespaceNetwork(n).bridge));
    expect(bridges.size).toBe(names.length);
  });
});
