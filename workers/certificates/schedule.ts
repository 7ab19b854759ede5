/**
 * When a host's certificate is ordered, renewed or retried: pure, over plain data and a clock.
 *
 *   Pending ──order──► Ordering ──issued──► Ready ──⅓ of its lifetime left──► RenewalDue
 *      ▲                  │  ▲                ▲                                  │
 *      │              failed  └────────────── │ ◄──────────── issued ─── Renewing ◄┘
 *      │                  ▼                   │                              │ failed
 *   (backoff)◄─────── Failed              RenewalFailing ◄───────────────────┘
 *                                  (the old certificate is still served; retried with backoff)
 *
 * A certificate past its notAfter is Expired until a renewal lands.
 */
export type CertificateStatus =
  | 'Pending'
  | 'Ordering'
  | 'Failed'
  | 'Ready'
  | 'RenewalDue'
  | 'Renewing'
  | 'RenewalFailing'
  | 'Expired';

/** What the state is derived from: a certificates row, as plain data. */
export interface CertificateFacts {
  notBefore: Date | null;
  notAfter: Date | null;
  failures: number;
  nextAttemptAt: Date;
  leaseUntil: Date | null;
}

/** Renew with a third of the lifetime left (90-day certificates: 30 days before they expire). */
export function renewAt(notBefore: Date, notAfter: Date): Date {
  const life = notAfter.getTime() - notBefore.getTime();
  return new Date(notAfter.getTime() - Math.floor(life / 3));
}

/** The first retry after a failure waits this long, and each further one twice as long. */
export const RETRY_BASE_MS = 15_000;
/** Never longer between tries. */
export const RETRY_MAX_MS = 6 * 3600_000;
/**
 * Let's Encrypt refuses a host's sixth failed validation within an hour. Doubling from 15 s puts
 * five failures in under 4 minutes, so from the fifth failure in a row on, the wait is at least an
 * hour: any six failures in a row then span an hour or more (the fifth-to-sixth wait alone does),
 * and no run of retries ever meets that limit. The first four stay quick for a host whose DNS or
 * route was just being set up.
 */
export const FAILURES_PER_HOUR = 5;
const HOUR_MS = 3600_000;

/**
 * How long to wait after the `failures`-th failure in a row: doubling from RETRY_BASE_MS up to
 * RETRY_MAX_MS, and never past the renewal's own deadline: a certificate about to expire is
 * retried before it does (but not sooner than RETRY_BASE_MS, which would hammer the CA). The
 * hourly floor (FAILURES_PER_HOUR) wins over that deadline: a sooner try would be refused anyway.
 */
export function retryDelayMs(failures: number, untilExpiryMs = Number.POSITIVE_INFINITY): number {
  const n = Math.max(1, Math.min(failures, 32));
  const doubling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (n - 1));
  const delay = Math.max(RETRY_BASE_MS, Math.min(doubling, Math.floor(untilExpiryMs / 2)));
  return n >= FAILURES_PER_HOUR ? Math.max(delay, HOUR_MS) : delay;
}

export function certificateStatus(c: CertificateFacts, now: Date): CertificateStatus {
  const t = now.getTime();
  const leased = c.leaseUntil !== null && c.leaseUntil.getTime() > t;
  if (!c.notAfter || !c.notBefore) {
    if (leased) return 'Ordering';
    return c.failures > 0 ? 'Failed' : 'Pending';
  }
  if (leased) return 'Renewing';
  if (c.notAfter.getTime() <= t) return 'Expired';
  if (c.failures > 0) return 'RenewalFailing';
  return t >= renewAt(c.notBefore, c.notAfter).getTime() ? 'RenewalDue' : 'Ready';
}

/** When to order next once a certificate valid over [notBefore, notAfter] is stored. */
export function nextAttemptAfterIssue(notBefore: Date, notAfter: Date): Date {
  return renewAt(notBefore, notAfter);
}

/**
 * When to try again after a failure, given the certificate still served (if any) and the CA's
 * Retry-After, if it sent one (RFC 8555 §6.6: rate limited, or unavailable): never before it.
 */
export function nextAttemptAfterFailure(
  failures: number,
  now: Date,
  notAfter: Date | null,
  retryAfter?: Date,
): Date {
  const left = notAfter ? notAfter.getTime() - now.getTime() : Number.POSITIVE_INFINITY;
  const backoff = now.getTime() + retryDelayMs(failures, left > 0 ? left : Number.POSITIVE_INFINITY);
  return new Date(Math.max(backoff, retryAfter?.getTime() ?? 0));
}

/**
 * When a Retry-After header (RFC 9110 §10.2.3: seconds, or an HTTP date) allows the next request;
 * undefined when it is absent, unreadable or already past.
 */
export function parseRetryAfter(value: string, now: Date): Date | undefined {
  const text = value.trim();
  const at = /^\d+$/.test(text) ? new Date(now.getTime() + Number(text) * 1000) : new Date(text);
  return Number.isFinite(at.getTime()) && at > now ? at : undefined;
}
