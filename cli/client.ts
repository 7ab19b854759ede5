import { type FieldError, problemSummary, type ReceivedProblem, toProblem } from '../common/problem.ts';
import type { Certificate } from '../common/wire/certificate.ts';
import type { NodeTaintsChange } from '../common/wire/node.ts';
import type {
  AppliedObject,
  ApplyWarning,
  ConfigMap,
  CronJob,
  Deployment,
  EndpointList,
  Event,
  ExchangedToken,
  Ingress,
  Job,
  List,
  NamespacePolicy,
  Node,
  PersistentVolumeClaim,
  Replica,
  Revision,
  Secret,
  Service,
  ServiceAccount,
  TrustRule,
} from './resources.ts';

/**
 * The HTTP client of the CLI and the GitHub Action (one implementation for both): JSON in and out,
 * problem+json errors as ApiError, network failures as ConnectionError.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ReceivedProblem,
    /** Seconds from a Retry-After header (503 while the database is unreachable, 429). */
    readonly retryAfter?: number,
  ) {
    super(problemSummary(problem));
    this.name = 'ApiError';
  }
  get code(): string | undefined {
    return this.problem.code;
  }
  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

export class ConnectionError extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    super(`cannot reach the Berth server at ${server}: ${reason}`);
    this.name = 'ConnectionError';
  }
}

export interface ClientOptions {
  server: string;
  token?: string;
  userAgent?: string;
  /** Per request; long enough for a slow apply, short enough that CI notices a hung server. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Sent as is (a string body) with this content type instead of JSON. */
  rawBody?: string;
  contentType?: string;
}

const RETRIES = 3;

