import type { kubeconfigObject } from '../../../common/kubeconfig.ts';
import type { replicaPhase } from '../../../common/replica-phase.ts';
import type { assessRollout } from '../../../common/rollout.ts';
import type { createApi } from './api.ts';
import type { createCertificateFormat } from './certificate-format.ts';
import type { createCertificatePage } from './certificates.ts';
import type { createConfigMapPages } from './config-maps.ts';
import type { createDom } from './dom.ts';
import type { createFormat } from './format.ts';
import type { createJobFormat } from './job-format.ts';
import type { createJobPages } from './jobs.ts';
import type { createLogFollow } from './log-follow.ts';
import type { createNetworkPages } from './network.ts';
import type { createPodParts } from './pods.ts';
import type { createPolicyPage } from './policy.ts';
import type {
  ConfigMapData,
  CronJobData,
  DeploymentData,
  Flash,
  JobData,
  LogFollow,
  PageData,
  PolicyData,
  Route,
  State,
} from './state.ts';
import type {
  ApiResult,
  BerthEvent,
  Certificate,
  ConfigMap,
  CronJob,
  Deployment,
  Endpoint,
  Identity,
  Ingress,
  Job,
  NamespacePolicy,
  NodeInfo,
  Problem,
  Replica,
  Revision,
  Service,
} from './types.ts';
import type { createViews } from './views.ts';

export interface Factories {
  createDom: typeof createDom;
  createFormat: typeof createFormat;
  createApi: typeof createApi;
  createViews: typeof createViews;
  createPolicyPage: typeof createPolicyPage;
  createPodParts: typeof createPodParts;
  createConfigMapPages: typeof createConfigMapPages;
  createNetworkPages: typeof createNetworkPages;
  createJobFormat: typeof createJobFormat;
  createJobPages: typeof createJobPages;
  createCertificateFormat: typeof createCertificateFormat;
  createCertificatePage: typeof createCertificatePage;
  createLogFollow: typeof createLogFollow;
  /** The rollout rule shared with the CLI and the Action (common/rollout.ts). */
  assessRollout: typeof assessRollout;
  /** A replica's `Init:N/M` as the CLI shows it (common/replica-phase.ts). */
  replicaPhase: typeof replicaPhase;
  /** What `berth kubeconfig` prints (common/kubeconfig.ts). */
  kubeconfigObject: typeof kubeconfigObject;
}

/**
 * The dashboard's browser side: state, routing (History API under the mount point), polling,
 * and the actions behind the buttons. Rendering is in views.ts.
 *
 * Self-contained: served as `(${startDashboard})({createDom, ...})`; the server passes the other
 * client modules in as factories so that each file stays a real, typed module.
 */
