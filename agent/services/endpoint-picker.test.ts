import { describe, expect, it } from 'vitest';
import { EndpointPicker, SUSPECT_MS, type Target } from './endpoint-picker.ts';

const targets: Target[] = ['a', 'b', 'c'].map((key, i) => ({ key, host: '192.0.2.1', port: 30000 + i }));
const first = (p: EndpointPicker, client = '10.0.0.1', affinity?: number) =>
  p.order(targets, client, affinity)[0]?.key;

describe('EndpointPicker', () => {
  it('takes the endpoints in turn, and offers the others after the chosen one', () => {
    const p = new EndpointPicker(() => 0);
    expect([first(p), first(p), first(p), first(p)]).toEqual(['a', 'b', 'c', 'a']);
    expect(p.order(targets, 'x').map((t) => t.key)).toEqual(['b', 'c', 'a']);
  });

  it('passes over an endpoint that refused for a while, trying it last, then takes it again', () => {
    let now = 1000;
    const p = new EndpointPicker(() => now);
    p.refused('b');
    const seen = new Set([first(p), first(p), first(p), first(p)]);
    expect(seen).toEqual(new Set(['a', 'c']));
    expect(p.order(targets, 'x').at(-1)?.key).toBe('b');
    now += SUSPECT_MS + 1;
    expect(new Set([first(p), first(p), first(p)])).toEqual(new Set(['a', 'b', 'c']));
  });

  it('keeps a client on its endpoint with ClientIP affinity until it has been away that long', () => {
    let now = 0;
    const p = new EndpointPicker(() => now);
    const chosen = first(p, '10.0.0.7', 60)!;
    p.connected(chosen, '10.0.0.7', 60);
    for (let i = 0; i < 5; i++) expect(first(p, '10.0.0.7', 60)).toBe(chosen);
    // Another client is balanced as usual.
    expect(new Set([first(p, '10.0.0.8', 60), first(p, '10.0.0.8', 60), first(p, '10.0.0.8', 60)]).size).toBe(
      3,
    );
    now += 61_000;
    expect(new Set([first(p, '10.0.0.7', 60), first(p, '10.0.0.7', 60), first(p, '10.0.0.7', 60)]).size).toBe(
      3,
    );
  });

  it('moves a sticky client off an endpoint that refused', () => {
    const p = new EndpointPicker(() => 0);
    p.connected('a', '10.0.0.7', 60);
    p.refused('a');
    expect(first(p, '10.0.0.7', 60)).not.toBe('a');
  });

  it('offers nothing when there is no endpoint', () => {
    expect(new EndpointPicker().order([], 'x')).toEqual([]);
  });
});
