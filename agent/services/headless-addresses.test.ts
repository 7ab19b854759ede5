import { describe, expect, it } from 'vitest';
import { HeadlessAddresses } from './headless-addresses.ts';

describe('HeadlessAddresses', () => {
  it('gives each endpoint an address of the block and keeps it while the endpoint stays', () => {
    const h = new HeadlessAddresses('10.250.0.0/16');
    const first = h.assign(['a', 'b']);
    expect([...first.values()]).toEqual(['10.250.0.1', '10.250.0.2']);
    const second = h.assign(['b', 'c']);
    expect(second.get('b')).toBe('10.250.0.2');
    expect(second.get('c')).toBe('10.250.0.3');
    expect(second.has('a')).toBe(false);
  });

  it('reuses a freed address last, and gives none once the block is full', () => {
    const h = new HeadlessAddresses('10.0.0.0/30'); // two usable addresses
    h.assign(['a', 'b']);
    expect(h.assign(['b', 'c']).get('c')).toBe('10.0.0.1');
    const full = h.assign(['b', 'c', 'd']);
    expect(full.has('d')).toBe(false);
  });

  it('refuses a block that is not IPv4', () => {
    expect(() => new HeadlessAddresses('fd00::/64')).toThrow(/IPv4/);
  });
});
