import type { CronJob, Job } from './types.ts';

/** A Job's state in the words of `kubectl get jobs`' STATUS column. */
export interface JobState {
  key: 'complete' | 'failed' | 'suspended' | 'running';
  label: 'Complete' | 'Failed' | 'Suspended' | 'Running';
  /** Why a Job failed (BackoffLimitExceeded, DeadlineExceeded, ...) and the server's sentence. */
  reason?: string;
  message?: string;
}

/**
 * The rules of the Jobs and CronJobs pages, kept apart from rendering so they are tested as they
 * are: a Job's status, completions and duration as kubectl words them, a CronJob's runs newest
 * first, and the requests behind "Run now" and "Suspend"/"Resume".
 *
 * Self-contained: served to the browser as `${createJobFormat}` and called by the app.
 */
export function createJobFormat() {
  function condition(job: Job, type: string) {
    return (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
  }

  /** Complete and Failed are final; a Job neither finished nor suspended is Running. */
  function jobState(job: Job): JobState {
    if (condition(job, 'Complete')) return { key: 'complete', label: 'Complete' };
    const failed = condition(job, 'Failed');
    if (failed)
      return { key: 'failed', label: 'Failed', reason: failed.reason || undefined, message: failed.message };
    if (condition(job, 'Suspended') || job.spec?.suspend === true)
      return { key: 'suspended', label: 'Suspended' };
    return { key: 'running', label: 'Running' };
  }

  /** `succeeded/completions`; a work queue (no completions) needs one success: `n/1`, `n/1 of p`. */
  function completionsText(job: Job): string {
    const done = job.status?.succeeded ?? 0;
    const want = job.spec?.completions;
    if (typeof want === 'number') return `${done}/${want}`;
    const p = job.spec?.parallelism ?? 1;
    return p > 1 ? `${done}/1 of ${p}` : `${done}/1`;
  }

  /** kubectl's human duration: 45s, 3m12s, 25m, 2h5m, 30h, 3d4h, 20d, 2y. */
  function humanDuration(ms: number): string {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 120) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
    if (m < 180) return `${m}m`;
    const h = Math.floor(m / 60);
    if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
    if (h < 48) return `${h}h`;
    const d = Math.floor(h / 24);
    if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
    if (d < 365 * 2) return `${d}d`;
    return `${Math.floor(d / 365)}y`;
  }

  /** From its start to its completion, or to now while it runs; none before it starts. */
  function duration(job: Job, now: number): string | undefined {
    const start = Date.parse(job.status?.startTime ?? '');
    if (Number.isNaN(start)) return undefined;
    const end = Date.parse(job.status?.completionTime ?? '');
    return humanDuration((Number.isNaN(end) ? now : end) - start);
  }

  /** A CronJob's Jobs, newest first (by creation, then by name, which ends in the run's time). */
  function newestFirst(jobs: Job[]): Job[] {
    const t = (j: Job) => Date.parse(j.metadata?.createdAt ?? '') || 0;
    return [...jobs].sort(
      (a, b) => t(b) - t(a) || String(b.metadata?.name ?? '').localeCompare(String(a.metadata?.name ?? '')),
    );
  }

  /**
   * `{name}-manual-{5 random lowercase letters or digits}`, as a hand-started run is named. A name
   * is at most 63 characters: a long CronJob name is cut (and any dash it then ends with) to fit.
   */
  function manualJobName(cronJobName: string, random: () => number = Math.random): string {
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let suffix = '';
    for (let i = 0; i < 5; i++) suffix += chars[Math.floor(random() * chars.length) % chars.length];
    const tail = `-manual-${suffix}`;
    return `${cronJobName.slice(0, 63 - tail.length).replace(/-+$/, '')}${tail}`;
  }

  /**
   * The Job a hand-started run creates, as `kubectl create job --from=cronjob/NAME` does: the
   * template's labels plus the CronJob's label (so it is listed among its runs), the annotation
   * that marks it manual, and the template's spec as it is (the server keeps no selector in it).
   */
  function manualJob(cj: CronJob): { metadata: object; spec: unknown } {
    const template = cj.spec?.jobTemplate;
    const spec = template?.spec ?? {};
    return {
      metadata: {
        labels: { ...(template?.metadata?.labels ?? {}), 'berth.dev/cronjob': cj.metadata?.name ?? '' },
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
      },
      spec,
    };
  }

  /**
   * The CronJob as read with `spec.suspend` set, sent with its resourceVersion (a change meanwhile
   * is a 409). apiVersion and kind go back as the server sent them: it accepts its own.
   */
  function suspended(cj: CronJob, suspend: boolean): object {
    const meta = cj.metadata ?? {};
    return {
      ...(cj.apiVersion ? { apiVersion: cj.apiVersion } : {}),
      ...(cj.kind ? { kind: cj.kind } : {}),
      metadata: {
        name: meta.name,
        ...(meta.labels ? { labels: meta.labels } : {}),
        ...(meta.annotations ? { annotations: meta.annotations } : {}),
        resourceVersion: meta.resourceVersion,
      },
      spec: { ...cj.spec, suspend },
    };
  }

  return {
    jobState,
    completionsText,
    humanDuration,
    duration,
    newestFirst,
    manualJobName,
    manualJob,
    suspended,
  };
}

export type JobFormat = ReturnType<typeof createJobFormat>;
