import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { zodFieldErrors } from '../../../common/manifest.ts';
import { DEFAULT_POLICY, NamespacePolicyInput, type NamespacePolicySpec } from '../../../common/policy.ts';
import type { Certificate } from '../../../common/wire/certificate.ts';
import { createUi } from '../../../workers/ui/index.ts';

/**
 * A small in-memory stand-in for the control plane's JSON API (API.md shapes), with the
 * dashboard mounted at /ui. Rollouts advance one replica per tick, so a browser sees them move.
 * Used by the dashboard's browser tests for fast, deterministic checks of every page and of
 * error handling; the live test runs against the real server.
 */

export const STUB_TOKENS = {
  admin: 'stub-admin-token',
  viewer: 'stub-viewer-token',
  deployer: 'stub-deployer-token',
} as const;

interface Ctr {
  name: string;
  state: 'waiting' | 'running' | 'terminated';
  reason?: string;
  exitCode?: number;
  restartCount: number;
  ready?: boolean;
  hostPorts: { containerPort: number; hostPort: number }[];
}

interface Rep {
  id: string;
  revision: number;
  node: string;
  phase: string;
  ready: boolean;
  restartCount: number;
  hostPorts: { containerPort: number; hostPort: number }[];
  message: string;
  createdAt: string;
  containers?: Ctr[];
  initContainers?: Ctr[];
  /** The agent's last sample of its containers' usage. */
  usage?: { sampledAt: string; windowSeconds: number; containers: object[] };
  /** Log lines the stub answers for this replica (default: the app's "listening" lines). */
  logs?: string[];
  /** A Job's pod: the Job's name and, in an Indexed Job, its completion index. */
  job?: string;
  completionIndex?: number;
}

/** A Job as stored: its spec and status are kept in the API's own shape. */
interface StubJob {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
  createdAt: string;
  resourceVersion: number;
  pods: Rep[];
  /** A Job started here (Run now): the fake controller runs its one pod to success. */
  auto?: boolean;
}

interface StubCronJob {
  labels: Record<string, string>;
  spec: Record<string, unknown>;
  status: { lastScheduleTime?: string; lastSuccessfulTime?: string; active: { name: string }[] };
  createdAt: string;
  resourceVersion: number;
}

/** What a pod template has beyond its one app container, as the API shows it. */
interface PodExtras {
  initContainers?: { name: string; image: string; restartPolicy?: 'Always'; volumeMounts?: object[] }[];
  volumes?: object[];
  volumeMounts?: object[];
  /** The app container's requests and limits. */
  resources?: object;
}

interface Dep {
  name: string;
  namespace: string;
  replicas: number;
  image: string;
  revision: number;
  generation: number;
  observedGeneration: number;
  paused: boolean;
  createdAt: string;
  revisions: { revision: number; image: string; createdAt: string }[];
  reps: Rep[];
  deadlineExceeded: boolean;
  pod?: PodExtras;
  /** The fake controller leaves it as seeded (replicas in fixed states). */
  frozen?: boolean;
}

interface StubConfigMap {
  data: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
  resourceVersion: number;
  createdAt: string;
  updatedAt: string;
}

interface StubEvent {
  type: string;
  reason: string;
  message: string;
  object: string;
  createdAt: string;
}

export interface StubOptions {
  /** false: answer 404 on /v1/whoami, like a server that predates it. */
  whoami?: boolean;
  tickMs?: number;
  /**
   * An app that serves the dashboard under /ui (default: `createUi()` from source). Called
   * through `fetch`, as a runtime would, so it may come from another copy of Hono (a bundle).
   */
  ui?: { fetch: (req: Request) => Response | Promise<Response> };
}

export interface StubServer {
  url: string;
  /** Requests seen, for assertions about what the page sent. */
  requests: { method: string; path: string; auth: string | undefined; body?: unknown }[];
  close(): Promise<void>;
}

const NODES = [
  { name: 'vm-eu-1', cpu: 4, memoryBytes: 8 * 1024 ** 3, labels: { region: 'eu', disk: 'ssd' } },
  { name: 'vm-eu-2', cpu: 4, memoryBytes: 8 * 1024 ** 3, labels: { region: 'eu' } },
  { name: 'vm-us-1', cpu: 2, memoryBytes: 4 * 1024 ** 3, labels: { region: 'us' } },
];

function problem(
  c: Context,
  status: number,
  code: string,
  detail: string,
  errors?: { path: string; message: string }[],
) {
  return c.body(
    JSON.stringify({
      type: `https://berth.dev/problems/${code.toLowerCase()}`,
      title: code,
      status,
      detail,
      code,
      requestId: 'req-stub',
      ...(errors ? { errors } : {}),
    }),
    status as 400,
    { 'Content-Type': 'application/problem+json' },
  );
}

