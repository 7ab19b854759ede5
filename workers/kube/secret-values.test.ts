import { describe, expect, it } from 'vitest';
import { LAST_APPLIED_ANNOTATION, REDACTED_VALUE, withoutAppliedValues } from '../kinds/secret.ts';
import { fillKeptValues, KEPT, keptValues, withKeptValues } from './secret-values.ts';

describe("a Secret's values through the Kubernetes face", () => {
  it('redacts the values of the last-applied annotation, keeping keys, idempotently', () => {
    const manifest = { apiVersion: 'v1', data: { a: 'eA==' }, kind: 'Secret', stringData: { b: 'y' } };
    const once = withoutAppliedValues({
      other: 'x',
      [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(manifest)}\n`,
    });
    expect(once.other).toBe('x');
    expect(JSON.parse(once[LAST_APPLIED_ANNOTATION] ?? '')).toEqual({
      ...manifest,
      data: { a: REDACTED_VALUE },
      stringData: { b: REDACTED_VALUE },
    });
    expect(once[LAST_APPLIED_ANNOTATION]?.endsWith('\n')).toBe(true);
    expect(withoutAppliedValues(once)).toEqual(once);
    // Not a JSON object: it cannot be told safe, so it is not kept.
    expect(withoutAppliedValues({ [LAST_APPLIED_ANNOTATION]: 'data: {a: secret}' })).toEqual({});
    expect(withoutAppliedValues({ [LAST_APPLIED_ANNOTATION]: '"s3cret"' })).toEqual({});
  });

  it('keeps stored values for the keys that stand for them, or all when none are named', () => {
    const shown = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', uid: 'u', resourceVersion: '1', creationTimestamp: '' },
    };
    expect(withKeptValues(shown, ['a', 'b']).data).toEqual({ a: KEPT, b: KEPT });
    const doc: Record<string, unknown> = {
      metadata: { name: 's', annotations: { 'berth.dev/keys': 'a,b' } },
      data: { a: KEPT, c: 'Yw==' },
    };
    const kept = keptValues(doc);
    expect(kept).toEqual(['a']);
    expect(doc.metadata).toEqual({ name: 's' });
    fillKeptValues(doc, kept, { a: 'é', b: 'two' });
    expect(doc.data).toEqual({ a: 'w6k=', c: 'Yw==' });

    const bare: Record<string, unknown> = { metadata: { name: 's' } };
    expect(keptValues(bare)).toBe('all');
    fillKeptValues(bare, 'all', { a: 'x' });
    expect(bare.data).toEqual({ a: 'eA==' });
    expect(keptValues({ stringData: { a: 'x' } })).toEqual([]);
    // A kept key no longer stored is left out rather than written as the marker.
    const gone: Record<string, unknown> = { data: { z: KEPT } };
    fillKeptValues(gone, ['z'], {});
    expect(gone.data).toEqual({});
  });
});
