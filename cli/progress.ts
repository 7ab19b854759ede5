import type { Io } from './io.ts';

/**
 * Rollout progress: on a terminal one line redrawn in place; in CI logs (not a TTY) a plain line
 * each time the message changes, so the log tells the story without thousands of repeats.
 */
export class ProgressLine {
  private last = '';
  private drawn = false;

  constructor(private readonly io: Io) {}

  update(message: string): void {
    if (message === this.last) return;
    this.last = message;
    if (this.io.isTTY) {
      this.io.stdout.write(`\r\x1b[2K${message}`);
      this.drawn = true;
    } else {
      this.io.stdout.write(`${message}\n`);
    }
  }

  /** Ends the redrawn line so what follows starts on a fresh one. */
  done(): void {
    if (this.drawn) this.io.stdout.write('\r\x1b[2K');
    this.drawn = false;
  }
}
