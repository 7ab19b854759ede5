import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBase64Text, encodeBase64Text, isBase64 } from './base64.ts';

describe('base64 as Kubernetes reads it', () => {
  it('decodes what Go encodes, padded, across line breaks', () => {
    expect(decodeBase64Text('aGVsbG8=')).toBe('hello');
    expect(decodeBase64Text('aGVsbG8gd29ybGQ=')).toBe('hello world');
    expect(decodeBase64Text('YWI=')).toBe('ab');
    expect(decodeBase64Text('YWJj')).toBe('abc');
    expect(decodeBase64Text('')).toBe('');
    expect(decodeBase64Text('aGVs\nbG8=')).toBe('hello');
    expect(decodeBase64Text('w6l0w6k=')).toBe('été');
  });

  it('refuses what Kubernetes refuses: no padding, other alphabets, stray characters', () => {
    for (const bad of ['aGVsbG8', 'a', 'aGVsbG8=x', 'ab-_', 'aGV sbG8=', 'not base64!']) {
      expect(isBase64(bad)).toBe(false);
      expect(decodeBase64(bad)).toBeUndefined();
    }
  });

  it('keeps bytes that are not UTF-8 apart (null): they cannot become a string value', () => {
    expect(decodeBase64Text('/w==')).toBeNull();
    expect([...decodeBase64('/w==')!]).toEqual([255]);
  });

  it('round-trips text through encodeBase64Text', () => {
    for (const text of ['', 'a', 'ab', 'abc', 'abcd', 'été ✓', '{"auths":{}}'])
      expect(decodeBase64Text(encodeBase64Text(text))).toBe(text);
    expect(encodeBase64Text('hello')).toBe('aGVsbG8=');
  });
});
