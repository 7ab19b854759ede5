import type { Child, Dom } from './dom.ts';
import type { JobFormat, JobState } from './job-format.ts';
import type { CronJobData, CronJobsData, JobData, JobsData, Route, State } from './state.ts';
import type { CronJob, Job, JobCondition, PodTemplate } from './types.ts';
import type { Views } from './views.ts';

export interface JobKit {
  state: State;
  href(path: string): string;
  canWrite(ns: string): boolean;
}

/** The pieces of the other pages these are built from, so every page looks alike. */
export type JobParts = Pick<
  Views,
  | 'card'
  | 'table'
  | 'pageHead'
  | 'nsPicker'
  | 'problemBox'
  | 'badge'
  | 'liveNote'
  | 'loading'
  | 'time'
  | 'chips'
  | 'button'
  | 'replicasCard'
  | 'logsCard'
  | 'readOnlyNote'
  | 'eventsCard'
>;

/**
 * The Jobs and CronJobs pages: the Jobs of a namespace (status, completions, duration, age), one
 * Job (spec, status counts, conditions, its pods with their containers and logs, finished pods
 * included), the CronJobs of a namespace, and one CronJob with its runs newest first. Writers get
 * Delete on a Job and "Run now" and "Suspend"/"Resume" on a CronJob; the app sends them.
 *
 * Self-contained: served to the browser as `${createJobPages}` and called by the app.
 */