export function createStubApp(opts: StubOptions = {}) {
  const now = () => new Date().toISOString();
  const started = Date.now();
  const deps = new Map<string, Dep>();
  const events: (StubEvent & { namespace: string })[] = [];
  const cordoned = new Set<string>();
  const policies = new Map<
    string,
    {
      spec: NamespacePolicySpec;
      labels: Record<string, string>;
      resourceVersion: number;
      createdAt: string;
      updatedAt: string;
    }
  >();
  let seq = 0;
  const jobs = new Map<string, StubJob>();
  const cronJobs = new Map<string, StubCronJob>();

  const event = (ns: string, object: string, reason: string, message: string, type = 'Normal') =>
    events.push({ namespace: ns, type, reason, message, object, createdAt: now() });

  function addDeployment(
    ns: string,
    name: string,
    image: string,
    replicas: number,
    extra: Partial<Dep> = {},
  ) {
    const d: Dep = {
      name,
      namespace: ns,
      replicas,
      image,
      revision: 1,
      generation: 1,
      observedGeneration: 1,
      paused: false,
      createdAt: new Date(started - 3600_000).toISOString(),
      revisions: [{ revision: 1, image, createdAt: now() }],
      reps: [],
      deadlineExceeded: false,
      ...extra,
    };
    deps.set(`${ns}/${name}`, d);
    event(ns, `deployment/${name}`, 'ScalingReplicaSet', `Created deployment with ${replicas} replicas`);
    return d;
  }

  function nodeFor(d: Dep): string {
    const usable = NODES.filter((n) => !cordoned.has(n.name));
    const counts = usable.map((n) => d.reps.filter((r) => r.node === n.name).length);
    const i = counts.indexOf(Math.min(...counts));
    return usable[i]?.name ?? NODES[0]!.name;
  }

  function jobCondition(type: string, reason: string, message: string, at: string) {
    return { type, status: 'True', reason, message, lastProbeTime: at, lastTransitionTime: at };
  }

  /** One step of the fake controller: converge every deployment by one replica. */
  function step() {
    for (const [key, j] of jobs) {
      if (!j.auto) continue;
      const pod = j.pods[0];
      if (!pod) {
        const name = key.split('/')[1]!;
        j.pods.push({
          id: `${name}-${(++seq).toString(36).padStart(5, '0')}`,
          revision: 1,
          node: 'vm-eu-1',
          phase: 'Running',
          ready: true,
          restartCount: 0,
          hostPorts: [],
          message: '',
          createdAt: now(),
          job: name,
          logs: ['backing up 3 databases', 'backup written'],
        });
        Object.assign(j.status, { startTime: now(), active: 1, ready: 1 });
      } else if (pod.phase === 'Running') {
        Object.assign(pod, { phase: 'Succeeded', ready: false });
        const done = now();
        Object.assign(j.status, {
          completionTime: done,
          active: 0,
          ready: 0,
          succeeded: 1,
          conditions: [
            jobCondition('Complete', 'Completed', 'Reached expected number of succeeded pods', done),
          ],
        });
        j.auto = false;
      }
    }
    for (const d of deps.values()) {
      d.observedGeneration = d.generation;
      if (d.frozen) continue;
      const starting = d.reps.find((r) => r.phase !== 'Running' && r.phase !== 'Failed');
      if (starting) {
        starting.phase = 'Running';
        starting.ready = true;
        starting.message = '';
        continue;
      }
      if (d.deadlineExceeded) continue;
      const current = d.reps.filter((r) => r.revision === d.revision);
      const old = d.reps.filter((r) => r.revision !== d.revision);
      if (current.length < d.replicas && !(d.paused && old.length > 0)) {
        const id = `${d.name}-${(++seq).toString(36).padStart(5, '0')}`;
        d.reps.push({
          id,
          revision: d.revision,
          node: nodeFor(d),
          phase: 'Starting',
          ready: false,
          restartCount: 0,
          hostPorts: [{ containerPort: 8080, hostPort: 30000 + seq }],
          message: 'Starting container',
          createdAt: now(),
        });
        event(
          d.namespace,
          `deployment/${d.name}`,
          'ReplicaCreated',
          `Created replica ${id} (revision ${d.revision})`,
        );
      } else if (old.length && !d.paused) {
        const gone = old[0]!;
        d.reps = d.reps.filter((r) => r !== gone);
        event(d.namespace, `deployment/${d.name}`, 'ReplicaDeleted', `Stopped replica ${gone.id}`);
      } else if (current.length > d.replicas) {
        const gone = current[current.length - 1]!;
        d.reps = d.reps.filter((r) => r !== gone);
        event(d.namespace, `deployment/${d.name}`, 'ReplicaDeleted', `Stopped replica ${gone.id}`);
      }
    }
  }

  function template(d: Dep, image: string) {
    const { volumeMounts, resources, ...extras } = d.pod ?? {};
    return {
      ...extras,
      containers: [
        {
          name: d.name,
          image,
          ports: [{ name: 'http', containerPort: 8080 }],
          ...(volumeMounts ? { volumeMounts } : {}),
          ...(resources ? { resources } : {}),
        },
      ],
    };
  }

  function view(d: Dep) {
    const updated = d.reps.filter((r) => r.revision === d.revision);
    const ready = d.reps.filter((r) => r.ready).length;
    const available = ready;
    const done =
      updated.length === d.replicas && updated.every((r) => r.ready) && d.reps.length === d.replicas;
    const progressing = d.deadlineExceeded
      ? {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `Deployment "${d.name}" has exceeded its progress deadline`,
          lastTransitionTime: now(),
        }
      : {
          type: 'Progressing',
          status: 'True',
          reason: done ? 'NewRevisionAvailable' : 'ReplicaSetUpdated',
          message: done ? `Revision ${d.revision} is available` : `Rolling out revision ${d.revision}`,
          lastTransitionTime: d.createdAt,
        };
    return {
      apiVersion: 'berth.dev/v1',
      kind: 'Deployment',
      metadata: {
        name: d.name,
        namespace: d.namespace,
        uid: `uid-${d.name}`,
        labels: { app: d.name },
        resourceVersion: String(d.generation * 10 + d.reps.length),
        generation: d.generation,
        createdAt: d.createdAt,
        updatedAt: now(),
      },
      spec: {
        replicas: d.replicas,
        paused: d.paused,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: {
          metadata: { labels: { app: d.name } },
          spec: template(d, d.image),
        },
      },
      status: {
        observedGeneration: d.observedGeneration,
        replicas: d.reps.length,
        updatedReplicas: updated.length,
        readyReplicas: ready,
        availableReplicas: available,
        unavailableReplicas: Math.max(0, d.replicas - available),
        revision: d.revision,
        conditions: [
          {
            type: 'Available',
            status: available >= d.replicas ? 'True' : 'False',
            reason: available >= d.replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
            message: `${available} of ${d.replicas} replicas available`,
            lastTransitionTime: d.createdAt,
          },
          progressing,
        ],
      },
    };
  }

  type Role = { name: string; role: string; namespaces: string[] };
  const app = new Hono<{ Variables: { who: Role } }>();
  const requests: StubServer['requests'] = [];

  const roles: Record<string, Role> = {
    [STUB_TOKENS.admin]: { name: 'admin', role: 'admin', namespaces: ['*'] },
    [STUB_TOKENS.viewer]: { name: 'ci-viewer', role: 'viewer', namespaces: ['default'] },
    [STUB_TOKENS.deployer]: { name: 'ci-deploy', role: 'deployer', namespaces: ['default'] },
  };

  app.use('/v1/*', async (c, next) => {
    const auth = c.req.header('authorization');
    let body: unknown;
    if (c.req.method !== 'GET')
      body = await c.req.raw
        .clone()
        .json()
        .catch(() => undefined);
    requests.push({ method: c.req.method, path: c.req.path + (new URL(c.req.url).search || ''), auth, body });
    const who = auth?.startsWith('Bearer ') ? roles[auth.slice(7)] : undefined;
    if (!who) return problem(c, 401, 'UNAUTHENTICATED', 'Missing or unknown token.');
    c.set('who', who);
    const ns = c.req.path.match(/^\/v1\/namespaces\/([^/]+)/)?.[1];
    if (ns && !who.namespaces.includes('*') && !who.namespaces.includes(ns)) {
      return problem(c, 403, 'FORBIDDEN', `Token "${who.name}" may not use namespace "${ns}".`);
    }
    const write = c.req.method !== 'GET';
    if (write && who.role === 'viewer')
      return problem(c, 403, 'FORBIDDEN', 'A viewer token may not change anything.');
    if (write && c.req.path.startsWith('/v1/nodes') && who.role !== 'admin') {
      return problem(c, 403, 'FORBIDDEN', 'Only an admin token may manage nodes.');
    }
    await next();
  });

  app.get('/v1/whoami', (c) => {
    if (opts.whoami === false) return problem(c, 404, 'NOT_FOUND', 'No route GET /v1/whoami.');
    return c.json(c.get('who'));
  });

  app.get('/v1/namespaces', (c) => {
    // A server that predates whoami predates the namespace list too.
    if (opts.whoami === false) return problem(c, 404, 'NOT_FOUND', 'No route GET /v1/namespaces.');
    const who = c.get('who');
    const all = [...new Set([...deps.keys()].map((k) => k.split('/')[0]!))].sort();
    const visible = who.namespaces.includes('*') ? all : all.filter((n) => who.namespaces.includes(n));
    return c.json({ items: visible.map((name) => ({ name })) });
  });

  const dep = (c: Context) => deps.get(`${c.req.param('ns')}/${c.req.param('name')}`);
  const notFound = (c: Context) =>
    problem(
      c,
      404,
      'NOT_FOUND',
      `Deployment "${c.req.param('name')}" not found in namespace "${c.req.param('ns')}".`,
    );

  app.get('/v1/namespaces/:ns/deployments', (c) =>
    c.json({ items: [...deps.values()].filter((d) => d.namespace === c.req.param('ns')).map(view) }),
  );
  app.get('/v1/namespaces/:ns/deployments/:name', (c) => {
    const d = dep(c);
    return d ? c.json(view(d)) : notFound(c);
  });
  app.put('/v1/namespaces/:ns/deployments/:name/scale', async (c) => {
    const d = dep(c);
    if (!d) return notFound(c);
    const body = (await c.req.json().catch(() => null)) as { replicas?: unknown } | null;
    const n = body?.replicas;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 50) {
      return problem(c, 422, 'VALIDATION_FAILED', 'The request is invalid.', [
        { path: 'replicas', message: 'must be an integer between 0 and 50' },
      ]);
    }
    d.replicas = n;
    event(d.namespace, `deployment/${d.name}`, 'Scaled', `Scaled to ${n} replicas`);
    return c.json(view(d));
  });
  app.patch('/v1/namespaces/:ns/deployments/:name', async (c) => {
    const d = dep(c);
    if (!d) return notFound(c);
    const body = (await c.req.json()) as {
      spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
    };
    const image = body.spec?.template?.spec?.containers?.[0]?.image;
    if (image && image !== d.image) {
      d.image = image;
      d.generation++;
      d.revision = Math.max(...d.revisions.map((r) => r.revision)) + 1;
      d.revisions.push({ revision: d.revision, image, createdAt: now() });
    }
    return c.json(view(d));
  });
  app.post('/v1/namespaces/:ns/deployments/:name/rollback', async (c) => {
    const d = dep(c);
    if (!d) return notFound(c);
    const body = (await c.req.json().catch(() => ({}))) as { toRevision?: number };
    const target = d.revisions.find((r) => r.revision === body.toRevision);
    if (!target) {
      return problem(c, 422, 'VALIDATION_FAILED', `Revision ${body.toRevision} does not exist.`, [
        { path: 'toRevision', message: 'no such revision' },
      ]);
    }
    // As in Kubernetes: rolling back re-applies the old template as a new revision.
    d.image = target.image;
    d.generation++;
    d.revision = Math.max(...d.revisions.map((r) => r.revision)) + 1;
    d.revisions = d.revisions.filter((r) => r.revision !== target.revision);
    d.revisions.push({ revision: d.revision, image: target.image, createdAt: now() });
    event(d.namespace, `deployment/${d.name}`, 'RolledBack', `Rolled back to revision ${target.revision}`);
    return c.json(view(d));
  });
  for (const verb of ['pause', 'resume'] as const) {
    app.post(`/v1/namespaces/:ns/deployments/:name/${verb}`, (c) => {
      const d = dep(c);
      if (!d) return notFound(c);
      d.paused = verb === 'pause';
      event(d.namespace, `deployment/${d.name}`, verb === 'pause' ? 'Paused' : 'Resumed', `Rollout ${verb}d`);
      return c.json(view(d));
    });
  }
  app.get('/v1/namespaces/:ns/deployments/:name/revisions', (c) => {
    const d = dep(c);
    if (!d) return notFound(c);
    return c.json({
      items: d.revisions.map((r) => ({
        revision: r.revision,
        createdAt: r.createdAt,
        current: r.revision === d.revision,
        template: { spec: template(d, r.image) },
      })),
    });
  });
  app.get('/v1/namespaces/:ns/replicas', (c) => {
    const job = c.req.query('job');
    if (job !== undefined) return c.json({ items: jobs.get(`${c.req.param('ns')}/${job}`)?.pods ?? [] });
    const name = c.req.query('deployment');
    const items = [...deps.values()]
      .filter((d) => d.namespace === c.req.param('ns') && (!name || d.name === name))
      .flatMap((d) => d.reps);
    return c.json({ items });
  });
  app.get('/v1/namespaces/:ns/replicas/:id/logs', (c) => {
    const id = c.req.param('id');
    const rep = [
      ...[...deps.values()].flatMap((d) => d.reps),
      ...[...jobs.values()].flatMap((j) => j.pods),
    ].find((r) => r.id === id);
    if (!rep) return problem(c, 404, 'NOT_FOUND', `Replica "${id}" not found.`);
    const tail = Number(c.req.query('tail') ?? 100);
    if (rep.logs) return c.json({ lines: rep.logs.slice(-tail) });
    const lines = Array.from(
      { length: 12 },
      (_, i) => `2025-01-01T00:00:${String(i).padStart(2, '0')}Z ${id} listening on :8080 (line ${i + 1})`,
    );
    return c.json({ lines: lines.slice(-tail) });
  });
  app.get('/v1/namespaces/:ns/events', (c) => {
    const ns = c.req.param('ns');
    const object = c.req.query('object');
    return c.json({
      items: events
        .filter((e) => e.namespace === ns && (!object || e.object === object))
        .map(({ namespace: _ns, ...e }) => e),
    });
  });

  const configMaps = new Map<string, StubConfigMap>();
  const configMapOf = (ns: string, name: string, cm: StubConfigMap) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: ns,
      uid: `cm-${name}`,
      labels: { app: 'shop' },
      resourceVersion: String(cm.resourceVersion),
      generation: cm.resourceVersion,
      createdAt: cm.createdAt,
      updatedAt: cm.updatedAt,
    },
    data: cm.data,
    ...(cm.binaryData ? { binaryData: cm.binaryData } : {}),
    ...(cm.immutable ? { immutable: true } : {}),
  });
  app.get('/v1/namespaces/:ns/configmaps', (c) => {
    const ns = c.req.param('ns');
    const items = [...configMaps]
      .filter(([k]) => k.startsWith(`${ns}/`))
      .map(([k, cm]) => configMapOf(ns, k.slice(ns.length + 1), cm));
    return c.json({ items });
  });
  app.get('/v1/namespaces/:ns/configmaps/:name', (c) => {
    const { ns, name } = c.req.param();
    const cm = configMaps.get(`${ns}/${name}`);
    if (!cm) return problem(c, 404, 'NOT_FOUND', `configmap "${ns}/${name}" not found`);
    return c.json(configMapOf(ns, name, cm));
  });
  app.put('/v1/namespaces/:ns/configmaps/:name', async (c) => {
    const { ns, name } = c.req.param();
    const body = (await c.req.json()) as {
      data?: Record<string, string>;
      binaryData?: Record<string, string>;
    };
    const old = configMaps.get(`${ns}/${name}`);
    configMaps.set(`${ns}/${name}`, {
      data: body.data ?? {},
      binaryData: body.binaryData,
      resourceVersion: (old?.resourceVersion ?? 0) + 1,
      createdAt: old?.createdAt ?? now(),
      updatedAt: now(),
    });
    return c.json(configMapOf(ns, name, configMaps.get(`${ns}/${name}`)!), old ? 200 : 201);
  });

  // Services of default: `web` as a newer server sends it (type, cluster IP, node port), `db` as
  // a server without them; endpoints are the ready replicas of the deployment of that name.
  const meta = (ns: string, name: string) => ({
    name,
    namespace: ns,
    uid: `uid-${name}`,
    labels: {},
    resourceVersion: '1',
    generation: 1,
    createdAt: new Date(started - 1800_000).toISOString(),
    updatedAt: new Date(started - 1800_000).toISOString(),
  });
  const services = new Map<string, Record<string, unknown>>([
    [
      'default/web',
      {
        selector: { app: 'web' },
        type: 'NodePort',
        clusterIP: '10.43.0.17',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }],
        hosts: ['web.shop.example.com'],
      },
    ],
    [
      'default/db',
      { selector: { app: 'db' }, ports: [{ port: 5432, targetPort: 5432, protocol: 'TCP' }], hosts: [] },
    ],
  ]);
  app.get('/v1/namespaces/:ns/services', (c) => {
    const ns = c.req.param('ns');
    const items = [...services]
      .filter(([k]) => k.startsWith(`${ns}/`))
      .map(([k, spec]) => ({
        apiVersion: 'berth.dev/v1',
        kind: 'Service',
        metadata: meta(ns, k.slice(ns.length + 1)),
        spec,
      }));
    return c.json({ apiVersion: 'berth.dev/v1', kind: 'ServiceList', items });
  });
  app.get('/v1/namespaces/:ns/services/:name/endpoints', (c) => {
    const { ns, name } = c.req.param();
    if (!services.has(`${ns}/${name}`))
      return problem(c, 404, 'NOT_FOUND', `service "${ns}/${name}" not found`);
    const d = deps.get(`${ns}/${name}`);
    const items = (d?.reps ?? [])
      .filter((r) => r.ready)
      .map((r) => ({
        replica: r.id,
        deployment: name,
        revision: r.revision,
        node: r.node,
        address: `10.0.0.${NODES.findIndex((n) => n.name === r.node) + 1}`,
        port: r.hostPorts[0]?.hostPort ?? 0,
      }));
    return c.json({ service: name, namespace: ns, items });
  });
  app.get('/v1/namespaces/:ns/ingresses', (c) => {
    const ns = c.req.param('ns');
    const backend = (name: string, port: object) => ({ service: { name, port } });
    const items =
      ns === 'default'
        ? [
            {
              apiVersion: 'berth.dev/v1',
              kind: 'Ingress',
              metadata: meta(ns, 'shop'),
              spec: {
                ingressClassName: 'berth',
                rules: [
                  {
                    host: 'shop.example.com',
                    http: {
                      paths: [
                        { path: '/', pathType: 'Prefix', backend: backend('web', { number: 80 }) },
                        { path: '/healthz', pathType: 'Exact', backend: backend('web', { name: 'http' }) },
                      ],
                    },
                  },
                ],
              },
            },
          ]
        : [];
    return c.json({ items });
  });

  app.get('/v1/nodes', (c) => {
    const all = [...deps.values()].flatMap((d) => d.reps);
    return c.json({
      items: NODES.map((n, i) => {
        const mine = all.filter((r) => r.node === n.name).length;
        return {
          name: n.name,
          status: i === 2 ? 'NotReady' : 'Ready',
          lastHeartbeat: new Date(Date.now() - (i === 2 ? 95_000 : 2_000)).toISOString(),
          capacity: { cpu: n.cpu, memoryBytes: n.memoryBytes },
          allocatable: { cpu: n.cpu, memoryBytes: n.memoryBytes },
          allocated: { cpu: mine * 0.25, memoryBytes: mine * 256 * 1024 ** 2 },
          labels: { ...n.labels, 'berth.dev/node': n.name },
          address: `10.0.0.${i + 11}`,
          agentVersion: '0.1.0',
          unschedulable: cordoned.has(n.name),
        };
      }),
    });
  });
  // ACME certificates of service and ingress hosts: one served fine, one whose renewal keeps
  // failing while the old certificate is still served, and one in a namespace only admins read here.
  app.get('/v1/certificates', (c) => {
    if (opts.whoami === false) return problem(c, 404, 'NOT_FOUND', 'No route GET /v1/certificates.');
    const who = c.get('who');
    const at = (days: number) => new Date(started + days * 86_400_000 + 3_600_000).toISOString();
    const items: Certificate[] = [
      {
        host: 'web.shop.example.com',
        namespace: 'default',
        source: 'acme',
        status: 'Ready',
        issuer: 'Pebble Intermediate CA 1a2b3c',
        notBefore: at(-30),
        notAfter: at(60),
        nextAttemptAt: at(30),
        orders: 1,
        failures: 0,
        lastError: null,
      },
      {
        host: 'shop.example.com',
        namespace: 'default',
        source: 'acme',
        status: 'RenewalFailing',
        issuer: 'Pebble Intermediate CA 1a2b3c',
        notBefore: at(-78),
        notAfter: at(12),
        nextAttemptAt: new Date(started + 40 * 60_000).toISOString(),
        orders: 4,
        failures: 3,
        lastError: 'HTTP-01 challenge for shop.example.com failed: connection refused on port 80',
      },
      {
        host: 'reports.example.org',
        namespace: 'staging',
        source: 'acme',
        status: 'Pending',
        issuer: null,
        notBefore: null,
        notAfter: null,
        nextAttemptAt: at(0),
        orders: 0,
        failures: 0,
        lastError: null,
      },
    ];
    // As the server does: only the namespaces whose services the token may read.
    const visible = (ns: string) => who.namespaces.includes('*') || who.namespaces.includes(ns);
    return c.json({ items: items.filter((i) => visible(i.namespace)) });
  });
  // Namespace policies, validated with the server's own schema so a refusal names the same paths.
  const policyOf = (ns: string) => {
    const own = policies.get(ns);
    if (!own) {
      return {
        apiVersion: 'berth.dev/v1',
        kind: 'NamespacePolicy',
        metadata: { name: ns, namespace: ns, annotations: { 'berth.dev/default': 'true' } },
        spec: DEFAULT_POLICY,
      };
    }
    return {
      apiVersion: 'berth.dev/v1',
      kind: 'NamespacePolicy',
      metadata: {
        name: ns,
        namespace: ns,
        uid: `policy-${ns}`,
        labels: own.labels,
        resourceVersion: String(own.resourceVersion),
        generation: own.resourceVersion,
        createdAt: own.createdAt,
        updatedAt: own.updatedAt,
      },
      spec: own.spec,
    };
  };
  app.get('/v1/namespaces/:ns/policy', (c) => c.json(policyOf(c.req.param('ns'))));
  app.put('/v1/namespaces/:ns/policy', async (c) => {
    if (c.get('who').role !== 'admin')
      return problem(c, 403, 'FORBIDDEN', 'this action needs an admin token');
    const ns = c.req.param('ns');
    const body = await c.req.json().catch(() => undefined);
    if (body === undefined) return problem(c, 400, 'BAD_REQUEST', 'malformed JSON');
    const parsed = NamespacePolicyInput.safeParse(body);
    if (!parsed.success) {
      const errors = zodFieldErrors(parsed.error, [], body);
      return problem(c, 422, 'VALIDATION_FAILED', `${errors.length} problem(s) in the request body`, errors);
    }
    const existing = policies.get(ns);
    const sent = parsed.data.metadata.resourceVersion;
    if (sent !== undefined && sent !== String(existing?.resourceVersion)) {
      return problem(
        c,
        409,
        'CONFLICT',
        `namespace policy "${ns}" was modified (resourceVersion ${existing?.resourceVersion}, you sent ${sent}); read it again and retry`,
      );
    }
    policies.set(ns, {
      spec: parsed.data.spec,
      labels: parsed.data.metadata.labels ?? {},
      resourceVersion: (existing?.resourceVersion ?? 0) + 1,
      createdAt: existing?.createdAt ?? now(),
      updatedAt: now(),
    });
    return c.json(policyOf(ns), existing ? 200 : 201);
  });
  app.get('/v1/policies', (c) => {
    if (c.get('who').role !== 'admin')
      return problem(c, 403, 'FORBIDDEN', 'this action needs an admin token');
    return c.json({
      apiVersion: 'berth.dev/v1',
      kind: 'NamespacePolicyList',
      items: [...policies.keys()].sort().map(policyOf),
    });
  });

  // Jobs and CronJobs, batch/v1 shapes (API.md). A Job's pods are Rep objects with `job` set.
  const jobOf = (ns: string, name: string, j: StubJob) => ({
    apiVersion: 'berth.dev/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: ns,
      uid: `job-${name}`,
      labels: j.metadata.labels,
      ...(j.metadata.annotations ? { annotations: j.metadata.annotations } : {}),
      resourceVersion: String(j.resourceVersion),
      generation: 1,
      createdAt: j.createdAt,
      updatedAt: j.createdAt,
    },
    spec: { ...j.spec, selector: { matchLabels: { 'batch.kubernetes.io/job-name': name } } },
    status: j.status,
  });
  const cronJobOf = (ns: string, name: string, cj: StubCronJob) => ({
    apiVersion: 'berth.dev/v1',
    kind: 'CronJob',
    metadata: {
      name,
      namespace: ns,
      uid: `cronjob-${name}`,
      labels: cj.labels,
      resourceVersion: String(cj.resourceVersion),
      generation: cj.resourceVersion,
      createdAt: cj.createdAt,
      updatedAt: cj.createdAt,
    },
    spec: cj.spec,
    status: cj.status,
  });
  app.get('/v1/namespaces/:ns/jobs', (c) => {
    const ns = c.req.param('ns');
    // `key=value` selectors only, which is all the dashboard sends.
    const [k, v] = (c.req.query('labelSelector') ?? '').split('=');
    const items = [...jobs]
      .filter(([key, j]) => key.startsWith(`${ns}/`) && (!k || j.metadata.labels[k] === v))
      .map(([key, j]) => jobOf(ns, key.slice(ns.length + 1), j));
    return c.json({ items });
  });
  app.get('/v1/namespaces/:ns/jobs/:name', (c) => {
    const { ns, name } = c.req.param();
    const j = jobs.get(`${ns}/${name}`);
    return j ? c.json(jobOf(ns, name, j)) : problem(c, 404, 'NOT_FOUND', `job "${ns}/${name}" not found`);
  });
  app.put('/v1/namespaces/:ns/jobs/:name', async (c) => {
    const { ns, name } = c.req.param();
    const body = (await c.req.json().catch(() => null)) as {
      metadata?: StubJob['metadata'];
      spec?: Record<string, unknown>;
    } | null;
    if (!body?.spec || typeof body.spec.template !== 'object')
      return problem(c, 422, 'VALIDATION_FAILED', 'The request is invalid.', [
        { path: 'spec.template', message: 'is required' },
      ]);
    // As the server: a Job's selector is its own to set.
    if (body.spec.selector !== undefined)
      return problem(c, 422, 'VALIDATION_FAILED', 'The request is invalid.', [
        { path: 'spec.selector', message: 'is not supported by Berth: a Job selects its own pods' },
      ]);
    if (jobs.has(`${ns}/${name}`))
      return problem(c, 422, 'VALIDATION_FAILED', 'A Job’s template cannot change.', [
        { path: 'spec.template', message: 'is immutable' },
      ]);
    jobs.set(`${ns}/${name}`, {
      metadata: { labels: body.metadata?.labels ?? {}, annotations: body.metadata?.annotations },
      spec: body.spec,
      status: { active: 0, ready: 0, terminating: 0, succeeded: 0, failed: 0, conditions: [] },
      createdAt: now(),
      resourceVersion: 1,
      pods: [],
      auto: true,
    });
    return c.json(jobOf(ns, name, jobs.get(`${ns}/${name}`)!), 201);
  });
  app.delete('/v1/namespaces/:ns/jobs/:name', (c) => {
    const { ns, name } = c.req.param();
    const j = jobs.get(`${ns}/${name}`);
    if (!j) return problem(c, 404, 'NOT_FOUND', `job "${ns}/${name}" not found`);
    jobs.delete(`${ns}/${name}`);
    return c.json(jobOf(ns, name, j));
  });
  app.get('/v1/namespaces/:ns/cronjobs', (c) => {
    const ns = c.req.param('ns');
    const items = [...cronJobs]
      .filter(([key]) => key.startsWith(`${ns}/`))
      .map(([key, cj]) => cronJobOf(ns, key.slice(ns.length + 1), cj));
    return c.json({ items });
  });
  app.get('/v1/namespaces/:ns/cronjobs/:name', (c) => {
    const { ns, name } = c.req.param();
    const cj = cronJobs.get(`${ns}/${name}`);
    return cj
      ? c.json(cronJobOf(ns, name, cj))
      : problem(c, 404, 'NOT_FOUND', `cronjob "${ns}/${name}" not found`);
  });
  // Replaces the spec, as the server does; only what the dashboard sends is checked.
  app.put('/v1/namespaces/:ns/cronjobs/:name', async (c) => {
    const { ns, name } = c.req.param();
    const cj = cronJobs.get(`${ns}/${name}`);
    if (!cj) return problem(c, 404, 'NOT_FOUND', `cronjob "${ns}/${name}" not found`);
    const body = (await c.req.json().catch(() => null)) as {
      apiVersion?: string;
      metadata?: { resourceVersion?: string };
      spec?: Record<string, unknown>;
    } | null;
    if (body?.apiVersion !== undefined && body.apiVersion !== 'berth.dev/v1')
      return problem(c, 422, 'VALIDATION_FAILED', 'The request is invalid.', [
        { path: 'apiVersion', message: 'must be berth.dev/v1' },
      ]);
    const sent = body?.metadata?.resourceVersion;
    if (sent !== undefined && sent !== String(cj.resourceVersion))
      return problem(
        c,
        409,
        'CONFLICT',
        `cronjob "${ns}/${name}" was modified (resourceVersion ${cj.resourceVersion}, you sent ${sent}); read it again and retry`,
      );
    if (typeof body?.spec?.schedule !== 'string' || typeof body.spec.suspend !== 'boolean')
      return problem(c, 422, 'VALIDATION_FAILED', 'The request is invalid.', [
        { path: 'spec.schedule', message: 'is required' },
      ]);
    cj.spec = body.spec;
    cj.resourceVersion++;
    return c.json(cronJobOf(ns, name, cj));
  });

  for (const verb of ['cordon', 'uncordon', 'drain'] as const) {
    app.post(`/v1/nodes/:name/${verb}`, (c) => {
      const name = c.req.param('name');
      if (!NODES.some((n) => n.name === name))
        return problem(c, 404, 'NOT_FOUND', `Node "${name}" not found.`);
      if (verb === 'uncordon') cordoned.delete(name);
      else cordoned.add(name);
      return c.json({ name, unschedulable: verb !== 'uncordon' });
    });
  }

  const ui = opts.ui;
  if (ui) {
    app.all('/ui', (c) => ui.fetch(c.req.raw));
    app.all('/ui/*', (c) => ui.fetch(c.req.raw));
  } else {
    app.route('/ui', createUi());
  }

  // Seed: a healthy deployment mid-rollout, a paused one, a stuck one.
  addDeployment('default', 'web', 'registry.example.com/web:1.4.2', 3, {
    revisions: [
      {
        revision: 1,
        image: 'registry.example.com/web:1.4.1',
        createdAt: new Date(started - 7200_000).toISOString(),
      },
    ],
    image: 'registry.example.com/web:1.4.1',
  });
  const web = deps.get('default/web')!;
  web.revisions.push({ revision: 2, image: 'registry.example.com/web:1.4.2', createdAt: now() });
  web.image = 'registry.example.com/web:1.4.2';
  web.revision = 2;
  web.generation = 2;
  const api = addDeployment('default', 'api', 'registry.example.com/api:2.0.0', 2);
  api.paused = true;
  const worker = addDeployment('default', 'worker', 'registry.example.com/worker:0.9.0', 1);
  worker.deadlineExceeded = true;
  worker.reps.push({
    id: 'worker-crash1',
    revision: 1,
    node: 'vm-eu-2',
    phase: 'Failed',
    ready: false,
    restartCount: 7,
    hostPorts: [],
    message: 'Back-off restarting failed container (exit code 1)',
    createdAt: now(),
  });
  event(
    'default',
    'deployment/worker',
    'ProgressDeadlineExceeded',
    'Rollout did not progress in 600s',
    'Warning',
  );
  addDeployment('default', 'queue', 'registry.example.com/queue:3.1.0', 2);
  // A pod with an init container, a native sidecar and volumes, its replicas in fixed states.
  const shop = addDeployment('default', 'shop', 'registry.example.com/shop:1.0.0', 3, {
    frozen: true,
    pod: {
      initContainers: [
        {
          name: 'migrate',
          image: 'registry.example.com/shop-migrate:1.0.0',
          volumeMounts: [{ name: 'config', mountPath: '/etc/shop', readOnly: true }],
        },
        {
          name: 'log-shipper',
          image: 'registry.example.com/shipper:2.1',
          restartPolicy: 'Always',
          volumeMounts: [{ name: 'cache', mountPath: '/var/log/shop' }],
        },
      ],
      volumes: [
        { name: 'cache', emptyDir: {} },
        { name: 'config', configMap: { name: 'shop-config' } },
        { name: 'tls', secret: { secretName: 'shop-tls', defaultMode: 256 } },
      ],
      volumeMounts: [
        { name: 'cache', mountPath: '/var/log/shop' },
        { name: 'config', mountPath: '/etc/shop/app.properties', subPath: 'app.properties' },
        { name: 'tls', mountPath: '/etc/tls', readOnly: true },
      ],
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    },
  });
  const ctr = (name: string, state: Ctr['state'], more: Partial<Ctr> = {}): Ctr => ({
    name,
    state,
    restartCount: 0,
    hostPorts: [],
    ...more,
  });
  const shopRep = (id: string, more: Partial<Rep>): Rep => ({
    id,
    revision: 1,
    node: 'vm-eu-1',
    phase: 'Starting',
    ready: false,
    restartCount: 0,
    hostPorts: [],
    message: '',
    createdAt: now(),
    ...more,
  });
  shop.reps.push(
    shopRep('shop-running', {
      phase: 'Running',
      ready: true,
      initContainers: [
        ctr('migrate', 'terminated', { reason: 'Completed', exitCode: 0 }),
        ctr('log-shipper', 'running', { ready: true }),
      ],
      containers: [ctr('shop', 'running', { ready: true })],
      usage: {
        sampledAt: now(),
        windowSeconds: 15,
        containers: [
          { name: 'shop', cpuNanoCores: 24_000_000, memoryBytes: 120 * 1024 ** 2 },
          { name: 'log-shipper', cpuNanoCores: 2_000_000, memoryBytes: 9 * 1024 ** 2 },
        ],
      },
      logs: [
        '[migrate] applied 3 migrations',
        '[log-shipper] shipping /var/log/shop',
        '[shop] listening on :8080',
        '[log-shipper] shipped 12 lines',
      ],
    }),
    shopRep('shop-initing', {
      node: 'vm-eu-2',
      message: 'Init:1/2',
      initContainers: [
        ctr('migrate', 'terminated', { reason: 'Completed', exitCode: 0 }),
        ctr('log-shipper', 'running', { ready: false }),
      ],
      containers: [ctr('shop', 'waiting', { reason: 'PodInitializing' })],
      logs: ['[migrate] applied 3 migrations', '[log-shipper] starting'],
    }),
    shopRep('shop-crashing', {
      message: 'Init:0/2: back-off 40s restarting failed container migrate (exit code 1)',
      restartCount: 3,
      initContainers: [
        ctr('migrate', 'waiting', { reason: 'CrashLoopBackOff', exitCode: 1, restartCount: 3 }),
        ctr('log-shipper', 'waiting'),
      ],
      containers: [ctr('shop', 'waiting', { reason: 'PodInitializing' })],
      logs: ['migrate: connecting to db:5432', 'migrate: connection refused'],
    }),
  );
  configMaps.set('default/shop-config', {
    data: { 'app.properties': 'color=blue\nmode=fast\n', LOG_LEVEL: 'info' },
    // 300 bytes, listed by size only.
    binaryData: { 'logo.png': Buffer.alloc(300, 7).toString('base64') },
    resourceVersion: 1,
    createdAt: new Date(started - 600_000).toISOString(),
    updatedAt: new Date(started - 600_000).toISOString(),
  });
  configMaps.set('default/feature-flags', {
    data: { 'flags.json': '{"beta":true}' },
    immutable: true,
    resourceVersion: 1,
    createdAt: new Date(started - 60_000).toISOString(),
    updatedAt: new Date(started - 60_000).toISOString(),
  });
  addDeployment('staging', 'web', 'registry.example.com/web:1.5.0-rc.1', 1);
  // default has a policy of its own; staging has the default.
  policies.set('default', {
    spec: NamespacePolicyInput.parse({
      spec: {
        allowedHostSuffixes: ['shop.example.com'],
        hostPorts: { min: 30000, max: 30100 },
        quota: { replicas: 20 },
        defaultLimits: { memory: '512Mi' },
      },
    }).spec,
    labels: {},
    resourceVersion: 1,
    createdAt: new Date(started - 3600_000).toISOString(),
    updatedAt: new Date(started - 3600_000).toISOString(),
  });

  seedJobs();

  return { app, requests, step, deps };

  /**
   * Jobs of default in each state kubectl names: a CronJob's finished run and its failed one, an
   * Indexed Job mid-way, and a suspended Job; two CronJobs, one of them suspended.
   */
  function seedJobs() {
    const ago = (s: number) => new Date(started - s * 1000).toISOString();
    const template = (image: string, args: string[]) => ({
      metadata: {},
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image, args }] },
    });
    const backupSpec = {
      template: template('registry.example.com/backup:1.2', ['--all']),
      completions: 1,
      parallelism: 1,
      backoffLimit: 1,
      completionMode: 'NonIndexed',
      suspend: false,
    };
    const pod = (
      id: string,
      job: string,
      phase: string,
      createdAt: string,
      more: Partial<Rep> = {},
    ): Rep => ({
      id,
      revision: 1,
      node: 'vm-eu-1',
      phase,
      ready: phase === 'Running',
      restartCount: 0,
      hostPorts: [],
      message: '',
      createdAt,
      job,
      containers: [
        phase === 'Running'
          ? { name: 'main', state: 'running', restartCount: 0, ready: true, hostPorts: [] }
          : {
              name: 'main',
              state: 'terminated',
              reason: phase === 'Succeeded' ? 'Completed' : 'Error',
              exitCode: phase === 'Succeeded' ? 0 : 2,
              restartCount: 0,
              hostPorts: [],
            },
      ],
      ...more,
    });
    const fromCron = { 'berth.dev/cronjob': 'nightly-backup' };
    jobs.set('default/nightly-backup-29001', {
      metadata: { labels: fromCron },
      spec: backupSpec,
      status: {
        startTime: ago(7200),
        completionTime: ago(7200 - 95),
        active: 0,
        ready: 0,
        terminating: 0,
        succeeded: 1,
        failed: 0,
        conditions: [
          jobCondition('Complete', 'Completed', 'Reached expected number of succeeded pods', ago(7105)),
        ],
      },
      createdAt: ago(7200),
      resourceVersion: 3,
      pods: [
        pod('nightly-backup-29001-k2x8d', 'nightly-backup-29001', 'Succeeded', ago(7200), {
          logs: ['backing up 3 databases', 'backup written to s3://backups/29001'],
        }),
      ],
    });
    jobs.set('default/nightly-backup-29002', {
      metadata: { labels: fromCron },
      spec: backupSpec,
      status: {
        startTime: ago(600),
        completionTime: ago(540),
        active: 0,
        ready: 0,
        terminating: 0,
        succeeded: 0,
        failed: 2,
        conditions: [
          jobCondition(
            'Failed',
            'BackoffLimitExceeded',
            'Job has reached the specified backoff limit',
            ago(540),
          ),
        ],
      },
      createdAt: ago(600),
      resourceVersion: 4,
      pods: [
        pod('nightly-backup-29002-a1b2c', 'nightly-backup-29002', 'Failed', ago(600), {
          logs: ['backing up 3 databases', 'error: db-2 unreachable'],
        }),
        pod('nightly-backup-29002-d3e4f', 'nightly-backup-29002', 'Failed', ago(570), {
          logs: ['backing up 3 databases', 'error: db-2 unreachable (retry)'],
        }),
      ],
    });
    event(
      'default',
      'job/nightly-backup-29002',
      'BackoffLimitExceeded',
      'Job has reached the specified backoff limit',
      'Warning',
    );
    jobs.set('default/render', {
      metadata: { labels: { app: 'render' } },
      spec: {
        template: template('registry.example.com/render:4', ['--frames=3']),
        completions: 3,
        parallelism: 2,
        backoffLimit: 6,
        activeDeadlineSeconds: 3600,
        completionMode: 'Indexed',
        suspend: false,
      },
      status: {
        startTime: ago(300),
        active: 2,
        ready: 2,
        terminating: 0,
        succeeded: 1,
        failed: 0,
        completedIndexes: '0',
        conditions: [],
      },
      createdAt: ago(300),
      resourceVersion: 5,
      pods: [
        pod('render-0-q9w8e', 'render', 'Succeeded', ago(300), {
          completionIndex: 0,
          logs: ['rendering frame 0', 'frame 0 done'],
        }),
        pod('render-1-r7t6y', 'render', 'Running', ago(299), { completionIndex: 1, node: 'vm-eu-2' }),
        pod('render-2-u5i4o', 'render', 'Running', ago(120), { completionIndex: 2, node: 'vm-us-1' }),
      ],
    });
    jobs.set('default/reindex', {
      metadata: { labels: {} },
      spec: {
        template: template('registry.example.com/search:2', ['reindex']),
        parallelism: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: true,
      },
      status: {
        active: 0,
        ready: 0,
        terminating: 0,
        succeeded: 0,
        failed: 0,
        conditions: [jobCondition('Suspended', 'JobSuspended', 'Job suspended', ago(60))],
      },
      createdAt: ago(60),
      resourceVersion: 2,
      pods: [],
    });
    cronJobs.set('default/nightly-backup', {
      labels: { app: 'backup' },
      spec: {
        schedule: '0 3 * * *',
        timeZone: 'Europe/Berlin',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 300,
        suspend: false,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        jobTemplate: { metadata: { labels: { app: 'backup' } }, spec: backupSpec },
      },
      status: { lastScheduleTime: ago(600), lastSuccessfulTime: ago(7105), active: [] },
      createdAt: ago(86400 * 3),
      resourceVersion: 7,
    });
    cronJobs.set('default/weekly-report', {
      labels: {},
      spec: {
        schedule: '0 8 * * 1',
        concurrencyPolicy: 'Allow',
        suspend: true,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        jobTemplate: {
          spec: { ...backupSpec, template: template('registry.example.com/report:1', []) },
        },
      },
      status: { active: [] },
      createdAt: ago(86400),
      resourceVersion: 1,
    });
  }
}

/** Starts the stub on a free port. `tickMs` paces the fake controller. */
export async function startStubServer(opts: StubOptions = {}): Promise<StubServer> {
  const stub = createStubApp(opts);
  const timer = setInterval(stub.step, opts.tickMs ?? 300);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: stub.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: stub.requests,
    close: async () => {
      clearInterval(timer);
      // Pages still open in the browser poll over keep-alive connections, which would hold
      // close() open for as long as they keep polling.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      (server as Server).closeAllConnections();
      await closed;
    },
  };
}
