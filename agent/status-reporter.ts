import type { ReplicaStatus, StatusReport } from '../common/agent-protocol.ts';
import { errorMessage, type Logger } from './log.ts';
import { diffStatuses, isEmptyDiff } from './status-diff.ts';

export interface ReporterOptions {
  build: () => StatusReport;
  send: (report: StatusReport) => Promise<void>;
  log: Logger;
  /** Report at least this often even without change (heartbeat). */
  heartbeatMs?: number;
  /** Changes are sent at most this often, so a burst of them goes as one report. */
  batchMs?: number;
  /** Urgent changes (a replica became ready: it drives rollouts) wait at most this long. */
  urgentBatchMs?: number;
}

/**
 * Sends the observed state: soon after a change (a first change goes out within a few ms, later
 * ones are batched: at most every batchMs, or urgentBatchMs when a replica became ready, since
 * readiness gates the next step of a rollout), and as a heartbeat otherwise. One request at a time;
 * a failed send is retried with backoff and never loses the change.
 */
export class StatusReporter {
  private lastSent: ReplicaStatus[] | undefined;
  private lastSentAt = 0;
  private dirty = false;
  private urgent = false;
  private forced = false;
  private inflight = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = true;
  private readonly heartbeatMs: number;
  private readonly batchMs: number;
  private readonly urgentBatchMs: number;

  constructor(private readonly opts: ReporterOptions) {
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.batchMs = opts.batchMs ?? 200;
    this.urgentBatchMs = opts.urgentBatchMs ?? 30;
  }

  start(): void {
    this.stopped = false;
    this.dirty = true;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Send a full report soon even if nothing changed (after re-registering or an outage). */
  sendSoon(): void {
    if (this.stopped) return;
    this.forced = true;
    this.failures = 0;
    this.markDirty(true);
    this.dirty = true;
    this.arm();
  }

  markDirty(urgent = false): void {
    if (this.stopped || (this.dirty && (this.urgent || !urgent))) return;
    this.dirty = true;
    this.urgent ||= urgent;
    this.arm();
  }

  private arm(): void {
    if (this.stopped || this.inflight) return;
    const now = Date.now();
    let at = this.lastSentAt + this.heartbeatMs;
    if (this.dirty)
      at = Math.min(
        at,
        Math.max(now + 5, this.lastSentAt + (this.urgent ? this.urgentBatchMs : this.batchMs)),
      );
    if (this.failures > 0) at = Math.max(at, this.lastSentAt + Math.min(10_000, 500 * 2 ** this.failures));
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.fire(), Math.max(0, at - now));
    this.timer.unref();
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const report = this.opts.build();
    const diff = this.lastSent ? diffStatuses(this.lastSent, report.replicas) : undefined;
    const heartbeatDue = Date.now() >= this.lastSentAt + this.heartbeatMs;
    this.dirty = false;
    this.urgent = false;
    const forced = this.forced;
    this.forced = false;
    if (diff && isEmptyDiff(diff) && !heartbeatDue && !forced && this.failures === 0) return this.arm();
    this.inflight = true;
    const t0 = performance.now();
    try {
      await this.opts.send(report);
      this.failures = 0;
      this.lastSent = report.replicas;
      if (diff && !isEmptyDiff(diff)) {
        this.opts.log.debug('status sent', {
          replicas: report.replicas.length,
          changed: diff.changed.length,
          removed: diff.removed.length,
          ready: report.replicas.filter((r) => r.ready).length,
          ms: Math.round(performance.now() - t0),
        });
      }
    } catch (e) {
      this.failures++;
      this.dirty = true;
      if (this.failures === 1 || this.failures % 10 === 0)
        this.opts.log.warn('status report failed', { error: errorMessage(e), failures: this.failures });
    } finally {
      this.lastSentAt = Date.now();
      this.inflight = false;
    }
    this.arm();
  }
}
