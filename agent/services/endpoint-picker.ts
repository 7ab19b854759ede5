/**
 * Which endpoint a new connection to a service goes to: round robin over the ready endpoints,
 * sticky per client address when the service asks for ClientIP affinity, and passing over for a
 * moment an endpoint that just refused or timed out (a replica going away, before the map says
 * so). Pure apart from the clock, which is given.
 */

export interface Target {
  /** The replica: what affinity and suspicion remember. */
  key: string;
  host: string;
  port: number;
}

/** How long an endpoint that refused is tried only after the others. */
export const SUSPECT_MS = 2_000;

export class EndpointPicker {
  private turn = 0;
  private readonly suspects = new Map<string, number>();
  private readonly sticky = new Map<string, { key: string; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The endpoints in the order a connection tries them: the client's sticky endpoint first, else
   * the next in turn; suspects last (better a refused endpoint tried again than no answer).
   */
  order(targets: readonly Target[], client: string, affinitySeconds?: number): Target[] {
    if (targets.length === 0) return [];
    const now = this.now();
    const healthy: Target[] = [];
    const suspect: Target[] = [];
    for (const t of targets) {
      const until = this.suspects.get(t.key);
      if (until !== undefined && until <= now) this.suspects.delete(t.key);
      (until !== undefined && until > now ? suspect : healthy).push(t);
    }
    if (affinitySeconds) {
      const held = this.sticky.get(client);
      if (held && held.until > now) {
        const i = healthy.findIndex((t) => t.key === held.key);
        if (i >= 0) return [healthy[i]!, ...healthy.filter((_, j) => j !== i), ...suspect];
      }
    }
    const start = this.turn++ % Math.max(1, healthy.length);
    if (this.turn > 1e9) this.turn = 0;
    return [...healthy.slice(start), ...healthy.slice(0, start), ...suspect];
  }

  /** The endpoint refused or did not answer in time. */
  refused(key: string): void {
    this.suspects.set(key, this.now() + SUSPECT_MS);
  }

  /** A connection was made: the endpoint is fine, and with affinity the client stays on it. */
  connected(key: string, client: string, affinitySeconds?: number): void {
    this.suspects.delete(key);
    if (!affinitySeconds) return;
    const now = this.now();
    this.sticky.set(client, { key, until: now + affinitySeconds * 1000 });
    // Bounded: forget expired clients now and then.
    if (this.sticky.size > 4096) for (const [c, s] of this.sticky) if (s.until <= now) this.sticky.delete(c);
  }
}
