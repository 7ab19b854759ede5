/** The few Berth API calls the benchmark makes, over real HTTP with the admin token. */

export interface DeploymentStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  revision: number | null;
  conditions: { type: string; status: string; reason: string }[];
}

export interface DeploymentObject {
  metadata: { name: string; generation: number };
  spec: { replicas: number };
  status: DeploymentStatus;
}

export interface ReplicaItem {
  id: string;
  desired: string;
  phase: string;
  ready: boolean;
  revision: number;
  nodeAddress: string | null;
  hostPorts: { containerPort: number; hostPort: number }[];
}

export class BerthApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  putDeployment(name: string, body: unknown, ns = 'default'): Promise<DeploymentObject> {
    return this.call('PUT', `/v1/namespaces/${ns}/deployments/${name}`, body);
  }

  getDeployment(name: string, ns = 'default'): Promise<DeploymentObject> {
    return this.call('GET', `/v1/namespaces/${ns}/deployments/${name}`);
  }

  deleteDeployment(name: string, ns = 'default'): Promise<unknown> {
    return this.call('DELETE', `/v1/namespaces/${ns}/deployments/${name}`);
  }

  scale(name: string, replicas: number, ns = 'default'): Promise<DeploymentObject> {
    return this.call('PUT', `/v1/namespaces/${ns}/deployments/${name}/scale`, { replicas });
  }

  async replicas(deployment: string, ns = 'default'): Promise<ReplicaItem[]> {
    const body = await this.call<{ items: ReplicaItem[] }>(
      'GET',
      `/v1/namespaces/${ns}/replicas?deployment=${deployment}`,
    );
    return body.items;
  }

  /** A join token for `maxUses` registrations (join tokens are single-use unless told otherwise). */
  async joinToken(maxUses = 1): Promise<string> {
    const body = await this.call<{ token: string }>('POST', '/v1/join-tokens', { maxUses });
    return body.token;
  }

  /**
   * Polls the deployment every `everyMs` until `done` holds; resolves with the time it held
   * (performance.now() of the answer that showed it) and the status then.
   */
  async waitFor(
    name: string,
    done: (d: DeploymentObject) => boolean,
    opts: { everyMs?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<{ at: number; deployment: DeploymentObject }> {
    const every = opts.everyMs ?? 20;
    const deadline = performance.now() + (opts.timeoutMs ?? 120_000);
    let last: DeploymentObject | undefined;
    for (;;) {
      const d = await this.getDeployment(name);
      const at = performance.now();
      last = d;
      if (done(d)) return { at, deployment: d };
      if (at > deadline)
        throw new Error(
          `deployment ${name}: ${opts.what ?? 'condition'} not reached: ${JSON.stringify(last.status)}`,
        );
      await new Promise((r) => setTimeout(r, every));
    }
  }
}

/** All N replicas of the current generation ready (the "apply to all ready" finish line). */
export const allReady = (n: number) => (d: DeploymentObject) =>
  d.status.observedGeneration >= d.metadata.generation && d.status.readyReplicas >= n;

/** A finished rollout, Kubernetes' definition: every replica updated and available, no old ones left. */
export const rolledOut = (n: number) => (d: DeploymentObject) =>
  d.status.observedGeneration >= d.metadata.generation &&
  d.status.updatedReplicas === n &&
  d.status.replicas === n &&
  d.status.availableReplicas === n;

/** A Deployment of the test httpd image with the benchmark's readiness probe. */
export function httpdDeployment(o: {
  replicas: number;
  image?: string;
  maxSurge?: string | number;
  maxUnavailable?: string | number;
  app?: string;
  nodeSelector?: Record<string, string>;
  requests?: { cpu: string; memory: string };
  /** Readiness probe period (default 1, the benchmark's probe). */
  probePeriodSeconds?: number;
  /** Seconds a stopping replica keeps serving after leaving its service's endpoints (default 2). */
  drainDelaySeconds?: number;
}) {
  const app = o.app ?? 'web';
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { labels: { app } },
    spec: {
      replicas: o.replicas,
      template: {
        metadata: { labels: { app } },
        spec: {
          containers: [
            {
              name: 'web',
              image: o.image ?? 'berth-test/httpd:1',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: {
                httpGet: { path: '/healthz', port: 8080 },
                periodSeconds: o.probePeriodSeconds ?? 1,
              },
              ...(o.requests ? { resources: { requests: o.requests } } : {}),
            },
          ],
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
          ...(o.drainDelaySeconds !== undefined ? { drainDelaySeconds: o.drainDelaySeconds } : {}),
        },
      },
      ...(o.maxSurge !== undefined || o.maxUnavailable !== undefined
        ? {
            strategy: {
              type: 'RollingUpdate',
              rollingUpdate: { maxSurge: o.maxSurge ?? '25%', maxUnavailable: o.maxUnavailable ?? '25%' },
            },
          }
        : {}),
    },
  };
}
