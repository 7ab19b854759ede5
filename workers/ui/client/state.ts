import type {
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

/** The client-side routes, all under the mount point (`/ui` by default). */
export type Route =
  | { view: 'deployments'; ns: string }
  | { view: 'deployment'; ns: string; name: string }
  | { view: 'nodes' }
  | { view: 'events'; ns: string }
  | { view: 'policy'; ns: string }
  | { view: 'configmaps'; ns: string }
  | { view: 'configmap'; ns: string; name: string }
  | { view: 'services'; ns: string }
  | { view: 'ingresses'; ns: string }
  | { view: 'jobs'; ns: string }
  | { view: 'job'; ns: string; name: string }
  | { view: 'cronjobs'; ns: string }
  | { view: 'cronjob'; ns: string; name: string }
  | { view: 'certificates' }
  | { view: 'notfound'; path: string };

export interface DeploymentsData {
  items?: Deployment[];
  error?: Problem;
}

export interface DeploymentData {
  deployment?: Deployment;
  replicas?: Replica[];
  revisions?: Revision[];
  events?: BerthEvent[];
  /** Per section, so one failing endpoint does not blank the whole page. */
  errors: { deployment?: Problem; replicas?: Problem; revisions?: Problem; events?: Problem };
}

export interface NodesData {
  items?: NodeInfo[];
  error?: Problem;
}

export interface EventsData {
  items?: BerthEvent[];
  error?: Problem;
}

/** The policy in force in a namespace: its own, or the default (annotated `berth.dev/default`). */
export interface PolicyData {
  policy?: NamespacePolicy;
  error?: Problem;
}

export interface ConfigMapsData {
  items?: ConfigMap[];
  error?: Problem;
}

export interface ConfigMapData {
  configMap?: ConfigMap;
  error?: Problem;
}

export interface ServicesData {
  items?: Service[];
  /** Each service's ready endpoints, by service name (absent: not read, or not readable). */
  endpoints?: Record<string, Endpoint[]>;
  error?: Problem;
}

export interface IngressesData {
  items?: Ingress[];
  error?: Problem;
}

export interface JobsData {
  items?: Job[];
  error?: Problem;
}

export interface JobData {
  job?: Job;
  /** The Job's pods, finished ones included (`GET .../replicas?job=NAME`). */
  replicas?: Replica[];
  events?: BerthEvent[];
  errors: { job?: Problem; replicas?: Problem; events?: Problem };
}

export interface CronJobsData {
  items?: CronJob[];
  error?: Problem;
}

export interface CronJobData {
  cronJob?: CronJob;
  /** The Jobs it made (label `berth.dev/cronjob`), in any order: the page sorts them. */
  jobs?: Job[];
  errors: { cronJob?: Problem; jobs?: Problem };
}

/** The certificates of the hosts in every namespace the token may read services in. */
export interface CertificatesData {
  items?: Certificate[];
  error?: Problem;
}

export type PageData =
  | DeploymentsData
  | DeploymentData
  | NodesData
  | EventsData
  | PolicyData
  | ConfigMapsData
  | ConfigMapData
  | ServicesData
  | IngressesData
  | JobsData
  | JobData
  | CronJobsData
  | CronJobData
  | CertificatesData;

export interface Page {
  /** The route this data belongs to; a late answer for another route is dropped. */
  key: string;
  loading: boolean;
  data?: PageData;
  loadedAt?: number;
}

/**
 * Following a replica's logs (the logs card's Follow toggle), one stream at a time:
 *
 *   off ──Follow──► connecting ──200──► streaming ──closed by the server──► ended ──Follow──► connecting
 *                     │    │                 │
 *                     │    │                 └─ closed at once, replica running ──► unavailable
 *                     │    └─ no answer within 20 s ──► unavailable (a snapshot is read instead)
 *                     └─ refused (403, 404, ...) or no connection ──► failed ──Follow──► connecting
 *
 *   any ──Follow pressed again, Refresh, another replica, Close, another page──► off (stream aborted)
 *
 * Picking another container while connecting or streaming follows that one instead.
 */
export type LogFollow =
  | { state: 'off' }
  | { state: 'connecting' }
  | { state: 'streaming'; since: number }
  | { state: 'ended'; since: number; at: number }
  /** This server does not follow logs: the lines shown are a snapshot, and `reason` says why. */
  | { state: 'unavailable'; reason: string }
  /** The error is the card's `error`. */
  | { state: 'failed' };

export interface Logs {
  ns: string;
  replica: string;
  /** One container's lines (init containers and sidecars included); absent: every container's. */
  container?: string;
  loading: boolean;
  lines?: string[];
  /**
   * The lines came from a follow, which reads one container (`container=`): untagged, already
   * that container's, and up to the follow's window rather than a snapshot's 100.
   */
  streamed?: boolean;
  note?: string;
  error?: Problem;
  fetchedAt?: number;
  /** Absent: off. */
  follow?: LogFollow;
}

export interface Flash {
  id: number;
  kind: 'ok' | 'error' | 'info';
  title: string;
  detail?: string;
  errors?: { path?: string; message?: string }[];
}

export interface State {
  /** `checking`: a stored token is being verified; `out`: show the sign-in form. */
  auth: 'checking' | 'out' | 'in';
  signInError?: Problem;
  signingIn: boolean;
  /** null when the server has no `GET /v1/whoami`: writes are offered until one is refused. */
  identity: Identity | null;
  /** Scopes where a write got 403 (`ns:<name>` or `nodes`): their write controls are hidden. */
  forbidden: Set<string>;
  route: Route;
  namespace: string;
  namespaces: string[];
  page: Page;
  logs: Logs | null;
  flashes: Flash[];
  pending: Set<string>;
  /** The server's refusal of the last policy save, shown beside the fields it names until the next one. */
  policyRefusal: { ns: string; problem: Problem } | null;
  /** Node name whose Drain button is armed for a confirming second press. */
  confirmDrain: string | null;
  /** `kind/ns/name` whose Delete button is armed for a confirming second press. */
  confirmDelete: string | null;
  /** The last poll failed for a network reason: show that the data may be stale. */
  offline: boolean;
  now: number;
}
