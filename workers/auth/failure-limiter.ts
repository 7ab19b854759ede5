/**
 * Counts failed authentications (a token that did not authenticate) per client address in a
 * sliding window. An address over the limit has its failing attempts answered 429 until they
 * age out of the window; its valid tokens are never refused (see authenticate.ts): one address
 * is often many clients (a proxy, a NAT, a node and its containers). Tokens carry 192 random
 * bits, so guessing is hopeless either way; the limit tells a client that keeps failing (a
 * stale CI secret, a scanner) to back off. Per process/isolate by design: it is not a quota.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly limit = 20,
    private readonly windowMs = 60_000,
  ) {}

  /** Seconds until this address may try again, or 0 when it may try now. */
  retryAfter(address: string, now: number): number {
    const list = this.prune(address, now);
    if (list.length < this.limit) return 0;
    return Math.max(1, Math.ceil((list[0]! + this.windowMs - now) / 1000));
  }

  recordFailure(address: string, now: number): void {
    const list = this.prune(address, now);
    list.push(now);
    this.failures.set(address, list);
    if (this.failures.size > 10_000) this.sweep(now);
  }

  private prune(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.failures.set(address, list);
    else this.failures.delete(address);
    return list;
  }

  private sweep(now: number): void {
    for (const key of [...this.failures.keys()]) this.prune(key, now);
  }
}
