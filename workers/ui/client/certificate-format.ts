import type { Certificate } from './types.ts';

/** How a certificate's status reads at a glance: a badge tone and whether it needs someone. */
export interface CertificateState {
  status: string;
  tone: 'ok' | 'info' | 'bad' | 'neutral';
  /** Work in flight (an order or a renewal): the badge pulses. */
  live: boolean;
  /** Failed, RenewalFailing or Expired: a person should look at the last error. */
  failing: boolean;
}

/**
 * The rules of the Certificates page, kept apart from rendering so they are tested as they are:
 * the status' tone (a failing renewal is bad news even while the old certificate is served), the
 * not-after date with "in N days", when the next order may start, and failing hosts listed first.
 * Status words are the API's own, as `berth get certificates` prints them.
 *
 * Self-contained: served to the browser as `${createCertificateFormat}` and called by the app.
 */
export function createCertificateFormat() {
  const DAY = 86_400_000;

  function certificateState(c: Certificate): CertificateState {
    const status = c.status ?? 'Unknown';
    const failing = status === 'Failed' || status === 'RenewalFailing' || status === 'Expired';
    const tone = failing
      ? 'bad'
      : status === 'Ready'
        ? 'ok'
        : ['Pending', 'Ordering', 'RenewalDue', 'Renewing'].includes(status)
          ? 'info'
          : 'neutral';
    return { status, tone, live: status === 'Ordering' || status === 'Renewing', failing };
  }

  /**
   * The not-after date (UTC, as the certificate states it) and how far away it is in whole days:
   * `in 42 days`, `in less than a day`, `expired 3 days ago`. Undefined before one is issued.
   */
  function expiry(
    notAfter: string | null | undefined,
    now: number,
  ): { date: string; relative: string; expired: boolean } | undefined {
    const t = notAfter ? Date.parse(notAfter) : Number.NaN;
    if (Number.isNaN(t)) return undefined;
    const date = new Date(t).toISOString().slice(0, 10);
    const days = Math.floor(Math.abs(t - now) / DAY);
    const n = `${days} day${days === 1 ? '' : 's'}`;
    if (t <= now) return { date, relative: days ? `expired ${n} ago` : 'expired today', expired: true };
    return { date, relative: days ? `in ${n}` : 'in less than a day', expired: false };
  }

  /** `in 45s`, `in 12m`, `in 5h`, `in 3d`; `due now` once the time has come. */
  function nextAttempt(at: string | null | undefined, now: number): string | undefined {
    const t = at ? Date.parse(at) : Number.NaN;
    if (Number.isNaN(t)) return undefined;
    const s = Math.floor((t - now) / 1000);
    if (s <= 0) return 'due now';
    if (s < 60) return `in ${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `in ${m}m`;
    const h = Math.floor(m / 60);
    return h < 48 ? `in ${h}h` : `in ${Math.floor(h / 24)}d`;
  }

  /** Failing hosts first (they are what the page is opened for), then by host name. */
  function ordered(items: Certificate[]): Certificate[] {
    return [...items].sort((a, b) => {
      const fa = certificateState(a).failing ? 0 : 1;
      const fb = certificateState(b).failing ? 0 : 1;
      return fa - fb || String(a.host).localeCompare(String(b.host));
    });
  }

  return { certificateState, expiry, nextAttempt, ordered };
}

export type CertificateFormat = ReturnType<typeof createCertificateFormat>;