export function startDashboard(f: Factories): void {
  const POLL_MS = 1500;
  const root = document.getElementById('app');
  if (!root) return;
  const html = document.documentElement;
  const uiBase = (html.dataset.uiBase ?? '/ui').replace(/\/$/, '');
  const apiBase = (html.dataset.apiBase ?? '').replace(/\/$/, '');

  const dom = f.createDom();
  const fmt = f.createFormat(f.assessRollout);
  const api = f.createApi(apiBase);
  const lf = f.createLogFollow();
  const { h } = dom;

  function storedNamespace(): string | null {
    try {
      return sessionStorage.getItem('berth.namespace');
    } catch {
      return null;
    }
  }

  const state: State = {
    auth: api.token() ? 'checking' : 'out',
    signingIn: false,
    identity: null,
    forbidden: new Set(),
    route: { view: 'notfound', path: '' },
    namespace: storedNamespace() ?? 'default',
    namespaces: ['default'],
    page: { key: '', loading: true },
    logs: null,
    flashes: [],
    pending: new Set(),
    policyRefusal: null,
    confirmDrain: null,
    confirmDelete: null,
    offline: false,
    now: Date.now(),
  };

  // ---- permissions ------------------------------------------------------------------------

  function nsAllowed(ns: string): boolean {
    const list = state.identity?.namespaces;
    return !list || list.includes('*') || list.includes(ns);
  }

  /** Known role: decide from it. Unknown role (no whoami): offer writes until one is refused. */
  function canWrite(ns: string): boolean {
    if (state.forbidden.has(`ns:${ns}`)) return false;
    const role = state.identity?.role;
    if (!role) return true;
    if (role === 'admin') return true;
    if (role === 'deployer') return nsAllowed(ns);
    return false;
  }

  function canManageNodes(): boolean {
    if (state.forbidden.has('nodes')) return false;
    const role = state.identity?.role;
    return !role || role === 'admin';
  }

  /** Policies are written by admins only, whatever the namespace. */
  function canEditPolicy(): boolean {
    if (state.forbidden.has('policies')) return false;
    const role = state.identity?.role;
    return !role || role === 'admin';
  }

  const href = (p: string) => uiBase + (p === '/' ? '/' : p);
  const views = f.createViews(dom, fmt, {
    state,
    href,
    canWrite,
    canManageNodes,
    pod: f.createPodParts(dom, f.replicaPhase),
    follow: lf,
  });
  const policyPage = f.createPolicyPage(dom, views, { state, canEditPolicy });
  const configMapPages = f.createConfigMapPages(dom, fmt, views, { state, href });
  const networkPages = f.createNetworkPages(dom, views);
  const jf = f.createJobFormat();
  const jobPages = f.createJobPages(dom, jf, views, { state, href, canWrite });
  const certificatePage = f.createCertificatePage(dom, f.createCertificateFormat(), views, { state });

  // ---- routing ----------------------------------------------------------------------------

  function parseRoute(pathname: string): Route {
    const rest = pathname.startsWith(uiBase) ? pathname.slice(uiBase.length) : pathname;
    let parts: string[];
    try {
      parts = rest.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return { view: 'notfound', path: pathname };
    }
    const [first, a, b] = parts;
    if (!first) return { view: 'deployments', ns: state.namespace };
    if (first === 'deployments' && parts.length <= 3) {
      if (a && b) return { view: 'deployment', ns: a, name: b };
      return { view: 'deployments', ns: a ?? state.namespace };
    }
    if (first === 'nodes' && parts.length === 1) return { view: 'nodes' };
    if (first === 'certificates' && parts.length === 1) return { view: 'certificates' };
    if (first === 'events' && parts.length <= 2) return { view: 'events', ns: a ?? state.namespace };
    if (first === 'policy' && parts.length <= 2) return { view: 'policy', ns: a ?? state.namespace };
    if (first === 'configmaps' && parts.length <= 3) {
      if (a && b) return { view: 'configmap', ns: a, name: b };
      return { view: 'configmaps', ns: a ?? state.namespace };
    }
    if (first === 'services' && parts.length <= 2) return { view: 'services', ns: a ?? state.namespace };
    if (first === 'ingresses' && parts.length <= 2) return { view: 'ingresses', ns: a ?? state.namespace };
    if (first === 'jobs' && parts.length <= 3) {
      if (a && b) return { view: 'job', ns: a, name: b };
      return { view: 'jobs', ns: a ?? state.namespace };
    }
    if (first === 'cronjobs' && parts.length <= 3) {
      if (a && b) return { view: 'cronjob', ns: a, name: b };
      return { view: 'cronjobs', ns: a ?? state.namespace };
    }
    return { view: 'notfound', path: pathname };
  }

  function routeKey(r: Route): string {
    switch (r.view) {
      case 'deployments':
      case 'events':
      case 'policy':
      case 'configmaps':
      case 'services':
      case 'ingresses':
      case 'jobs':
      case 'cronjobs':
        return `${r.view}:${r.ns}`;
      case 'deployment':
      case 'configmap':
      case 'job':
      case 'cronjob':
        return `${r.view}:${r.ns}/${r.name}`;
      case 'nodes':
        return 'nodes';
      case 'certificates':
        return 'certificates';
      default:
        return `notfound:${r.path}`;
    }
  }

  function pageTitle(r: Route): string {
    switch (r.view) {
      case 'deployments':
        return `Deployments · ${r.ns}`;
      case 'deployment':
        return `${r.name} · ${r.ns}`;
      case 'nodes':
        return 'Nodes';
      case 'certificates':
        return 'Certificates';
      case 'events':
        return `Events · ${r.ns}`;
      case 'policy':
        return `Policy · ${r.ns}`;
      case 'configmaps':
        return `ConfigMaps · ${r.ns}`;
      case 'configmap':
        return `${r.name} · ConfigMaps · ${r.ns}`;
      case 'services':
        return `Services · ${r.ns}`;
      case 'ingresses':
        return `Ingresses · ${r.ns}`;
      case 'jobs':
        return `Jobs · ${r.ns}`;
      case 'job':
        return `${r.name} · Jobs · ${r.ns}`;
      case 'cronjobs':
        return `CronJobs · ${r.ns}`;
      case 'cronjob':
        return `${r.name} · CronJobs · ${r.ns}`;
      default:
        return 'Not found';
    }
  }

  function rememberNamespace(ns: string): void {
    state.namespace = ns;
    if (!state.namespaces.includes(ns)) state.namespaces = [...state.namespaces, ns].sort();
    try {
      sessionStorage.setItem('berth.namespace', ns);
      sessionStorage.setItem('berth.namespaces', JSON.stringify(state.namespaces.slice(0, 50)));
    } catch {
      /* not remembered across reloads, that's all */
    }
  }

  function onRoute(focus: boolean): void {
    const route = parseRoute(location.pathname);
    const key = routeKey(route);
    state.route = route;
    if ('ns' in route) rememberNamespace(route.ns);
    document.title = `${pageTitle(route)} · Berth`;
    if (state.page.key !== key) {
      state.page = { key, loading: true };
      closeLogs();
      state.confirmDrain = null;
      state.confirmDelete = null;
      state.policyRefusal = null;
      state.flashes = state.flashes.filter((x) => x.kind !== 'error');
    }
    render();
    if (focus) document.getElementById('page-title')?.focus();
    void refresh();
  }

  function navigate(path: string): void {
    if (path !== location.pathname + location.search) history.pushState(null, '', path);
    onRoute(true);
    window.scrollTo(0, 0);
  }

  // ---- data -------------------------------------------------------------------------------

  function itemsOf<T>(data: unknown): T[] {
    if (Array.isArray(data)) return data as T[];
    if (data && typeof data === 'object' && Array.isArray((data as { items?: unknown }).items)) {
      return (data as { items: T[] }).items;
    }
    return [];
  }

  const nsPath = (ns: string) => `/v1/namespaces/${encodeURIComponent(ns)}`;
  const depPath = (ns: string, name: string) => `${nsPath(ns)}/deployments/${encodeURIComponent(name)}`;
  const jobPath = (ns: string, name: string) => `${nsPath(ns)}/jobs/${encodeURIComponent(name)}`;
  const cronJobPath = (ns: string, name: string) => `${nsPath(ns)}/cronjobs/${encodeURIComponent(name)}`;

  /** Loads what the route shows. Returns null when a 401 ended the session. */
  async function load(route: Route): Promise<PageData | null> {
    let unauthorized = false;
    let network = false;
    const check = <T>(r: ApiResult<T>): ApiResult<T> => {
      if (!r.ok && r.status === 401) unauthorized = true;
      if (!r.ok && r.status === 0) network = true;
      return r;
    };
    let data: PageData | undefined;
    switch (route.view) {
      case 'deployments': {
        const r = check(await api.get<unknown>(`${nsPath(route.ns)}/deployments`));
        data = r.ok ? { items: itemsOf<Deployment>(r.data) } : { error: r.problem };
        break;
      }
      case 'deployment': {
        const base = depPath(route.ns, route.name);
        const [dep, reps, revs, evs] = await Promise.all([
          api.get<Deployment>(base),
          api.get<unknown>(`${nsPath(route.ns)}/replicas?deployment=${encodeURIComponent(route.name)}`),
          api.get<unknown>(`${base}/revisions`),
          api.get<unknown>(
            `${nsPath(route.ns)}/events?object=${encodeURIComponent(`deployment/${route.name}`)}`,
          ),
        ]).then((rs) => rs.map(check) as typeof rs);
        const prev =
          state.page.key === routeKey(route) ? (state.page.data as DeploymentData | undefined) : undefined;
        const d: DeploymentData = { errors: {} };
        // A failed refresh keeps the last good data on screen and says the refresh failed.
        if (dep.ok) d.deployment = dep.data;
        else {
          d.errors.deployment = dep.problem;
          if (dep.status !== 404 && dep.status !== 403) d.deployment = prev?.deployment;
        }
        if (reps.ok) d.replicas = itemsOf<Replica>(reps.data);
        else d.errors.replicas = reps.problem;
        if (revs.ok) d.revisions = itemsOf<Revision>(revs.data);
        else d.errors.revisions = revs.problem;
        if (evs.ok) d.events = itemsOf<BerthEvent>(evs.data);
        else d.errors.events = evs.problem;
        data = d;
        break;
      }
      case 'nodes': {
        const r = check(await api.get<unknown>('/v1/nodes'));
        data = r.ok ? { items: itemsOf<NodeInfo>(r.data) } : { error: r.problem };
        break;
      }
      case 'certificates': {
        // Not namespaced: the server lists those of every namespace the token may read services in.
        const r = check(await api.get<unknown>('/v1/certificates'));
        data = r.ok ? { items: itemsOf<Certificate>(r.data) } : { error: r.problem };
        break;
      }
      case 'events': {
        const r = check(await api.get<unknown>(`${nsPath(route.ns)}/events`));
        data = r.ok ? { items: itemsOf<BerthEvent>(r.data) } : { error: r.problem };
        break;
      }
      case 'policy': {
        const r = check(await api.get<NamespacePolicy>(`${nsPath(route.ns)}/policy`));
        data = r.ok ? { policy: r.data } : { error: r.problem };
        break;
      }
      case 'configmaps': {
        const r = check(await api.get<unknown>(`${nsPath(route.ns)}/configmaps`));
        data = r.ok ? { items: itemsOf<ConfigMap>(r.data) } : { error: r.problem };
        break;
      }
      case 'configmap': {
        const r = check(
          await api.get<ConfigMap>(`${nsPath(route.ns)}/configmaps/${encodeURIComponent(route.name)}`),
        );
        const prev =
          state.page.key === routeKey(route) ? (state.page.data as ConfigMapData | undefined) : undefined;
        // A failed refresh keeps the data on screen; a deleted or forbidden one does not.
        data = r.ok
          ? { configMap: r.data }
          : {
              error: r.problem,
              configMap: r.status === 404 || r.status === 403 ? undefined : prev?.configMap,
            };
        break;
      }
      case 'services': {
        const r = check(await api.get<unknown>(`${nsPath(route.ns)}/services`));
        if (!r.ok) {
          data = { error: r.problem };
          break;
        }
        const items = itemsOf<Service>(r.data);
        const endpoints: Record<string, Endpoint[]> = {};
        // Each service's endpoints (at most 50 services a poll); one that fails is shown as unknown.
        const answers = await Promise.all(
          items.slice(0, 50).map(async (s) => {
            const name = s.metadata?.name ?? '';
            const e = check(
              await api.get<unknown>(`${nsPath(route.ns)}/services/${encodeURIComponent(name)}/endpoints`),
            );
            return [name, e.ok ? itemsOf<Endpoint>(e.data) : undefined] as const;
          }),
        );
        for (const [name, list] of answers) if (list) endpoints[name] = list;
        data = { items, endpoints };
        break;
      }
      case 'ingresses': {
        const r = check(await api.get<unknown>(`${nsPath(route.ns)}/ingresses`));
        data = r.ok ? { items: itemsOf<Ingress>(r.data) } : { error: r.problem };
        break;
      }
      case 'jobs': {
        const r = check(await api.get<unknown>(`${nsPath(route.ns)}/jobs`));
        data = r.ok ? { items: itemsOf<Job>(r.data) } : { error: r.problem };
        break;
      }
      case 'job': {
        const [job, reps, evs] = await Promise.all([
          api.get<Job>(jobPath(route.ns, route.name)),
          api.get<unknown>(`${nsPath(route.ns)}/replicas?job=${encodeURIComponent(route.name)}`),
          api.get<unknown>(`${nsPath(route.ns)}/events?object=${encodeURIComponent(`job/${route.name}`)}`),
        ]).then((rs) => rs.map(check) as typeof rs);
        const prev =
          state.page.key === routeKey(route) ? (state.page.data as JobData | undefined) : undefined;
        const d: JobData = { errors: {} };
        // A failed refresh keeps the last good data on screen; a deleted or forbidden one does not.
        if (job.ok) d.job = job.data;
        else {
          d.errors.job = job.problem;
          if (job.status !== 404 && job.status !== 403) d.job = prev?.job;
        }
        if (reps.ok) d.replicas = itemsOf<Replica>(reps.data);
        else d.errors.replicas = reps.problem;
        if (evs.ok) d.events = itemsOf<BerthEvent>(evs.data);
        else d.errors.events = evs.problem;
        data = d;
        break;
      }
      case 'cronjobs': {
        const r = check(await api.get<unknown>(`${nsPath(route.ns)}/cronjobs`));
        data = r.ok ? { items: itemsOf<CronJob>(r.data) } : { error: r.problem };
        break;
      }
      case 'cronjob': {
        const selector = encodeURIComponent(`berth.dev/cronjob=${route.name}`);
        const [cj, runs] = await Promise.all([
          api.get<CronJob>(cronJobPath(route.ns, route.name)),
          api.get<unknown>(`${nsPath(route.ns)}/jobs?labelSelector=${selector}`),
        ]).then((rs) => rs.map(check) as typeof rs);
        const prev =
          state.page.key === routeKey(route) ? (state.page.data as CronJobData | undefined) : undefined;
        const d: CronJobData = { errors: {} };
        if (cj.ok) d.cronJob = cj.data;
        else {
          d.errors.cronJob = cj.problem;
          if (cj.status !== 404 && cj.status !== 403) d.cronJob = prev?.cronJob;
        }
        // Its runs are the Jobs carrying its label, whether or not the server filtered by it.
        if (runs.ok)
          d.jobs = itemsOf<Job>(runs.data).filter(
            (j) => j.metadata?.labels?.['berth.dev/cronjob'] === route.name,
          );
        else d.errors.jobs = runs.problem;
        data = d;
        break;
      }
      default:
        data = {};
    }
    if (unauthorized) {
      signOut('Your token is no longer accepted. Sign in again.');
      return null;
    }
    state.offline = network;
    return data;
  }

  let refreshSeq = 0;
  let inflight = false;

  async function refresh(): Promise<void> {
    if (state.auth !== 'in') return;
    const route = state.route;
    const key = routeKey(route);
    const seq = ++refreshSeq;
    inflight = true;
    try {
      const data = await load(route);
      // A newer refresh (e.g. after navigating) owns the page now.
      if (data === null || seq !== refreshSeq || key !== routeKey(state.route)) return;
      const prev = state.page;
      // Keep showing the last good list when a poll fails for a network reason.
      const keep =
        state.offline && prev.key === key && prev.data && 'error' in data && data.error?.status === 0;
      state.page = keep ? { ...prev, loading: false } : { key, loading: false, data, loadedAt: Date.now() };
      state.now = Date.now();
      render();
    } finally {
      if (seq === refreshSeq) inflight = false;
    }
  }

  let pollTimer: ReturnType<typeof setTimeout> | undefined;

  function schedule(): void {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(tick, POLL_MS);
  }

  async function tick(): Promise<void> {
    // Poll only while someone can see the page; a hidden tab costs the server nothing.
    if (state.auth === 'in' && document.visibilityState === 'visible' && !inflight) await refresh();
    schedule();
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      clearTimeout(pollTimer);
      void tick();
    }
  });

  // ---- session ----------------------------------------------------------------------------

  /**
   * Suggestions for the namespace field: every namespace the token may see (GET /v1/namespaces),
   * its own, and those visited in this tab. Namespaces spring into being on first use, so any
   * name can still be typed.
   */
  async function loadNamespaces(): Promise<void> {
    const names = new Set<string>([state.namespace]);
    if (nsAllowed('default')) names.add('default');
    for (const n of state.identity?.namespaces ?? []) if (n !== '*') names.add(n);
    try {
      for (const n of JSON.parse(sessionStorage.getItem('berth.namespaces') ?? '[]') as unknown[]) {
        if (typeof n === 'string') names.add(n);
      }
    } catch {
      /* no history */
    }
    const listed = await api.get<unknown>('/v1/namespaces');
    if (listed.ok) {
      for (const n of itemsOf<{ name?: unknown }>(listed.data))
        if (typeof n.name === 'string') names.add(n.name);
    }
    state.namespaces = [...names].sort();
  }

  /** Verifies the stored token. Resolves to a problem to show, or null when signed in. */
  async function verify(): Promise<Problem | null> {
    const who = await api.get<Identity>('/v1/whoami');
    if (who.ok) {
      state.identity = who.data && typeof who.data === 'object' ? who.data : null;
    } else if (who.status === 404 || who.status === 405 || who.status === 501) {
      // An older server without whoami: check the token with a read every role may try.
      state.identity = null;
      const probe = await api.get<unknown>(`${nsPath(state.namespace)}/deployments`);
      if (!probe.ok && (probe.status === 401 || probe.status === 0)) return probe.problem;
    } else {
      return who.problem;
    }
    // A namespaced token that may not read `default` starts in its own first namespace.
    const own = state.identity?.namespaces?.filter((n) => n !== '*') ?? [];
    if (!nsAllowed(state.namespace) && own[0]) state.namespace = own[0];
    await loadNamespaces();
    return null;
  }

  async function signIn(token: string): Promise<void> {
    state.signingIn = true;
    state.signInError = undefined;
    render();
    api.setToken(token);
    const problem = await verify();
    state.signingIn = false;
    if (problem) {
      api.clearToken();
      state.signInError =
        problem.status === 401
          ? {
              ...problem,
              title: 'Token not accepted',
              detail: 'Check that you pasted the whole token and that it has not been revoked or expired.',
            }
          : problem;
      render();
      document.getElementById('token')?.focus();
      return;
    }
    state.auth = 'in';
    state.forbidden = new Set();
    onRoute(true);
    schedule();
  }

  /**
   * The kubeconfig for this server, this token and the namespace in view, as a file: kubectl
   * then works with the same rights as this page. The token is in it: the file is the person's.
   */
  function downloadKubeconfig(): void {
    const token = api.token();
    if (!token) return;
    const server = new URL(apiBase || '/', location.href).href.replace(/\/$/, '');
    const config = f.kubeconfigObject({ server, token, namespace: state.namespace });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(
      new Blob([`${JSON.stringify(config, null, 2)}\n`], { type: 'application/json' }),
    );
    link.download = `${String(config['current-context'])}.kubeconfig`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 0);
    flash(
      'info',
      location.protocol === 'https:'
        ? 'kubeconfig downloaded: KUBECONFIG=<file> kubectl get deploy. It holds your token: keep it private.'
        : 'kubeconfig downloaded. kubectl sends its token over HTTPS only: use this server at its HTTPS address.',
    );
    render();
  }

  function signOut(reason?: string): void {
    api.clearToken();
    clearTimeout(pollTimer);
    refreshSeq++;
    state.auth = 'out';
    state.identity = null;
    state.forbidden = new Set();
    state.page = { key: '', loading: true };
    closeLogs();
    state.pending = new Set();
    state.flashes = [];
    state.signInError = reason ? { title: 'Signed out', status: 401, detail: reason } : undefined;
    render();
    document.getElementById('token')?.focus();
  }

  // ---- notifications ----------------------------------------------------------------------

  let flashSeq = 0;

  function flash(kind: Flash['kind'], title: string, detail?: string, errors?: Flash['errors']): void {
    const id = ++flashSeq;
    state.flashes = [...state.flashes.slice(-3), { id, kind, title, detail, errors }];
    if (kind !== 'error') {
      setTimeout(() => {
        state.flashes = state.flashes.filter((x) => x.id !== id);
        render();
      }, 5000);
    }
  }

  // ---- actions ----------------------------------------------------------------------------

  interface ActionSpec {
    key: string;
    /** What the person tried, for messages: "scale web". */
    what: string;
    scope: string;
    run: () => Promise<ApiResult<unknown>>;
    done: string;
    /** What a 409 means for this write (it was read before someone else changed it). */
    conflict?: string;
    /** Runs once the write is accepted, before the page is read again (e.g. leave a deleted object's page). */
    accepted?: () => void;
  }

  async function act(a: ActionSpec): Promise<boolean> {
    if (state.pending.has(a.key)) return false;
    state.pending.add(a.key);
    render();
    const r = await a.run();
    state.pending.delete(a.key);
    if (r.ok) {
      flash('ok', a.done);
      a.accepted?.();
    } else if (r.status === 401) {
      signOut('Your token is no longer accepted. Sign in again.');
      return false;
    } else if (r.status === 409 && a.conflict) {
      // The poll below reads the object again, as the policy form does after a 409.
      flash('error', `Could not ${a.what}`, a.conflict);
    } else {
      if (r.status === 403) state.forbidden.add(a.scope);
      flash(
        'error',
        r.status === 403 ? `Not allowed to ${a.what}` : `Could not ${a.what}`,
        fmt.problemText(r.problem),
        r.problem.errors,
      );
    }
    render();
    void refresh();
    return r.ok;
  }

  function data(el: Element, name: string): string {
    return el.getAttribute(`data-${name}`) ?? '';
  }

  const LOG_TAIL = 100;

  function logLines(d: unknown): { lines: string[]; error?: string; pending?: boolean } {
    if (typeof d === 'string') return { lines: d.replace(/\n$/, '').split('\n') };
    if (Array.isArray(d)) return { lines: d.map(String) };
    if (!d || typeof d !== 'object') return { lines: [] };
    const o = d as Record<string, unknown>;
    const error = typeof o.error === 'string' ? o.error : undefined;
    const pending = o.pending === true || o.status === 'Pending';
    if (Array.isArray(o.lines)) return { lines: o.lines.map(String), error, pending };
    if (Array.isArray(o.containers)) {
      const many = o.containers.length > 1;
      const lines = o.containers.flatMap((c: unknown) => {
        const co = (c ?? {}) as Record<string, unknown>;
        const own = logLines(co.lines ?? co.logs ?? []).lines;
        return many ? [`── ${String(co.name ?? 'container')} ──`, ...own] : own;
      });
      return { lines, error, pending };
    }
    if (o.logs !== undefined) return { ...logLines(o.logs), error, pending };
    if (o.items !== undefined) return { ...logLines(o.items), error, pending };
    return { lines: [], error, pending };
  }

  /**
   * The read that owns the logs card: a snapshot's tries or a follow's stream. A newer read, a
   * Close or another page aborts it (a follow's stream with it, which ends the server's rounds
   * with the agent), and a read that no longer owns the card leaves it alone.
   */
  let logsReader: AbortController | null = null;

  function stopReading(): AbortController {
    logsReader?.abort();
    logsReader = new AbortController();
    return logsReader;
  }

  function closeLogs(): void {
    logsReader?.abort();
    logsReader = null;
    state.logs = null;
  }

  function following(logs: State['logs']): boolean {
    const s = logs?.follow?.state;
    return s === 'connecting' || s === 'streaming';
  }

  /** The replica as the last poll of the page saw it (its phase decides what an ended follow means). */
  function shownReplica(id: string): Replica | undefined {
    const d = state.page.data as { replicas?: Replica[] } | undefined;
    return d?.replicas?.find((r) => r.id === id);
  }

  function scrollLogsToEnd(): void {
    const pre = root?.querySelector('pre.logs');
    if (pre) pre.scrollTop = pre.scrollHeight;
  }

  /** A snapshot of the last lines; `follow` is what the card says about following meanwhile. */
  async function showLogs(
    ns: string,
    replica: string,
    container?: string,
    follow?: LogFollow,
  ): Promise<void> {
    const key = `logs:${replica}`;
    if (state.pending.has(key)) return;
    const reader = stopReading();
    const mine = () => logsReader === reader;
    const same = state.logs?.replica === replica && state.logs.container === container;
    state.logs = {
      ns,
      replica,
      container,
      loading: true,
      lines: same ? state.logs?.lines : undefined,
      streamed: same ? state.logs?.streamed : undefined,
      follow,
    };
    state.pending.add(key);
    render();
    // The API merges the replica's containers (each line tagged `[name] `): one container's last
    // lines are picked from a longer tail.
    const tail = container ? LOG_TAIL * 10 : LOG_TAIL;
    const path = `${nsPath(ns)}/replicas/${encodeURIComponent(replica)}/logs?tail=${tail}`;
    // Logs come from the agent on the replica's node, so the server may ask us to come back.
    for (let attempt = 0; attempt < 15; attempt++) {
      const r = await api.get<unknown>(path);
      if (!mine() || !state.logs) break;
      if (r.ok) {
        const parsed = logLines(r.data);
        if ((r.status === 202 || parsed.pending) && attempt < 14) {
          state.logs = { ...state.logs, note: 'Waiting for the node’s agent to send the logs…' };
          render();
          await new Promise((res) => setTimeout(res, 1000));
          continue;
        }
        state.logs = {
          ns,
          replica,
          container,
          loading: false,
          lines: parsed.lines,
          error: parsed.error
            ? { title: 'The agent could not read the logs', status: 200, detail: parsed.error }
            : undefined,
          fetchedAt: Date.now(),
          follow,
        };
      } else if (r.status === 401) {
        state.pending.delete(key);
        signOut('Your token is no longer accepted. Sign in again.');
        return;
      } else {
        state.logs = { ns, replica, container, loading: false, error: r.problem, follow };
      }
      break;
    }
    state.pending.delete(key);
    render();
    if (mine()) scrollLogsToEnd();
  }

  /**
   * Follows one container's lines as they are written, on the stream `kubectl logs -f` reads: the
   * last lines first, then each new one at the bottom, the card keeping the last MAX_LINES. New
   * lines scroll the view only when it already shows its end. Nothing is retried by itself: a
   * stream that ends says so and offers to follow again, so a server that cannot follow is asked
   * once per press, never in a loop.
   *
   * Off until pressed: each second of a follow is a log request to the replica's agent (a row and
   * a wake-up of the node's assignment stream, which makes the agent read its assignments again),
   * for as long as the card stays open, in a tab nobody may be looking at. A snapshot costs one.
   */
  async function followLogs(ns: string, replica: string, container?: string): Promise<void> {
    const reader = stopReading();
    const mine = () => logsReader === reader && state.logs !== null;
    const same = state.logs?.replica === replica && state.logs.container === container;
    state.logs = {
      ns,
      replica,
      container,
      loading: true,
      // The stream's first lines replace these; until then the card keeps what it showed.
      lines: same ? state.logs?.lines : undefined,
      streamed: same ? state.logs?.streamed : undefined,
      follow: { state: 'connecting' },
    };
    render();
    const r = await api.stream(lf.followPath(ns, replica, container), reader.signal);
    if (!mine() || !state.logs) return;
    if (!r.ok) {
      if (r.status === 401) {
        signOut('Your token is no longer accepted. Sign in again.');
        return;
      }
      // No headers in 20 s: something between here and the server holds the stream back.
      if (r.timedOut) {
        void showLogs(ns, replica, container, {
          state: 'unavailable',
          reason:
            'The server did not start a log stream within 20 seconds, so these lines are a snapshot; Refresh reads them again.',
        });
        return;
      }
      state.logs = { ...state.logs, loading: false, error: r.problem, follow: { state: 'failed' } };
      render();
      return;
    }
    const since = Date.now();
    state.logs = { ...state.logs, error: undefined, note: undefined, follow: { state: 'streaming', since } };
    render();
    const split = lf.lineSplitter();
    // Undefined until the stream's first lines, which replace whatever the card showed before.
    let lines: string[] | undefined;
    const add = (more: string[]) => {
      if (!state.logs || !more.length) return;
      const pre = root?.querySelector('pre.logs');
      const stick =
        lines === undefined || !pre || lf.atBottom(pre.scrollTop, pre.scrollHeight, pre.clientHeight);
      lines = lf.keepLast(lines ?? [], more);
      state.logs = { ...state.logs, loading: false, lines, streamed: true, fetchedAt: Date.now() };
      render();
      if (stick) scrollLogsToEnd();
    };
    const body = r.body.getReader();
    try {
      for (;;) {
        const chunk = await body.read();
        if (!mine()) return;
        if (chunk.done) break;
        add(split.push(chunk.value));
      }
    } catch {
      // Aborted by the page (checked next), or the connection dropped: the stream ended.
    }
    if (!mine() || !state.logs) return;
    add(split.end());
    const at = Date.now();
    // The page is read again first: a replica that has just been stopped ends its stream soon,
    // which says nothing about whether this server can follow.
    await refresh();
    if (!mine() || !state.logs) return;
    logsReader = null;
    const rep = shownReplica(replica);
    state.logs = {
      ...state.logs,
      loading: false,
      lines: lines ?? [],
      streamed: true,
      follow: lf.ended(since, at, rep?.phase === 'Running' && rep.desired !== 'stopped'),
    };
    render();
  }

  /**
   * Writes the policy the form shows. Fields the person did not touch follow the polls, so the
   * form is the policy last read plus their edits, sent with that read's resourceVersion: a save
   * made meanwhile by someone else is a 409, never silently overwritten.
   */
  async function savePolicy(form: HTMLFormElement): Promise<void> {
    const ns = data(form, 'ns');
    const key = `policy:${ns}`;
    const shown = state.page.key === key ? (state.page.data as PolicyData | undefined)?.policy : undefined;
    if (state.pending.has(key) || !shown) return;
    const meta = shown.metadata ?? {};
    // The default policy is not stored: no version to match, and its annotation is the server's.
    const own = meta.resourceVersion !== undefined;
    const body = {
      apiVersion: 'berth.dev/v1',
      kind: 'NamespacePolicy',
      metadata: own
        ? {
            name: ns,
            ...(meta.labels ? { labels: meta.labels } : {}),
            ...(meta.annotations ? { annotations: meta.annotations } : {}),
            resourceVersion: meta.resourceVersion,
          }
        : { name: ns },
      spec: policyPage.specFromForm(form),
    };
    state.pending.add(key);
    render();
    const r = await api.put<NamespacePolicy>(`${nsPath(ns)}/policy`, body);
    state.pending.delete(key);
    if (r.status === 401) {
      signOut('Your token is no longer accepted. Sign in again.');
      return;
    }
    state.policyRefusal = null;
    if (r.ok) {
      // Every field follows the server again, starting with its answer.
      for (const input of Array.from(form.querySelectorAll('input'))) dom.clearEdited(input);
      if (state.page.key === key)
        state.page = { ...state.page, data: { policy: r.data }, loadedAt: Date.now() };
      flash('ok', `Saved the policy of namespace ${ns}`);
    } else if (r.status === 422 || r.status === 400) {
      state.policyRefusal = { ns, problem: r.problem };
    } else if (r.status === 409) {
      flash(
        'error',
        `The policy of ${ns} was changed meanwhile`,
        'The fields you did not touch now show the saved version; save again to apply your changes to it.',
      );
    } else {
      if (r.status === 403) state.forbidden.add('policies');
      flash(
        'error',
        r.status === 403 ? `Not allowed to change the policy of ${ns}` : `Could not save the policy of ${ns}`,
        fmt.problemText(r.problem),
        r.problem.errors,
      );
    }
    render();
    if (state.policyRefusal) {
      // Straight to what needs fixing, for keyboard and screen reader users.
      root?.querySelector<HTMLElement>('form[data-form="policy"] [aria-invalid="true"]')?.focus();
    }
    void refresh();
  }

  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  let deleteTimer: ReturnType<typeof setTimeout> | undefined;

  /** The CronJob the page shows, read by the last poll: its buttons act on what the person saw. */
  function shownCronJob(ns: string, name: string): CronJob | undefined {
    if (state.page.key !== `cronjob:${ns}/${name}`) return undefined;
    return (state.page.data as CronJobData | undefined)?.cronJob;
  }

  function onAction(btn: HTMLElement): void {
    const action = data(btn, 'action');
    const ns = data(btn, 'ns');
    const name = data(btn, 'name');
    const node = data(btn, 'node');
    switch (action) {
      case 'kubeconfig':
        downloadKubeconfig();
        return;
      case 'signout':
        signOut();
        flash('info', 'Signed out. The token was removed from this tab.');
        state.signInError = undefined;
        render();
        return;
      case 'dismiss': {
        const id = Number(data(btn, 'id'));
        state.flashes = state.flashes.filter((x) => x.id !== id);
        render();
        document.getElementById('main')?.focus();
        return;
      }
      case 'pause':
      case 'resume':
        void act({
          key: `${action}:${ns}/${name}`,
          what: `${action} ${name}`,
          scope: `ns:${ns}`,
          run: () => api.post(`${depPath(ns, name)}/${action}`),
          done: action === 'pause' ? `Paused rollouts of ${name}` : `Resumed rollouts of ${name}`,
        });
        return;
      case 'rollback': {
        const rev = Number(data(btn, 'revision'));
        void act({
          key: `rollback:${ns}/${name}`,
          what: `roll back ${name}`,
          scope: `ns:${ns}`,
          run: () => api.post(`${depPath(ns, name)}/rollback`, { toRevision: rev }),
          done: `Rolling ${name} back to revision ${rev}`,
        });
        return;
      }
      case 'logs': {
        const replica = data(btn, 'replica');
        const container = data(btn, 'container') || undefined;
        // A card that follows goes on following when another of its containers is picked.
        if (following(state.logs) && state.logs?.replica === replica && btn.hasAttribute('data-followable'))
          void followLogs(ns, replica, container);
        else void showLogs(ns, replica, container);
        return;
      }
      case 'logs-follow': {
        const replica = data(btn, 'replica');
        const container = data(btn, 'container') || undefined;
        if (following(state.logs) && state.logs) {
          // Pressed again: stop, keeping the lines as they are.
          stopReading();
          state.logs = { ...state.logs, loading: false, follow: { state: 'off' } };
          render();
        } else void followLogs(ns, replica, container);
        return;
      }
      case 'logs-close':
        closeLogs();
        render();
        return;
      case 'cordon':
      case 'uncordon':
        void act({
          key: `${action}:${node}`,
          what: `${action} ${node}`,
          scope: 'nodes',
          run: () => api.post(`/v1/nodes/${encodeURIComponent(node)}/${action}`),
          done: action === 'cordon' ? `Cordoned ${node}: no new replicas go there` : `Uncordoned ${node}`,
        });
        return;
      case 'delete-job': {
        // Deleting stops its pods and removes their logs: the first press arms, the second confirms.
        const armed = `job/${ns}/${name}`;
        if (state.confirmDelete !== armed) {
          state.confirmDelete = armed;
          clearTimeout(deleteTimer);
          deleteTimer = setTimeout(() => {
            state.confirmDelete = null;
            render();
          }, 6000);
          render();
          return;
        }
        state.confirmDelete = null;
        void act({
          key: `delete-job:${ns}/${name}`,
          what: `delete job ${name}`,
          scope: `ns:${ns}`,
          run: () => api.del(jobPath(ns, name)),
          done: `Deleted job ${name}: its pods are stopping`,
          // Its page would only say it is gone: back to the list.
          accepted: () => {
            if (state.route.view === 'job' && state.route.name === name)
              navigate(`${uiBase}/jobs/${encodeURIComponent(ns)}`);
          },
        });
        return;
      }
      case 'run-cronjob': {
        const cj = shownCronJob(ns, name);
        if (!cj) return;
        const job = jf.manualJobName(name, () => {
          const b = new Uint32Array(1);
          crypto.getRandomValues(b);
          return (b[0] ?? 0) / 2 ** 32;
        });
        void act({
          key: `run:${ns}/${name}`,
          what: `run ${name} now`,
          scope: `ns:${ns}`,
          run: () => api.put(jobPath(ns, job), jf.manualJob(cj)),
          done: `Started job ${job} from ${name}`,
        });
        return;
      }
      case 'suspend-cronjob':
      case 'resume-cronjob': {
        const cj = shownCronJob(ns, name);
        if (!cj) return;
        const suspend = action === 'suspend-cronjob';
        void act({
          key: `suspend:${ns}/${name}`,
          what: `${suspend ? 'suspend' : 'resume'} ${name}`,
          scope: `ns:${ns}`,
          run: () => api.put(cronJobPath(ns, name), jf.suspended(cj, suspend)),
          done: suspend ? `Suspended ${name}: it starts no new jobs` : `Resumed ${name}`,
          conflict: `${name} was changed meanwhile: the page shows it again; press ${suspend ? 'Suspend' : 'Resume'} again if still wanted.`,
        });
        return;
      }
      case 'drain':
        // Draining moves workloads: the first press arms the button, the second confirms.
        if (state.confirmDrain !== node) {
          state.confirmDrain = node;
          clearTimeout(drainTimer);
          drainTimer = setTimeout(() => {
            state.confirmDrain = null;
            render();
          }, 6000);
          render();
          return;
        }
        state.confirmDrain = null;
        void act({
          key: `drain:${node}`,
          what: `drain ${node}`,
          scope: 'nodes',
          run: () => api.post(`/v1/nodes/${encodeURIComponent(node)}/drain`),
          done: `Draining ${node}: its replicas are moving elsewhere`,
        });
        return;
    }
  }

  function onSubmit(form: HTMLFormElement): void {
    const kind = data(form, 'form');
    const fd = new FormData(form);
    if (kind === 'signin') {
      const token = String(fd.get('token') ?? '').trim();
      if (!token) {
        state.signInError = { title: 'Enter a token', status: 0, detail: 'Paste an API token to sign in.' };
        render();
        return;
      }
      form.reset();
      void signIn(token);
      return;
    }
    if (kind === 'namespace') {
      const ns = String(fd.get('namespace') ?? '').trim();
      if (!ns) return;
      const input = form.querySelector('input');
      if (input) dom.clearEdited(input);
      const view = data(form, 'view');
      const keeps = ['events', 'policy', 'configmaps', 'services', 'ingresses', 'jobs', 'cronjobs'];
      navigate(`${uiBase}/${keeps.includes(view) ? view : 'deployments'}/${encodeURIComponent(ns)}`);
      return;
    }
    if (kind === 'policy') {
      void savePolicy(form);
      return;
    }
    if (kind === 'scale') {
      const ns = data(form, 'ns');
      const name = data(form, 'name');
      const replicas = Number(fd.get('replicas'));
      if (!Number.isInteger(replicas) || replicas < 0) {
        flash('error', `Could not scale ${name}`, 'Replicas must be a whole number, 0 or more.');
        render();
        return;
      }
      const input = form.querySelector('input[name="replicas"]');
      void act({
        key: `scale:${ns}/${name}`,
        what: `scale ${name}`,
        scope: `ns:${ns}`,
        run: () => api.put(`${depPath(ns, name)}/scale`, { replicas }),
        done: `Scaling ${name} to ${replicas} replica${replicas === 1 ? '' : 's'}`,
      }).then((ok) => {
        // Let the field follow the server again once the new value is accepted.
        if (ok && input) dom.clearEdited(input);
      });
    }
  }

  document.addEventListener('click', (ev) => {
    const target = ev.target as Element | null;
    if (!target || !(target instanceof Element)) return;
    const btn = target.closest('[data-action]');
    if (btn instanceof HTMLElement && !btn.hasAttribute('disabled')) {
      ev.preventDefault();
      onAction(btn);
      return;
    }
    const a = target.closest('a');
    if (
      a instanceof HTMLAnchorElement &&
      !ev.defaultPrevented &&
      ev.button === 0 &&
      !ev.metaKey &&
      !ev.ctrlKey &&
      !ev.shiftKey &&
      !ev.altKey &&
      !a.target &&
      !a.hasAttribute('download') &&
      !(a.getAttribute('href') ?? '').startsWith('#') &&
      a.origin === location.origin &&
      (a.pathname === uiBase || a.pathname.startsWith(`${uiBase}/`))
    ) {
      ev.preventDefault();
      navigate(a.pathname + a.search);
    }
  });

  document.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (form instanceof HTMLFormElement && form.hasAttribute('data-form')) {
      ev.preventDefault();
      onSubmit(form);
    }
  });

  document.addEventListener('input', (ev) => {
    if (ev.target instanceof HTMLInputElement) dom.markEdited(ev.target);
  });

  window.addEventListener('popstate', () => onRoute(true));

  // ---- rendering --------------------------------------------------------------------------

  function logo(): SVGElement {
    // Built with the SVG namespace: h() makes HTML elements.
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', 'logo');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute(
      'd',
      'M3 15h18l-2.4 4.2a2 2 0 0 1-1.7 1H7.1a2 2 0 0 1-1.7-1L3 15Zm3-2V8h5v5H6Zm7 0V4h5v9h-5Z',
    );
    svg.appendChild(path);
    return svg;
  }

  function flashes(): HTMLElement {
    return h(
      'div',
      { class: 'flashes', role: 'region', 'aria-label': 'Notifications', 'aria-live': 'polite' },
      state.flashes.map((x) =>
        h(
          'div',
          {
            class: `flash flash-${x.kind}`,
            'data-key': String(x.id),
            role: x.kind === 'error' ? 'alert' : 'status',
          },
          h(
            'div',
            { class: 'flash-text' },
            h('strong', null, x.title),
            x.detail ? h('span', null, ` ${x.detail}`) : null,
            views.problemErrors(x.errors),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-ghost btn-small',
              'data-action': 'dismiss',
              'data-id': x.id,
              'aria-label': 'Dismiss notification',
            },
            '×',
          ),
        ),
      ),
    );
  }

  function topbar(): HTMLElement {
    const r = state.route;
    const ns = 'ns' in r ? r.ns : state.namespace;
    const link = (label: string, path: string, active: boolean) =>
      h('li', null, h('a', { href: uiBase + path, 'aria-current': active ? 'page' : null }, label));
    const who = state.identity;
    return h(
      'header',
      { class: 'topbar' },
      h(
        'div',
        { class: 'topbar-inner' },
        h('a', { class: 'brand', href: `${uiBase}/` }, logo(), h('span', null, 'Berth')),
        h(
          'nav',
          { 'aria-label': 'Main' },
          h(
            'ul',
            null,
            link(
              'Deployments',
              `/deployments/${encodeURIComponent(ns)}`,
              r.view === 'deployments' || r.view === 'deployment',
            ),
            link('Jobs', `/jobs/${encodeURIComponent(ns)}`, r.view === 'jobs' || r.view === 'job'),
            link(
              'CronJobs',
              `/cronjobs/${encodeURIComponent(ns)}`,
              r.view === 'cronjobs' || r.view === 'cronjob',
            ),
            link('Nodes', '/nodes', r.view === 'nodes'),
            link(
              'ConfigMaps',
              `/configmaps/${encodeURIComponent(ns)}`,
              r.view === 'configmaps' || r.view === 'configmap',
            ),
            link('Services', `/services/${encodeURIComponent(ns)}`, r.view === 'services'),
            link('Ingresses', `/ingresses/${encodeURIComponent(ns)}`, r.view === 'ingresses'),
            link('Certificates', '/certificates', r.view === 'certificates'),
            link('Events', `/events/${encodeURIComponent(ns)}`, r.view === 'events'),
            link('Policy', `/policy/${encodeURIComponent(ns)}`, r.view === 'policy'),
          ),
        ),
        h(
          'div',
          { class: 'who' },
          who?.name || who?.role
            ? h(
                'span',
                {
                  class: 'who-id',
                  title: who.namespaces?.length ? `Namespaces: ${who.namespaces.join(', ')}` : null,
                },
                h('span', { class: 'who-name' }, who.name ?? 'token'),
                who.role ? h('span', { class: `role role-${who.role}` }, who.role) : null,
              )
            : null,
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-ghost',
              'data-action': 'kubeconfig',
              title: 'A kubeconfig for kubectl with this token and namespace',
            },
            'kubeconfig',
          ),
          h('button', { type: 'button', class: 'btn btn-ghost', 'data-action': 'signout' }, 'Sign out'),
        ),
      ),
    );
  }

  function signInView(): HTMLElement {
    const err = state.signInError;
    const checking = state.auth === 'checking';
    return h(
      'main',
      { id: 'main', class: 'signin', tabindex: -1 },
      h(
        'div',
        { class: 'signin-card card' },
        h('div', { class: 'signin-brand' }, logo(), h('span', null, 'Berth')),
        h('h1', { id: 'page-title', tabindex: -1 }, checking ? 'Signing in…' : 'Sign in'),
        h(
          'p',
          { class: 'muted signin-lead' },
          'Deployments, replicas, nodes and events of this control plane.',
        ),
        flashes(),
        checking
          ? h(
              'p',
              { class: 'loading', role: 'status' },
              h('span', { class: 'spinner', 'aria-hidden': 'true' }),
              'Checking your token…',
            )
          : h(
              'form',
              { 'data-form': 'signin', class: 'stack', 'aria-describedby': 'token-help' },
              err
                ? h(
                    'div',
                    { class: 'notice notice-error', role: 'alert', id: 'signin-error' },
                    h('strong', null, err.title),
                    err.detail ? h('p', null, err.detail) : null,
                  )
                : null,
              h('label', { for: 'token' }, 'API token'),
              h('input', {
                id: 'token',
                name: 'token',
                type: 'password',
                autocomplete: 'off',
                spellcheck: 'false',
                required: true,
                autofocus: true,
                'aria-invalid': err ? 'true' : null,
                'aria-errormessage': err ? 'signin-error' : null,
              }),
              h(
                'p',
                { id: 'token-help', class: 'muted small' },
                'The token stays in this browser tab (session storage) and is sent only in the Authorization header. Signing out forgets it.',
              ),
              h(
                'button',
                { type: 'submit', class: 'btn btn-primary btn-block', disabled: state.signingIn },
                state.signingIn ? 'Signing in…' : 'Sign in',
              ),
            ),
      ),
    );
  }

  function pageView(): HTMLElement {
    const r = state.route;
    const d = state.page.key === routeKey(r) ? state.page.data : undefined;
    switch (r.view) {
      case 'deployments':
        return views.deployments(r, d as never);
      case 'deployment':
        return views.deployment(r, d as never);
      case 'nodes':
        return views.nodes(d as never);
      case 'certificates':
        return certificatePage.page(d as never);
      case 'events':
        return views.events(r, d as never);
      case 'policy':
        return policyPage.page(r, d as never);
      case 'configmaps':
        return configMapPages.list(r, d as never);
      case 'configmap':
        return configMapPages.detail(r, d as never);
      case 'services':
        return networkPages.services(r, d as never);
      case 'ingresses':
        return networkPages.ingresses(r, d as never);
      case 'jobs':
        return jobPages.jobs(r, d as never);
      case 'job':
        return jobPages.job(r, d as never);
      case 'cronjobs':
        return jobPages.cronJobs(r, d as never);
      case 'cronjob':
        return jobPages.cronJob(r, d as never);
      default:
        return views.notFound(r.path);
    }
  }

  function render(): void {
    if (!root) return;
    state.now = Date.now();
    const next =
      state.auth === 'in'
        ? dom.frag(topbar(), h('main', { id: 'main', tabindex: -1 }, flashes(), pageView()))
        : dom.frag(signInView());
    dom.morph(root, next);
    // Widths go through CSSOM so the page runs under a CSP without 'unsafe-inline' styles.
    for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-width]'))) {
      const w = `${el.getAttribute('data-width')}%`;
      if (el.style.width !== w) el.style.width = w;
    }
    root.setAttribute('aria-busy', state.auth === 'checking' ? 'true' : 'false');
    if (state.auth !== 'in') document.title = 'Sign in · Berth';
  }

  // ---- start ------------------------------------------------------------------------------

  state.route = parseRoute(location.pathname);
  if (state.auth === 'checking') {
    render();
    void verify().then((problem) => {
      if (problem) {
        if (problem.status === 401) api.clearToken();
        state.auth = 'out';
        state.signInError =
          problem.status === 401
            ? { ...problem, title: 'Signed out', detail: 'Your saved token is no longer accepted.' }
            : problem;
        render();
        return;
      }
      state.auth = 'in';
      onRoute(false);
      schedule();
    });
  } else {
    render();
  }
}
