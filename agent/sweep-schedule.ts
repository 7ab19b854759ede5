/**
 * Runs a cleanup soon after something asks for it, yet at most once per `minIntervalMs` and never
 * two at once, so its cost stays bounded however often containers come and go.
 *
 *   idle ──request──▶ scheduled ──timer──▶ running ──done──▶ idle
 *                        ▲                   │ request
 *                        └──────done──── running, again
 */
type SweepState =
  | { kind: 'idle' }
  | { kind: 'scheduled'; timer: NodeJS.Timeout }
  | { kind: 'running'; again: boolean }
  | { kind: 'stopped' };

export interface SweepTiming {
  /** From the first request to the run: lets a burst of removals settle into one sweep. */
  delayMs: number;
  /** Between the starts of two runs. */
  minIntervalMs: number;
}

export class SweepSchedule {
  private state: SweepState = { kind: 'idle' };
  private lastRunAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly timing: SweepTiming,
    private readonly now: () => number = Date.now,
  ) {}

  request(): void {
    if (this.state.kind === 'idle') this.schedule();
    else if (this.state.kind === 'running') this.state.again = true;
  }

  /** No run starts after this; one already running finishes. */
  stop(): void {
    if (this.state.kind === 'scheduled') clearTimeout(this.state.timer);
    this.state = { kind: 'stopped' };
  }

  private schedule(): void {
    const now = this.now();
    const at = Math.max(now + this.timing.delayMs, this.lastRunAt + this.timing.minIntervalMs);
    const timer = setTimeout(() => void this.run(), at - now);
    // A pending cleanup never keeps the process alive.
    timer.unref();
    this.state = { kind: 'scheduled', timer };
  }

  private async run(): Promise<void> {
    if (this.state.kind !== 'scheduled') return;
    this.state = { kind: 'running', again: false };
    this.lastRunAt = this.now();
    try {
      await this.task();
    } catch {
      // The task reports its own failures; the next request tries again.
    }
    const state = this.state as SweepState;
    if (state.kind !== 'running') return;
    if (state.again) this.schedule();
    else this.state = { kind: 'idle' };
  }
}