export function createJobPages(dom: Dom, jf: JobFormat, parts: JobParts, kit: JobKit) {
  const { h } = dom;
  const enc = encodeURIComponent;
  const muted = (text: string) => h('span', { class: 'muted' }, text);

  const stateTone: Record<JobState['key'], string> = {
    complete: 'ok',
    failed: 'bad',
    suspended: 'warn',
    running: 'info',
  };

  function stateBadge(s: JobState): HTMLElement {
    return parts.badge(stateTone[s.key], s.label, s.key === 'running' ? 'badge-live' : undefined);
  }

  /** The status badge, with a failed Job's reason beside it. */
  function statusCell(job: Job): Child {
    const s = jf.jobState(job);
    return [
      stateBadge(s),
      s.reason ? h('span', { class: 'muted small', 'data-field': 'reason' }, ` ${s.reason}`) : null,
    ];
  }

  function images(template: PodTemplate | undefined): Child {
    const list = template?.spec?.containers ?? [];
    if (!list.length) return '—';
    return list.map((c) =>
      h(
        'div',
        null,
        h('code', { class: 'image' }, c.image ?? '?'),
        list.length > 1 ? ` (${c.name ?? '?'})` : '',
      ),
    );
  }

  function crumbs(kind: 'jobs' | 'cronjobs', ns: string, name: string): HTMLElement {
    return h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h(
        'ol',
        null,
        h(
          'li',
          null,
          h('a', { href: kit.href(`/${kind}/${enc(ns)}`) }, kind === 'jobs' ? 'Jobs' : 'CronJobs'),
        ),
        h('li', null, h('a', { href: kit.href(`/${kind}/${enc(ns)}`) }, ns)),
        h('li', { 'aria-current': 'page' }, name),
      ),
    );
  }

  const facts = (rows: Child[]) => h('dl', { class: 'facts' }, rows);
  const fact = (k: string, v: Child, field?: string) => [
    h('dt', null, k),
    h('dd', field ? { 'data-field': field } : null, v),
  ];
  const seconds = (n: number | undefined) => (n === undefined ? muted('none') : `${n}s`);

  // ---- Jobs of a namespace ----------------------------------------------------------------

  function jobRow(ns: string, job: Job): HTMLElement {
    const name = job.metadata?.name ?? '?';
    const cron = job.metadata?.labels?.['berth.dev/cronjob'];
    return h(
      'tr',
      { 'data-key': name, 'data-name': name },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: kit.href(`/jobs/${enc(ns)}/${enc(name)}`), class: 'name-link' }, name),
        cron
          ? h(
              'div',
              { class: 'muted small' },
              'from ',
              h('a', { href: kit.href(`/cronjobs/${enc(ns)}/${enc(cron)}`) }, cron),
            )
          : null,
      ),
      h('td', { 'data-field': 'status', 'data-state': jf.jobState(job).key }, statusCell(job)),
      h('td', { class: 'num', 'data-field': 'completions' }, jf.completionsText(job)),
      h('td', { 'data-field': 'duration' }, jf.duration(job, kit.state.now) ?? muted('—')),
      h('td', null, parts.time(job.metadata?.createdAt)),
    );
  }

  function jobs(route: Extract<Route, { view: 'jobs' }>, data: JobsData | undefined): HTMLElement {
    const items = data?.items;
    const running = items?.filter((j) => jf.jobState(j).key === 'running').length ?? 0;
    const failed = items?.filter((j) => jf.jobState(j).key === 'failed').length ?? 0;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      items ? ` · ${items.length} job${items.length === 1 ? '' : 's'}` : '',
      running ? ` · ${running} running` : '',
      failed ? ` · ${failed} failed` : '',
    );
    let body: Child;
    if (data?.error) body = parts.problemBox(data.error, 'Could not load jobs');
    else if (!items) body = parts.loading();
    else
      body = parts.table(
        'page-title',
        ['Name', 'Status', 'Completions', 'Duration', 'Age'],
        jf.newestFirst(items).map((j) => jobRow(route.ns, j)),
        `No jobs in namespace “${route.ns}”. Apply a batch/v1 Job with berth apply -f FILE.`,
        'jobs',
      );
    return h(
      'div',
      null,
      parts.pageHead('Jobs', sub, parts.nsPicker('jobs', route.ns)),
      h('div', { class: 'card card-flush' }, body),
    );
  }

  // ---- one Job ----------------------------------------------------------------------------

  function conditionList(conditions: JobCondition[]): HTMLElement {
    if (!conditions.length) return h('p', { class: 'empty' }, 'No conditions reported yet.');
    return h(
      'ul',
      { class: 'conditions', 'aria-label': 'Conditions' },
      conditions.map((c) =>
        h(
          'li',
          { class: 'condition', 'data-key': c.type ?? '?', 'data-condition': c.type ?? '?' },
          h(
            'div',
            { class: 'condition-head' },
            h('strong', null, c.type ?? '?'),
            // A Failed condition that holds is bad news, whatever its status word.
            parts.badge(
              c.status !== 'True'
                ? 'neutral'
                : c.type === 'Failed'
                  ? 'bad'
                  : c.type === 'Complete'
                    ? 'ok'
                    : 'warn',
              c.status ?? '?',
            ),
            h('span', { class: 'condition-reason' }, c.reason ?? ''),
            h('span', { class: 'condition-time muted small' }, parts.time(c.lastTransitionTime, 'ago')),
          ),
          c.message ? h('p', { class: 'muted small' }, c.message) : null,
        ),
      ),
    );
  }

  function deleteButton(ns: string, name: string): HTMLElement {
    const armed = kit.state.confirmDelete === `job/${ns}/${name}`;
    return parts.button(
      armed ? 'Confirm delete' : 'Delete',
      'delete-job',
      { ns, name },
      {
        tone: 'danger',
        aria: armed ? `Confirm deleting job ${name}` : `Delete job ${name}`,
        pendingKey: `delete-job:${ns}/${name}`,
        pendingLabel: 'Deleting…',
      },
    );
  }

  function job(route: Extract<Route, { view: 'job' }>, data: JobData | undefined): HTMLElement {
    const { ns, name } = route;
    const nav = crumbs('jobs', ns, name);
    const j = data?.job;
    if (!j) {
      return h(
        'div',
        null,
        parts.pageHead(name, data?.errors.job ? null : parts.liveNote(), null, nav),
        data?.errors.job ? parts.problemBox(data.errors.job, 'Could not load this job') : parts.loading(),
      );
    }
    const s = jf.jobState(j);
    const spec = j.spec ?? {};
    const st = j.status ?? {};
    const template = spec.template as PodTemplate | undefined;
    const cron = j.metadata?.labels?.['berth.dev/cronjob'];
    const side = kit.canWrite(ns) ? deleteButton(ns, name) : null;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      ' · ',
      h('span', { 'data-field': 'status', 'data-state': s.key }, stateBadge(s)),
      s.reason ? ` ${s.reason}` : '',
      ` · ${jf.completionsText(j)} completed`,
    );
    const stat = (label: string, value: number | undefined, field: string) =>
      h(
        'div',
        { class: 'stat', 'data-field': field },
        h('span', { class: 'stat-num' }, String(value ?? 0)),
        h('span', { class: 'stat-label' }, label),
      );
    const specCard = parts.card(
      'job-spec-title',
      'Spec',
      facts([
        fact(
          'Completions',
          spec.completions === undefined ? 'any one success (work queue)' : String(spec.completions),
          'spec-completions',
        ),
        fact('Parallelism', String(spec.parallelism ?? 1), 'parallelism'),
        fact('Completion mode', spec.completionMode ?? 'NonIndexed', 'completion-mode'),
        fact('Backoff limit', String(spec.backoffLimit ?? 6), 'backoff-limit'),
        fact('Active deadline', seconds(spec.activeDeadlineSeconds), 'active-deadline'),
        fact('Delete after finished', seconds(spec.ttlSecondsAfterFinished), 'ttl'),
        fact('Suspend', spec.suspend ? 'Yes' : 'No', 'suspend'),
        fact('Restart policy', template?.spec?.restartPolicy ?? '—'),
        fact((template?.spec?.containers ?? []).length > 1 ? 'Images' : 'Image', images(template)),
        cron
          ? fact(
              'Made by',
              h('a', { href: kit.href(`/cronjobs/${enc(ns)}/${enc(cron)}`) }, `cronjob/${cron}`),
            )
          : null,
        fact('Labels', parts.chips(j.metadata?.labels)),
        fact('Created', parts.time(j.metadata?.createdAt, 'ago')),
      ]),
    );
    const statusCard = parts.card('job-status-title', 'Status', [
      h(
        'div',
        { class: 'stats' },
        stat('active', st.active, 'active'),
        stat('ready', st.ready, 'ready'),
        stat('succeeded', st.succeeded, 'succeeded'),
        stat('failed', st.failed, 'failed'),
        (st.terminating ?? 0) > 0 ? stat('terminating', st.terminating, 'terminating') : null,
      ),
      facts([
        fact('Started', st.startTime ? parts.time(st.startTime, 'ago') : muted('not yet')),
        fact('Completed', st.completionTime ? parts.time(st.completionTime, 'ago') : muted('not yet')),
        fact('Duration', jf.duration(j, kit.state.now) ?? muted('—'), 'duration'),
        spec.completionMode === 'Indexed'
          ? fact('Completed indexes', st.completedIndexes || muted('none yet'), 'completed-indexes')
          : null,
      ]),
      s.message ? h('p', { class: 'notice notice-error', 'data-field': 'failure' }, s.message) : null,
    ]);
    return h(
      'div',
      null,
      parts.pageHead(name, sub, side, nav),
      parts.readOnlyNote(ns),
      data.errors.job ? parts.problemBox(data.errors.job, 'Refresh failed') : null,
      h(
        'div',
        { class: 'grid grid-2' },
        specCard,
        h(
          'div',
          { class: 'column' },
          statusCard,
          parts.card('conditions-title', 'Conditions', conditionList(st.conditions ?? [])),
        ),
      ),
      // Every pod runs the Job's one template (a Job's template cannot change).
      parts.replicasCard(ns, data.replicas, data.errors.replicas, () => template, true),
      parts.logsCard(kit.state.logs, data.replicas, () => template),
      parts.eventsCard(data.events, data.errors.events),
    );
  }

  // ---- CronJobs of a namespace ------------------------------------------------------------

  function cronJobRow(ns: string, cj: CronJob): HTMLElement {
    const name = cj.metadata?.name ?? '?';
    const spec = cj.spec ?? {};
    const st = cj.status ?? {};
    return h(
      'tr',
      { 'data-key': name, 'data-name': name },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: kit.href(`/cronjobs/${enc(ns)}/${enc(name)}`), class: 'name-link' }, name),
      ),
      h('td', { 'data-field': 'schedule' }, h('code', null, spec.schedule ?? '?')),
      h('td', { 'data-field': 'time-zone' }, spec.timeZone ?? muted('—')),
      h('td', { 'data-field': 'suspend' }, spec.suspend ? parts.badge('warn', 'Suspended') : 'No'),
      h('td', { class: 'num', 'data-field': 'active' }, String((st.active ?? []).length)),
      h('td', { 'data-field': 'last-schedule' }, parts.time(st.lastScheduleTime, 'ago')),
      h('td', { 'data-field': 'last-success' }, parts.time(st.lastSuccessfulTime, 'ago')),
      h('td', null, parts.time(cj.metadata?.createdAt)),
    );
  }

  function cronJobs(
    route: Extract<Route, { view: 'cronjobs' }>,
    data: CronJobsData | undefined,
  ): HTMLElement {
    const items = data?.items;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      items ? ` · ${items.length} CronJob${items.length === 1 ? '' : 's'}` : '',
    );
    let body: Child;
    if (data?.error) body = parts.problemBox(data.error, 'Could not load CronJobs');
    else if (!items) body = parts.loading();
    else
      body = parts.table(
        'page-title',
        ['Name', 'Schedule', 'Time zone', 'Suspend', 'Active', 'Last schedule', 'Last success', 'Age'],
        [...items]
          .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
          .map((cj) => cronJobRow(route.ns, cj)),
        `No CronJobs in namespace “${route.ns}”. Apply a batch/v1 CronJob with berth apply -f FILE.`,
        'cronjobs',
      );
    return h(
      'div',
      null,
      parts.pageHead('CronJobs', sub, parts.nsPicker('cronjobs', route.ns)),
      h('div', { class: 'card card-flush' }, body),
    );
  }

  // ---- one CronJob ------------------------------------------------------------------------

  function runsCard(ns: string, cj: CronJob, data: CronJobData): HTMLElement {
    const active = new Set((cj.status?.active ?? []).map((a) => a.name));
    let body: Child;
    if (data.errors.jobs) body = parts.problemBox(data.errors.jobs, 'Could not load its jobs');
    else if (!data.jobs) body = parts.loading();
    else
      body = parts.table(
        'runs-title',
        ['Job', 'Status', 'Completions', 'Duration', 'Started by', 'Age'],
        jf.newestFirst(data.jobs).map((j) => {
          const name = j.metadata?.name ?? '?';
          const manual = j.metadata?.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual';
          return h(
            'tr',
            { 'data-key': name, 'data-name': name, class: active.has(name) ? 'current' : null },
            h(
              'th',
              { scope: 'row' },
              h('a', { href: kit.href(`/jobs/${enc(ns)}/${enc(name)}`), class: 'name-link' }, name),
            ),
            h('td', { 'data-field': 'status', 'data-state': jf.jobState(j).key }, statusCell(j)),
            h('td', { class: 'num', 'data-field': 'completions' }, jf.completionsText(j)),
            h('td', { 'data-field': 'duration' }, jf.duration(j, kit.state.now) ?? muted('—')),
            h('td', { 'data-field': 'started-by' }, manual ? 'hand' : 'schedule'),
            h('td', null, parts.time(j.metadata?.createdAt)),
          );
        }),
        'No runs yet: its jobs appear here when the schedule fires or someone runs it now.',
        'runs',
      );
    return parts.card('runs-title', `Last runs${data.jobs ? ` (${data.jobs.length})` : ''}`, body);
  }

  function cronJob(route: Extract<Route, { view: 'cronjob' }>, data: CronJobData | undefined): HTMLElement {
    const { ns, name } = route;
    const nav = crumbs('cronjobs', ns, name);
    const cj = data?.cronJob;
    if (!cj) {
      return h(
        'div',
        null,
        parts.pageHead(name, data?.errors.cronJob ? null : parts.liveNote(), null, nav),
        data?.errors.cronJob
          ? parts.problemBox(data.errors.cronJob, 'Could not load this CronJob')
          : parts.loading(),
      );
    }
    const spec = cj.spec ?? {};
    const st = cj.status ?? {};
    const js = spec.jobTemplate?.spec ?? {};
    const template = js.template as PodTemplate | undefined;
    const suspended = spec.suspend === true;
    const side = kit.canWrite(ns)
      ? [
          parts.button(
            'Run now',
            'run-cronjob',
            { ns, name },
            {
              tone: 'primary',
              aria: `Run ${name} now`,
              pendingKey: `run:${ns}/${name}`,
              pendingLabel: 'Starting…',
            },
          ),
          parts.button(
            suspended ? 'Resume' : 'Suspend',
            suspended ? 'resume-cronjob' : 'suspend-cronjob',
            { ns, name },
            {
              aria: suspended ? `Resume ${name}` : `Suspend ${name}`,
              pendingKey: `suspend:${ns}/${name}`,
            },
          ),
        ]
      : null;
    const sub = h(
      'span',
      null,
      parts.liveNote(),
      ' · ',
      h('code', null, spec.schedule ?? '?'),
      spec.timeZone ? ` (${spec.timeZone})` : '',
      ' · ',
      suspended ? parts.badge('warn', 'Suspended') : parts.badge('ok', 'Scheduled'),
    );
    const specCard = parts.card(
      'cronjob-spec-title',
      'Spec',
      facts([
        fact('Schedule', h('code', null, spec.schedule ?? '?'), 'schedule'),
        fact('Time zone', spec.timeZone ?? muted('the control plane’s (UTC)'), 'time-zone'),
        fact('Concurrency policy', spec.concurrencyPolicy ?? 'Allow', 'concurrency'),
        fact('Starting deadline', seconds(spec.startingDeadlineSeconds), 'starting-deadline'),
        fact('Suspend', suspended ? 'Yes' : 'No', 'suspend'),
        fact(
          'History kept',
          `${spec.successfulJobsHistoryLimit ?? 3} succeeded, ${spec.failedJobsHistoryLimit ?? 1} failed`,
          'history',
        ),
        fact(
          'Each run',
          `${js.completions === undefined ? 'one success' : `${js.completions} completion${js.completions === 1 ? '' : 's'}`}, parallelism ${js.parallelism ?? 1}, backoff limit ${js.backoffLimit ?? 6}`,
          'job-spec',
        ),
        fact((template?.spec?.containers ?? []).length > 1 ? 'Images' : 'Image', images(template)),
        fact('Labels', parts.chips(cj.metadata?.labels)),
        fact('Created', parts.time(cj.metadata?.createdAt, 'ago')),
      ]),
    );
    const activeNames = (st.active ?? []).map((a) => a.name ?? '?');
    const statusCard = parts.card(
      'cronjob-status-title',
      'Status',
      facts([
        fact(
          'Active',
          activeNames.length
            ? h(
                'ul',
                { class: 'plain-list', 'aria-label': 'Active jobs' },
                activeNames.map((n) =>
                  h('li', { 'data-key': n }, h('a', { href: kit.href(`/jobs/${enc(ns)}/${enc(n)}`) }, n)),
                ),
              )
            : muted('none'),
          'active',
        ),
        fact('Last schedule', parts.time(st.lastScheduleTime, 'ago'), 'last-schedule'),
        fact('Last success', parts.time(st.lastSuccessfulTime, 'ago'), 'last-success'),
      ]),
    );
    return h(
      'div',
      null,
      parts.pageHead(name, sub, side, nav),
      parts.readOnlyNote(ns),
      data.errors.cronJob ? parts.problemBox(data.errors.cronJob, 'Refresh failed') : null,
      h('div', { class: 'grid grid-2' }, specCard, statusCard),
      runsCard(ns, cj, data),
    );
  }

  return { jobs, job, cronJobs, cronJob };
}

export type JobPages = ReturnType<typeof createJobPages>;