export class BerthClient {
  readonly server: string;
  private readonly token?: string;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.token = options.token;
    this.userAgent = options.userAgent ?? 'berth-cli';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchFn = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** Reads are retried on 503 and network errors: the control plane may be restarting. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const retries = method === 'GET' ? RETRIES : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, options);
      } catch (err) {
        const retryable =
          err instanceof ConnectionError ||
          (err instanceof ApiError && (err.status === 503 || err.status === 502));
        if (!retryable || attempt >= retries) throw err;
        const retryAfter = err instanceof ApiError ? (err.retryAfter ?? 0) : 0;
        await this.sleep(Math.min(5000, retryAfter > 0 ? retryAfter * 1000 : 300 * 2 ** attempt));
      }
    }
  }

  private async once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] = options.contentType ?? 'text/plain';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    let response: Response;
    try {
      response = await this.fetchFn(this.url(path, options.query), {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ConnectionError(this.server, describeFetchError(err));
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown = text;
    if (text && /json/.test(response.headers.get('content-type') ?? '')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new ApiError(
        response.status,
        toProblem(response.status, response.statusText, parsed),
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return (text === '' ? undefined : parsed) as T;
  }

  // Deployments ---------------------------------------------------------------------------------

  private dep(ns: string, name?: string, sub?: string): string {
    const base = `/v1/namespaces/${enc(ns)}/deployments`;
    return name === undefined ? base : `${base}/${enc(name)}${sub ? `/${sub}` : ''}`;
  }
  listDeployments(ns: string, labelSelector?: string) {
    return this.request<List<Deployment>>('GET', this.dep(ns), { query: { labelSelector } }).then(items);
  }
  getDeployment(ns: string, name: string) {
    return this.request<Deployment>('GET', this.dep(ns, name));
  }
  patchDeployment(ns: string, name: string, patch: unknown) {
    return this.request<Deployment>('PATCH', this.dep(ns, name), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }
  scaleDeployment(ns: string, name: string, replicas: number) {
    return this.request<Deployment>('PUT', this.dep(ns, name, 'scale'), { body: { replicas } });
  }
  rollbackDeployment(ns: string, name: string, toRevision?: number) {
    return this.request<Deployment>('POST', this.dep(ns, name, 'rollback'), {
      body: toRevision === undefined ? {} : { toRevision },
    });
  }
  pauseDeployment(ns: string, name: string, paused: boolean) {
    return this.request<Deployment>('POST', this.dep(ns, name, paused ? 'pause' : 'resume'));
  }
  listRevisions(ns: string, name: string) {
    return this.request<List<Revision>>('GET', this.dep(ns, name, 'revisions')).then(items);
  }

  // Replicas, logs, events ----------------------------------------------------------------------

  listReplicas(ns: string, deployment?: string) {
    return this.request<List<Replica>>('GET', `/v1/namespaces/${enc(ns)}/replicas`, {
      query: { deployment },
    }).then(items);
  }
  /** A Job's pods (`?job=NAME`). */
  listJobPods(ns: string, job: string) {
    return this.request<List<Replica>>('GET', `/v1/namespaces/${enc(ns)}/replicas`, {
      query: { job },
    }).then(items);
  }
  replicaLogs(ns: string, id: string, tail?: number) {
    return this.request<unknown>('GET', `/v1/namespaces/${enc(ns)}/replicas/${enc(id)}/logs`, {
      query: { tail },
    });
  }
  /**
   * A replica's log lines as they are written: the Kubernetes face's `pods/{id}/log?follow=true`,
   * the stream `kubectl logs -f` reads. Ends when the pod does, or when `signal` aborts.
   */
  async *followReplicaLogs(
    ns: string,
    id: string,
    o: { tail?: number; container?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<string> {
    const headers: Record<string, string> = { accept: 'text/plain', 'user-agent': this.userAgent };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const path = `/api/v1/namespaces/${enc(ns)}/pods/${enc(id)}/log`;
    let response: Response;
    try {
      response = await this.fetchFn(
        this.url(path, { follow: 'true', tailLines: o.tail, container: o.container }),
        { method: 'GET', headers, ...(o.signal ? { signal: o.signal } : {}) },
      );
    } catch (err) {
      if (o.signal?.aborted) return;
      throw new ConnectionError(this.server, describeFetchError(err));
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let message = text || response.statusText;
      try {
        // The Kubernetes face answers errors as a Status: its message is what kubectl prints.
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: the text as it came
      }
      throw new ApiError(
        response.status,
        toProblem(response.status, response.statusText, { detail: message }),
      );
    }
    if (!response.body) return;
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        pending += decoder.decode(chunk, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        yield* lines;
      }
    } catch (err) {
      if (!o.signal?.aborted) throw new ConnectionError(this.server, describeFetchError(err));
    }
    if (pending) yield pending;
  }
  /** Cluster events (admins): nodes, and token exchanges (`tokenexchange`). */
  listClusterEvents(object?: string) {
    return this.request<List<Event>>('GET', '/v1/events', { query: { object } }).then(items);
  }
  listEvents(ns: string, object?: string) {
    return this.request<List<Event>>('GET', `/v1/namespaces/${enc(ns)}/events`, {
      query: { object },
    }).then(items);
  }

  // Services, secrets, generic objects ----------------------------------------------------------

  listServices(ns: string, labelSelector?: string) {
    return this.request<List<Service>>('GET', `/v1/namespaces/${enc(ns)}/services`, {
      query: { labelSelector },
    }).then(items);
  }
  getService(ns: string, name: string) {
    return this.request<Service>('GET', `/v1/namespaces/${enc(ns)}/services/${enc(name)}`);
  }
  listEndpoints(ns: string, service: string) {
    return this.request<EndpointList>('GET', `/v1/namespaces/${enc(ns)}/services/${enc(service)}/endpoints`);
  }
  listSecrets(ns: string) {
    return this.request<List<Secret>>('GET', `/v1/namespaces/${enc(ns)}/secrets`).then(items);
  }
  listConfigMaps(ns: string, labelSelector?: string) {
    return this.request<List<ConfigMap>>('GET', `/v1/namespaces/${enc(ns)}/configmaps`, {
      query: { labelSelector },
    }).then(items);
  }
  listClaims(ns: string, labelSelector?: string) {
    return this.request<List<PersistentVolumeClaim>>(
      'GET',
      `/v1/namespaces/${enc(ns)}/persistentvolumeclaims`,
      {
        query: { labelSelector },
      },
    ).then(items);
  }
  listIngresses(ns: string, labelSelector?: string) {
    return this.request<List<Ingress>>('GET', `/v1/namespaces/${enc(ns)}/ingresses`, {
      query: { labelSelector },
    }).then(items);
  }
  listJobs(ns: string, labelSelector?: string) {
    return this.request<List<Job>>('GET', `/v1/namespaces/${enc(ns)}/jobs`, {
      query: { labelSelector },
    }).then(items);
  }
  listCronJobs(ns: string, labelSelector?: string) {
    return this.request<List<CronJob>>('GET', `/v1/namespaces/${enc(ns)}/cronjobs`, {
      query: { labelSelector },
    }).then(items);
  }
  listServiceAccounts(ns: string, labelSelector?: string) {
    return this.request<List<ServiceAccount>>('GET', `/v1/namespaces/${enc(ns)}/serviceaccounts`, {
      query: { labelSelector },
    }).then(items);
  }
  /** Create or replace a ConfigMap. */
  putConfigMap(ns: string, name: string, body: unknown) {
    return this.request<ConfigMap>('PUT', `/v1/namespaces/${enc(ns)}/configmaps/${enc(name)}`, { body });
  }
  /** Create or replace an object; a `metadata.resourceVersion` in the body makes it a 409 if changed since. */
  putObject<T>(ns: string, resource: NamespacedResource, name: string, body: unknown) {
    return this.request<T>('PUT', `/v1/namespaces/${enc(ns)}/${resource}/${enc(name)}`, { body });
  }
  getObject<T>(ns: string, resource: NamespacedResource, name: string) {
    return this.request<T>('GET', `/v1/namespaces/${enc(ns)}/${resource}/${enc(name)}`);
  }
  deleteObject(ns: string, resource: NamespacedResource, name: string) {
    return this.request<unknown>('DELETE', `/v1/namespaces/${enc(ns)}/${resource}/${enc(name)}`);
  }

  /** POST /v1/apply with YAML (as written) or a JSON array (after client-side edits). */
  apply(body: { yaml: string } | { json: unknown[] }): Promise<ApplyAnswer> {
    const options: RequestOptions =
      'yaml' in body ? { rawBody: body.yaml, contentType: 'application/yaml' } : { body: body.json };
    return this.request<unknown>('POST', '/v1/apply', options).then((answer) => ({
      items: applyResults(answer),
      warnings: applyWarnings(answer),
    }));
  }

  // Namespace policies --------------------------------------------------------------------------

  private policy(ns: string): string {
    return `/v1/namespaces/${enc(ns)}/policy`;
  }
  /** The policy in force: the namespace's own, or the default (annotated `berth.dev/default`). */
  getPolicy(ns: string) {
    return this.request<NamespacePolicy>('GET', this.policy(ns));
  }
  putPolicy(ns: string, policy: unknown) {
    return this.request<NamespacePolicy>('PUT', this.policy(ns), { body: policy });
  }
  deletePolicy(ns: string) {
    return this.request<NamespacePolicy>('DELETE', this.policy(ns));
  }
  /** Every policy an admin set; namespaces without one are not listed. */
  listPolicies() {
    return this.request<List<NamespacePolicy>>('GET', '/v1/policies').then(items);
  }

  // Nodes, tokens -------------------------------------------------------------------------------

  listCertificates() {
    return this.request<List<Certificate>>('GET', '/v1/certificates').then(items);
  }

  listNodes() {
    return this.request<List<Node>>('GET', '/v1/nodes').then(items);
  }
  getNode(name: string) {
    return this.request<Node>('GET', `/v1/nodes/${enc(name)}`);
  }
  /** `reset`: revoke the node's credential; the next registration with a join token takes the name. */
  nodeAction(name: string, action: 'cordon' | 'uncordon' | 'drain' | 'reset') {
    return this.request<unknown>('POST', `/v1/nodes/${enc(name)}/${action}`);
  }
  /** Add and remove taints in one change (`berth node taint`); answers with the node. */
  changeNodeTaints(name: string, body: NodeTaintsChange) {
    return this.request<Node>('POST', `/v1/nodes/${enc(name)}/taints`, { body });
  }
  deleteNode(name: string) {
    return this.request<unknown>('DELETE', `/v1/nodes/${enc(name)}`);
  }
  createToken(body: {
    name: string;
    role: string;
    namespaces: string[];
    expiresInSeconds?: number;
    exec?: boolean;
  }) {
    return this.request<{ id: string; token: string }>('POST', '/v1/tokens', { body });
  }
  listTokens() {
    return this.request<List<Record<string, unknown>>>('GET', '/v1/tokens').then(items);
  }
  revokeToken(id: string) {
    return this.request<unknown>('DELETE', `/v1/tokens/${enc(id)}`);
  }
  /** An identity token (GitHub Actions OIDC) for a short-lived Berth token; needs no token of its own. */
  exchangeIdentityToken(token: string, rule?: string) {
    return this.request<ExchangedToken>('POST', '/v1/tokens/exchange', {
      body: { token, ...(rule ? { rule } : {}) },
    });
  }
  listTrustRules() {
    return this.request<List<TrustRule>>('GET', '/v1/trustrules').then(items);
  }
  getTrustRule(name: string) {
    return this.request<TrustRule>('GET', `/v1/trustrules/${enc(name)}`);
  }
  deleteTrustRule(name: string) {
    return this.request<TrustRule>('DELETE', `/v1/trustrules/${enc(name)}`);
  }
  createJoinToken(body: {
    ttlSeconds?: number;
    maxUses?: number;
    nodeName?: string;
    labels?: Record<string, string>;
  }) {
    return this.request<{
      id: string;
      token: string;
      expiresAt?: string;
      maxUses?: number | null;
      nodeName?: string | null;
    }>('POST', '/v1/join-tokens', { body });
  }
}

export type NamespacedResource =
  | 'deployments'
  | 'services'
  | 'secrets'
  | 'configmaps'
  | 'persistentvolumeclaims'
  | 'serviceaccounts'
  | 'ingresses'
  | 'jobs'
  | 'cronjobs'
  | 'replicas';

const enc = encodeURIComponent;

/** Lists are `{items: [...]}` (Kubernetes style); a bare array is accepted too. */
function items<T>(list: List<T> | T[] | undefined): T[] {
  if (Array.isArray(list)) return list;
  return list?.items ?? [];
}

/** What an apply did, and what of it will not run as written. */
export interface ApplyAnswer {
  items: AppliedObject[];
  warnings: ApplyWarning[];
}

/** Warnings an older server does not send are none; entries that are not objects are dropped. */
function applyWarnings(body: unknown): ApplyWarning[] {
  const warnings = body && typeof body === 'object' ? (body as { warnings?: unknown }).warnings : undefined;
  if (!Array.isArray(warnings)) return [];
  return warnings.filter(
    (w): w is ApplyWarning => !!w && typeof w === 'object' && typeof w.message === 'string',
  );
}

function applyResults(body: unknown): AppliedObject[] {
  if (Array.isArray(body)) return body as AppliedObject[];
  if (body && typeof body === 'object') {
    for (const key of ['items', 'results', 'objects']) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as AppliedObject[];
    }
  }
  return [];
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'the request timed out';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? err.message;
}
