import { describe, expect, it } from 'vitest';
import { logOptionsOf, logRequestId, logSince } from './log-options.ts';

describe('log read options', () => {
  it('ride in the request id and come back as the agent request fields', () => {
    expect(logRequestId('abc', {})).toBe('log_abc');
    expect(logOptionsOf('log_abc')).toEqual({});
    const id = logRequestId('abc', {
      container: 'side-car',
      since: '1767225600.500000000',
      timestamps: true,
    });
    expect(id.length).toBeLessThanOrEqual(128);
    expect(logOptionsOf(id)).toEqual({
      container: 'side-car',
      since: '1767225600.500000000',
      timestamps: true,
    });
    expect(logOptionsOf(logRequestId('abc', { container: 'web' }))).toEqual({ container: 'web' });
    // The longest container name and stamp still fit an answer's id.
    expect(
      logRequestId('x'.repeat(12), {
        container: 'c'.repeat(63),
        since: `${'9'.repeat(11)}.${'9'.repeat(9)}`,
        timestamps: true,
      }).length,
    ).toBeLessThanOrEqual(128);
  });

  it('turn RFC 3339 instants into the engine seconds, to the nanosecond', () => {
    expect(logSince('2026-01-01T00:00:00Z')).toBe('1767225600.000000000');
    expect(logSince('2026-01-01T00:00:00.123456789Z')).toBe('1767225600.123456789');
    expect(logSince('2026-01-01T01:00:00.5+01:00')).toBe('1767225600.500000000');
    expect(logSince('soon')).toBeUndefined();
  });
});
