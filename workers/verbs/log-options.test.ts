import { describe, expect, it } from 'vitest';
import { logRequestOptions, logSince } from './log-options.ts';

describe('log read options', () => {
  it('keep only what is asked, as the agent request fields', () => {
    expect(logRequestOptions({})).toEqual({});
    expect(logRequestOptions({ container: undefined, since: undefined, timestamps: false })).toEqual({});
    expect(
      logRequestOptions({ container: 'side-car', since: '1767225600.500000000', timestamps: true }),
    ).toEqual({ container: 'side-car', since: '1767225600.500000000', timestamps: true });
  });

  it('turn RFC 3339 instants into the engine seconds, to the nanosecond', () => {
    expect(logSince('2026-01-01T00:00:00Z')).toBe('1767225600.000000000');
    expect(logSince('2026-01-01T00:00:00.123456789Z')).toBe('1767225600.123456789');
    expect(logSince('2026-01-01T01:00:00.5+01:00')).toBe('1767225600.500000000');
    expect(logSince('soon')).toBeUndefined();
  });
});
