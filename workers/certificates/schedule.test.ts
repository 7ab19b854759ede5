import { describe, expect, it } from 'vitest';
import {
  certificateStatus,
  FAILURES_PER_HOUR,
  nextAttemptAfterFailure,
  parseRetryAfter,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  renewAt,
  retryDelayMs,
} from './schedule.ts';

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;

describe('renewal schedule', () => {
  it('renews with a third of the lifetime left', () => {
    expect(renewAt(at('2026-01-01T00:00:00Z'), at('2026-04-01T00:00:00Z')).toISOString()).toBe(
      '2026-03-02T00:00:00.000Z',
    );
    // A 30-second certificate: renewed at 20 s.
    expect(renewAt(new Date(0), new Date(30_000)).getTime()).toBe(20_000);
  });

  it('backs off doubling from the base to the cap, never hammering the CA', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n))).toEqual([
      RETRY_BASE_MS,
      2 * RETRY_BASE_MS,
      4 * RETRY_BASE_MS,
      8 * RETRY_BASE_MS,
    ]);
    expect(retryDelayMs(40)).toBe(RETRY_MAX_MS);
    expect(retryDelayMs(0)).toBe(RETRY_BASE_MS);
  });

  it('retries a renewal before the certificate in use expires, at half the time left', () => {
    const now = at('2026-01-01T00:00:00Z');
    const expires = new Date(now.getTime() + 2 * 3600_000);
    expect(nextAttemptAfterFailure(20, now, expires).getTime() - now.getTime()).toBe(3600_000);
    // Almost expired: still no sooner than the base.
    expect(nextAttemptAfterFailure(3, now, new Date(now.getTime() + 1000)).getTime() - now.getTime()).toBe(
      RETRY_BASE_MS,
    );
  });

  it("never lets a host fail validation more than five times an hour (Let's Encrypt's limit)", () => {
    const HOUR = 3600_000;
    // Failures back to back (orders taking no time at all): every run of six spans an hour.
    const times = [0];
    for (let n = 1; n < 40; n++) times.push(times[n - 1]! + retryDelayMs(n));
    for (let i = 0; i + FAILURES_PER_HOUR < times.length; i++)
      expect(times[i + FAILURES_PER_HOUR]! - times[i]!).toBeGreaterThanOrEqual(HOUR);
    // The first retries stay quick.
    expect(retryDelayMs(1)).toBe(15_000);
    expect(retryDelayMs(FAILURES_PER_HOUR - 1)).toBeLessThan(HOUR);
    // Even a certificate about to expire waits the hour: the CA would refuse a sooner try.
    const now = at('2026-01-01T00:00:00Z');
    expect(
      nextAttemptAfterFailure(FAILURES_PER_HOUR, now, new Date(now.getTime() + 60_000)).getTime() -
        now.getTime(),
    ).toBe(HOUR);
  });

  it("waits at least as long as the CA's Retry-After, and no longer than the backoff when that is later", () => {
    const now = at('2026-01-01T00:00:00Z');
    const later = new Date(now.getTime() + 600_000);
    expect(nextAttemptAfterFailure(1, now, null, later)).toEqual(later);
    // A Retry-After sooner than the backoff changes nothing.
    expect(
      nextAttemptAfterFailure(3, now, null, new Date(now.getTime() + 1000)).getTime() - now.getTime(),
    ).toBe(4 * RETRY_BASE_MS);
    // It wins over a renewal's deadline too: asking sooner would only be refused.
    const expiring = new Date(now.getTime() + 120_000);
    expect(nextAttemptAfterFailure(1, now, expiring, later)).toEqual(later);
  });

  it('names each state of the lifecycle', () => {
    const now = at('2026-02-01T00:00:00Z');
    const issued = { notBefore: at('2026-01-01T00:00:00Z'), notAfter: at('2026-04-01T00:00:00Z') };
    const base = { failures: 0, nextAttemptAt: now, leaseUntil: null };
    const none = { notBefore: null, notAfter: null };
    const leased = { leaseUntil: new Date(now.getTime() + 60_000) };
    const table: [Parameters<typeof certificateStatus>[0], Date, string][] = [
      [{ ...base, ...none }, now, 'Pending'],
      [{ ...base, ...none, ...leased }, now, 'Ordering'],
      [{ ...base, ...none, failures: 1 }, now, 'Failed'],
      [{ ...base, ...issued }, now, 'Ready'],
      [{ ...base, ...issued }, at('2026-03-15T00:00:00Z'), 'RenewalDue'],
      [{ ...base, ...issued, ...leased }, now, 'Renewing'],
      [{ ...base, ...issued, failures: 2 }, now, 'RenewalFailing'],
      [{ ...base, ...issued, failures: 2 }, new Date(issued.notAfter.getTime() + DAY), 'Expired'],
      // An expired lease is no order in progress.
      [{ ...base, ...none, leaseUntil: new Date(now.getTime() - 1) }, now, 'Pending'],
    ];
    for (const [facts, when, want] of table) expect(certificateStatus(facts, when)).toBe(want);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores what is past or unreadable', () => {
    const now = at('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toEqual(at('2026-01-01T00:02:00Z'));
    expect(parseRetryAfter(' 5 ', now)).toEqual(at('2026-01-01T00:00:05Z'));
    expect(parseRetryAfter('Thu, 01 Jan 2026 01:00:00 GMT', now)).toEqual(at('2026-01-01T01:00:00Z'));
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('0', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
