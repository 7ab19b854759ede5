import { formatMemory } from '../../common/quantity.ts';
import { replicaPhase } from '../../common/replica-phase.ts';
import { assessRollout } from '../../common/rollout.ts';
import { taintText } from '../../common/scheduling.ts';
import { objectRef, type ResourceKind, resourceKind } from '../args.ts';
import { certificateView } from '../certificate-view.ts';
import { ApiError, type BerthClient } from '../client.ts';
import type { Command, CommandContext } from '../command.ts';
import { cronJobView } from '../cron-job-view.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';
import {
  deploymentContainers,
  deploymentImages,
  formatAge,
  formatHostPorts,
  formatLabels,
  formatPortRange,
  formatQuota,
} from '../format.ts';
import { jobView } from '../job-view.ts';
import { type OutputFormat, outputFormat, printData } from '../output.ts';
import { isDefaultPolicy } from '../policy-edit.ts';
import type {
  ConfigMap,
  CronJob,
  Deployment,
  Endpoint,
  Event,
  Ingress,
  Job,
  NamespacePolicy,
  Node,
  PersistentVolumeClaim,
  Replica,
  Revision,
  Secret,
  Service,
  ServiceAccount,
  TrustRule,
} from '../resources.ts';
import { type Cell, renderTable } from '../table.ts';

/** A table view of one kind: columns for -o table, more for -o wide. */
interface View<T> {
  kind: string;
  /** When not `${kind}s`. */
  plural?: string;
  headers: string[];
  wide: string[];
  row: (item: T, now: Date) => Cell[];
  wideRow: (item: T, now: Date) => Cell[];
  name: (item: T) => string;
}

export const deploymentView: View<Deployment> = {
  kind: 'deployment',
  headers: ['name', 'ready', 'up-to-date', 'available', 'revision', 'age'],
  wide: ['rollout', 'containers', 'images', 'selector'],
  row: (d, now) => [
    d.metadata?.name,
    `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
    d.status?.updatedReplicas ?? 0,
    d.status?.availableReplicas ?? 0,
    d.status?.revision,
    formatAge(d.metadata?.createdAt, now),
  ],
  wideRow: (d) => [
    assessRollout(d).phase,
    deploymentContainers(d),
    deploymentImages(d),
    formatLabels(d.spec?.selector?.matchLabels ?? d.spec?.template?.metadata?.labels),
  ],
  name: (d) => d.metadata?.name ?? '',
};

export const replicaView: View<Replica> = {
  kind: 'replica',
  headers: ['name', 'deployment', 'revision', 'node', 'phase', 'ready', 'restarts', 'age'],
  wide: ['host-ports', 'message'],
  row: (r, now) => [
    r.id,
    r.deployment,
    r.revision,
    r.node,
    replicaPhase(r),
    r.ready ? 'true' : 'false',
    r.restartCount ?? 0,
    formatAge(r.createdAt, now),
  ],
  wideRow: (r) => [formatHostPorts(r.hostPorts), r.message],
  name: (r) => r.id ?? '',
};

const nodeName = (n: Node) => n.name ?? '';
const nodeStatus = (n: Node) => `${n.status ?? 'Unknown'}${n.unschedulable ? ',SchedulingDisabled' : ''}`;
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
const cpu = (r: { cpu?: number } | undefined) => num(r?.cpu);
const mem = (r: { memoryBytes?: number } | undefined) => num(r?.memoryBytes);
const fraction = (used: number | undefined, total: number | undefined, fmt: (n: number) => string) =>
  total === undefined ? undefined : `${used === undefined ? '?' : fmt(used)}/${fmt(total)}`;
const cores = (n: number) => String(Math.round(n * 100) / 100);

export const nodeView: View<Node> = {
  kind: 'node',
  headers: ['name', 'status', 'address', 'cpu', 'memory', 'age', 'version'],
  wide: ['labels', 'last-heartbeat', 'taints'],
  row: (n, now) => [
    nodeName(n),
    nodeStatus(n),
    n.address,
    fraction(cpu(n.allocated), cpu(n.allocatable ?? n.capacity), cores),
    fraction(mem(n.allocated), mem(n.allocatable ?? n.capacity), formatMemory),
    formatAge(n.createdAt, now),
    n.agentVersion,
  ],
  wideRow: (n, now) => [
    formatLabels(n.labels),
    n.lastHeartbeat ? `${formatAge(n.lastHeartbeat, now)} ago` : undefined,
    (n.taints ?? []).map(taintText).join(','),
  ],
  name: nodeName,
};

/** kubectl's PORT(S): `80/TCP`, with the node port `80:30080/TCP`. */
const servicePorts = (s: Service) =>
  (s.spec?.ports ?? [])
    .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
    .join(',');

/** kubectl's EXTERNAL-IP: the CNAME of an ExternalName; a LoadBalancer's hosts (its ingress names). */
function externalIP(s: Service): string | undefined {
  if (s.spec?.type === 'ExternalName') return s.spec.externalName;
  if (s.spec?.type === 'LoadBalancer') return (s.spec.hosts ?? []).join(',') || '<pending>';
  return undefined;
}

/** As kubectl's columns; -o wide adds the selector and the hosts the ingress routes. */
export const serviceView: View<Service> = {
  kind: 'service',
  headers: ['name', 'type', 'cluster-ip', 'external-ip', 'port(s)', 'age'],
  wide: ['selector', 'hosts'],
  row: (s, now) => [
    s.metadata?.name,
    s.spec?.type ?? 'ClusterIP',
    s.spec?.clusterIP,
    externalIP(s),
    servicePorts(s),
    formatAge(s.metadata?.createdAt, now),
  ],
  wideRow: (s) => [formatLabels(s.spec?.selector), (s.spec?.hosts ?? []).join(',')],
  name: (s) => s.metadata?.name ?? '',
};

/** A service's endpoints, with the service's age (Berth keeps no Endpoints object of its own). */
export interface ServiceEndpoints {
  name: string;
  createdAt?: string | undefined;
  items: Endpoint[];
}

/** Each ready replica's `node address:published port`, for every service port it publishes. */
const endpointAddresses = (e: Endpoint) =>
  e.ports?.length ? e.ports.map((p) => `${e.address}:${p.hostPort}`) : [`${e.address}:${e.port}`];

/** As kubectl: the first three addresses, then how many more. */
function formatEndpoints(items: Endpoint[]): string | undefined {
  const all = items.flatMap(endpointAddresses);
  if (all.length === 0) return undefined;
  const shown = all.slice(0, 3).join(',');
  return all.length > 3 ? `${shown} + ${all.length - 3} more...` : shown;
}

export const endpointsView: View<ServiceEndpoints> = {
  kind: 'endpoints',
  headers: ['name', 'endpoints', 'age'],
  wide: ['nodes'],
  row: (e, now) => [e.name, formatEndpoints(e.items), formatAge(e.createdAt, now)],
  wideRow: (e) => [[...new Set(e.items.map((i) => i.node))].join(',')],
  name: (e) => e.name,
};

const secretKeys = (s: Secret) => s.keys ?? [];

export const secretView: View<Secret> = {
  kind: 'secret',
  headers: ['name', 'type', 'keys', 'age'],
  wide: [],
  row: (s, now) => [s.metadata?.name, s.type, secretKeys(s).join(','), formatAge(s.metadata?.createdAt, now)],
  wideRow: () => [],
  name: (s) => s.metadata?.name ?? '',
};

const configMapKeys = (m: ConfigMap) => [...Object.keys(m.data ?? {}), ...Object.keys(m.binaryData ?? {})];

/** As kubectl: the number of keys; -o wide names them. */
export const configMapView: View<ConfigMap> = {
  kind: 'configmap',
  headers: ['name', 'data', 'age'],
  wide: ['keys', 'immutable'],
  row: (m, now) => [m.metadata?.name, configMapKeys(m).length, formatAge(m.metadata?.createdAt, now)],
  wideRow: (m) => [configMapKeys(m).join(','), m.immutable ? 'true' : 'false'],
  name: (m) => m.metadata?.name ?? '',
};

/**
 * As kubectl's columns: a claim in use that was deleted shows Terminating; NODE is where its
 * volume is (Berth's claims are node-local); CAPACITY once bound.
 */
export const claimView: View<PersistentVolumeClaim> = {
  kind: 'persistentvolumeclaim',
  headers: ['name', 'status', 'node', 'capacity', 'access modes', 'storageclass', 'age'],
  wide: ['volumemode'],
  row: (c, now) => [
    c.metadata?.name,
    c.metadata?.deletionTimestamp ? 'Terminating' : c.status?.phase,
    c.status?.nodeName,
    c.status?.capacity?.storage,
    (c.spec?.accessModes ?? []).map((m) => ACCESS_MODES[m] ?? m).join(','),
    c.spec?.storageClassName,
    formatAge(c.metadata?.createdAt, now),
  ],
  wideRow: (c) => [c.spec?.volumeMode],
  name: (c) => c.metadata?.name ?? '',
};
/** kubectl's short forms of access modes. */
const ACCESS_MODES: Record<string, string> = { ReadWriteOnce: 'RWO', ReadWriteOncePod: 'RWOP' };
/** As kubectl, without its SECRETS column: Berth mounts no token. */
export const serviceAccountView: View<ServiceAccount> = {
  kind: 'serviceaccount',
  headers: ['name', 'age'],
  wide: ['automount'],
  row: (a, now) => [a.metadata?.name, formatAge(a.metadata?.createdAt, now)],
  wideRow: (a) => [
    a.automountServiceAccountToken === undefined ? '' : String(a.automountServiceAccountToken),
  ],
  name: (a) => a.metadata?.name ?? '',
};

export const eventView: View<Event> = {
  kind: 'event',
  headers: ['age', 'type', 'reason', 'object', 'message'],
  wide: [],
  row: (e, now) => [formatAge(e.createdAt, now), e.type, e.reason, e.object, e.message],
  wideRow: () => [],
  name: (e) => String(e.id ?? ''),
};

export const revisionView: View<Revision> = {
  kind: 'revision',
  headers: ['revision', 'images', 'age', 'current'],
  wide: [],
  row: (r, now) => [
    r.revision,
    (r.template?.spec?.containers ?? []).map((c) => `${c.name}=${c.image}`).join(','),
    formatAge(r.createdAt, now),
    r.current === undefined ? undefined : r.current ? 'yes' : 'no',
  ],
  wideRow: () => [],
  name: (r) => String(r.revision ?? ''),
};

/** A namespace's policy: what its deployers may claim and what its workloads may use. */
export const policyView: View<NamespacePolicy> = {
  kind: 'policy',
  headers: ['namespace', 'host-suffixes', 'wildcards', 'host-ports', 'quota', 'default-memory-limit'],
  wide: ['age', 'service-traffic-from'],
  row: (p) => [
    p.metadata?.namespace ?? p.metadata?.name,
    (p.spec?.allowedHostSuffixes ?? []).join(','),
    p.spec?.allowWildcardHosts ? 'true' : 'false',
    formatPortRange(p.spec?.hostPorts),
    formatQuota(p.spec?.quota),
    p.spec?.defaultLimits?.memory ?? undefined,
  ],
  // The default policy is not stored, so it has no age.
  wideRow: (p, now) => [
    p.metadata?.createdAt ? formatAge(p.metadata.createdAt, now) : undefined,
    // Absent is every namespace; an empty list is the namespace's own only.
    (p.spec?.acceptServiceTrafficFrom ?? ['*']).join(',') || '<own>',
  ],
  name: (p) => p.metadata?.namespace ?? p.metadata?.name ?? '',
};

/** `kinded`: names read `service/web`, as kubectl prints them when it lists several kinds. */
export function renderView<T>(
  view: View<T>,
  items: T[],
  format: 'table' | 'wide',
  now: Date,
  kinded = false,
): string {
  const headers = format === 'wide' ? [...view.headers, ...view.wide] : view.headers;
  return renderTable(
    headers,
    items.map((item) => {
      const row =
        format === 'wide' ? [...view.row(item, now), ...view.wideRow(item, now)] : view.row(item, now);
      return kinded ? [`${view.kind}/${row[0] ?? ''}`, ...row.slice(1)] : row;
    }),
  );
}

export function print<T>(
  ctx: CommandContext,
  format: OutputFormat,
  view: View<T>,
  data: T[] | T,
  ns: string,
  kinded = false,
): number {
  const single = !Array.isArray(data);
  const items = Array.isArray(data) ? data : [data];
  if (format === 'json' || format === 'yaml') printData(ctx, format, single ? data : { items });
  else if (format === 'name') for (const item of items) ctx.out(`${view.kind}/${view.name(item)}`);
  else if (items.length === 0)
    ctx.err(
      `No ${view.plural ?? `${view.kind.replace(/s$/, '')}s`} found${ns ? ` in namespace ${ns}` : ''}.`,
    );
  else ctx.io.stdout.write(renderView(view, items, format, ctx.io.now(), kinded));
  return EXIT.OK;
}

/** An Ingress's rules as `host/path → service:port`, Exact paths marked (=). */
export function ingressRules(i: Ingress): string[] {
  const out: string[] = [];
  for (const rule of i.spec?.rules ?? [])
    for (const p of rule.http?.paths ?? []) {
      const service = p.backend?.service;
      const port = service?.port?.number ?? service?.port?.name;
      out.push(
        `${rule.host ?? '*'}${p.pathType === 'Exact' ? '=' : ''}${p.path ?? '/'} -> ${service?.name}:${port}`,
      );
    }
  return out;
}

/**
 * As kubectl's columns. CLASS is the class that serves it (absent: berth, the only one); ADDRESS
 * stays empty, as for an ingress no load balancer reports; PORTS is 80 (no TLS yet). -o wide
 * lists the rules.
 */
export const ingressView: View<Ingress> = {
  kind: 'ingress',
  plural: 'ingresses',
  headers: ['name', 'class', 'hosts', 'address', 'ports', 'age'],
  wide: ['rules'],
  row: (i, now) => [
    i.metadata?.name,
    i.spec?.ingressClassName ?? 'berth',
    [...new Set((i.spec?.rules ?? []).map((r) => r.host ?? '*'))].join(','),
    undefined,
    '80',
    formatAge(i.metadata?.createdAt, now),
  ],
  wideRow: (i) => [ingressRules(i).join(',')],
  name: (i) => i.metadata?.name ?? '',
};

/** A trust rule: which CI identity tokens (GitHub Actions OIDC) get which Berth token. */
export const trustRuleView: View<TrustRule> = {
  kind: 'trustrule',
  headers: ['name', 'claims', 'role', 'namespaces', 'ttl', 'age'],
  wide: ['issuer'],
  row: (r, now) => [
    r.metadata?.name,
    Object.entries(r.spec?.claims ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    r.spec?.role,
    (r.spec?.namespaces ?? []).join(','),
    r.spec?.ttlSeconds === undefined ? undefined : `${r.spec.ttlSeconds}s`,
    formatAge(r.metadata?.createdAt, now),
  ],
  wideRow: (r) => [r.spec?.issuer],
  name: (r) => r.metadata?.name ?? '',
};

const KINDS: ResourceKind[] = [
  'deployment',
  'replica',
  'node',
  'service',
  'endpoints',
  'secret',
  'configmap',
  'persistentvolumeclaim',
  'serviceaccount',
  'ingress',
  'job',
  'cronjob',
  'event',
  'revision',
  'policy',
  'trustrule',
  'certificate',
];

/** One namespace's policy in force; the default one is said to be so (on stderr, stdout stays the data). */
export function printPolicy(ctx: CommandContext, format: OutputFormat, policy: NamespacePolicy): number {
  print(ctx, format, policyView, policy, '');
  if (isDefaultPolicy(policy) && (format === 'table' || format === 'wide')) {
    const ns = policyView.name(policy);
    ctx.err(
      `Namespace ${ns} has no policy of its own: this is the default (berth namespace set-policy ${ns} sets one).`,
    );
  }
  return EXIT.OK;
}

/** Every policy an admin set (GET /v1/policies, admins only); namespaces without one have the default. */
async function printPolicies(
  ctx: CommandContext,
  format: OutputFormat,
  client: BerthClient,
): Promise<number> {
  let policies: NamespacePolicy[];
  try {
    policies = await client.listPolicies();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 403)) throw err;
    throw new CliError(`${err.message}${err.code ? ` (${err.code})` : ''}`, EXIT.DENIED, [
      "hint: listing every namespace's policy takes an admin token; berth get policy NS reads one namespace's",
    ]);
  }
  if (policies.length === 0 && (format === 'table' || format === 'wide')) {
    ctx.err('No namespace policies set: every namespace has the default (berth get policy NS shows it).');
    return EXIT.OK;
  }
  return print(ctx, format, policyView, policies, '');
}

/** What one kind fetched: its data (for -o json|yaml of several kinds) and how it prints alone. */
interface Fetched {
  data: unknown;
  print(format: OutputFormat, kinded: boolean): number | Promise<number>;
}

/** One kind's objects (or the one named), fetched and ready to print. */
async function fetchKind(
  ctx: CommandContext,
  client: BerthClient,
  kind: ResourceKind,
  name: string | undefined,
): Promise<Fetched> {
  const ns = kind === 'node' || kind === 'policy' || kind === 'trustrule' ? '' : await ctx.namespace();
  const of = <T>(view: View<T>, data: T | T[]): Fetched => ({
    data,
    print: (format, kinded) => print(ctx, format, view, data, ns, kinded),
  });
  switch (kind) {
    case 'deployment':
      return of(
        deploymentView,
        name ? await client.getDeployment(ns, name) : await client.listDeployments(ns, ctx.flags.selector),
      );
    case 'service':
      return of(
        serviceView,
        name ? await client.getService(ns, name) : await client.listServices(ns, ctx.flags.selector),
      );
    case 'endpoints': {
      // Endpoints are read per service: one service's, or every (selected) service's.
      const services = name
        ? [await client.getService(ns, name)]
        : await client.listServices(ns, ctx.flags.selector);
      const all = await Promise.all(
        services.map(async (svc): Promise<ServiceEndpoints> => {
          const svcName = svc.metadata?.name ?? '';
          const list = await client.listEndpoints(ns, svcName);
          return { name: svcName, createdAt: svc.metadata?.createdAt, items: list.items ?? [] };
        }),
      );
      return of(endpointsView, name ? all[0]! : all);
    }
    case 'secret':
      return of(
        secretView,
        name ? await client.getObject<Secret>(ns, 'secrets', name) : await client.listSecrets(ns),
      );
    case 'configmap':
      return of(
        configMapView,
        name
          ? await client.getObject<ConfigMap>(ns, 'configmaps', name)
          : await client.listConfigMaps(ns, ctx.flags.selector),
      );
    case 'persistentvolumeclaim':
      return of(
        claimView,
        name
          ? await client.getObject<PersistentVolumeClaim>(ns, 'persistentvolumeclaims', name)
          : await client.listClaims(ns, ctx.flags.selector),
      );
    case 'serviceaccount':
      return of(
        serviceAccountView,
        name
          ? await client.getObject<ServiceAccount>(ns, 'serviceaccounts', name)
          : await client.listServiceAccounts(ns, ctx.flags.selector),
      );
    case 'ingress':
      return of(
        ingressView,
        name
          ? await client.getObject<Ingress>(ns, 'ingresses', name)
          : await client.listIngresses(ns, ctx.flags.selector),
      );
    case 'job':
      return of(
        jobView,
        name ? await client.getObject<Job>(ns, 'jobs', name) : await client.listJobs(ns, ctx.flags.selector),
      );
    case 'cronjob':
      return of(
        cronJobView,
        name
          ? await client.getObject<CronJob>(ns, 'cronjobs', name)
          : await client.listCronJobs(ns, ctx.flags.selector),
      );
    case 'node':
      return of(nodeView, name ? await client.getNode(name) : await client.listNodes());
    case 'certificate': {
      const all = await client.listCertificates();
      if (!name) return of(certificateView, all);
      const found = all.find((c) => c.host === name);
      if (!found) throw new CliError(`no certificate for host "${name}"`, EXIT.NOT_FOUND);
      return of(certificateView, found);
    }
    case 'replica': {
      const replicas = await client.listReplicas(ns, ctx.flags.deployment);
      if (!name) return of(replicaView, replicas);
      const found = replicas.find((r) => r.id === name);
      if (!found) throw new CliError(`replica "${name}" not found in namespace ${ns}`, EXIT.NOT_FOUND);
      return of(replicaView, found);
    }
    case 'event': {
      const object = ctx.flags.for ?? (name ? `deployment/${name}` : undefined);
      // Token exchanges are cluster events (admins): who was given a token, who was refused, and why.
      if (object === 'tokenexchange' || object?.startsWith('tokenexchange/'))
        return of(eventView, await client.listClusterEvents(object));
      if (object)
        objectRef(
          [object],
          ['deployment', 'job', 'cronjob', 'service', 'secret', 'node', 'replica', 'certificate'],
        );
      return of(eventView, await client.listEvents(ns, object));
    }
    case 'revision': {
      if (!name) throw new UsageError('missing the deployment: berth get revisions deployment/NAME');
      const deployment = objectRef([name], ['deployment'], 'deployment').name;
      return of(revisionView, await client.listRevisions(ns, deployment));
    }
    case 'trustrule':
      return of(trustRuleView, name ? await client.getTrustRule(name) : await client.listTrustRules());
    case 'policy': {
      // A policy is named after its namespace: "get policy team-a" is team-a's.
      if (name) {
        const policy = await client.getPolicy(name);
        return { data: policy, print: (format) => printPolicy(ctx, format, policy) };
      }
      return { data: undefined, print: (format) => printPolicies(ctx, format, client) };
    }
  }
}

export const get: Command = {
  name: 'get',
  summary:
    'List objects: deployments, replicas, nodes, services (svc), endpoints (ep), secrets, configmaps, persistentvolumeclaims (pvc), serviceaccounts (sa), ingresses (ing), jobs, cronjobs (cj), events, revisions, policies, trustrules, certificates (cert)',
  usage: [
    'berth get deployments|jobs|cronjobs|services|endpoints|secrets|configmaps|pvc|serviceaccounts|ingresses [NAME] [-l SELECTOR] [-o table|wide|json|yaml|name]',
    'berth get services,endpoints,ingresses [NAME]   (several kinds: one table each)',
    'berth get replicas [-d DEPLOYMENT]',
    'berth get nodes [NAME]',
    "berth get certificates [HOST]   (the ingress hosts' certificates: issuer, not-after, status, last error)",
    'berth get events [--for deployment/NAME|job/NAME|cronjob/NAME|certificate/HOST|tokenexchange]',
    'berth get revisions deployment/NAME',
    'berth get policy NAMESPACE | berth get policies (admin: every policy that was set)',
    'berth get trustrules [NAME] (admin: which CI identity tokens are traded for Berth tokens)',
  ].join('\n       '),
  flags: ['output', 'selector', 'deployment', 'for'],
  async run(ctx) {
    const format = outputFormat(ctx.flags);
    const word = ctx.arg(0, `what to get (${KINDS.join(', ')})`);
    // "get deployment/web" is "get deployment web"; "get svc,ep" is each kind in turn.
    const [kindWords, inlineName] = word.includes('/') ? word.split('/', 2) : [word, undefined];
    const kinds = kindWords!.split(',').map((w) => {
      const kind = resourceKind(w);
      if (!kind) throw new UsageError(`cannot get "${w}" (${KINDS.join(', ')})`);
      return kind;
    });
    const name = inlineName ?? ctx.args[1];
    ctx.noMoreArgs(inlineName === undefined ? 2 : 1);
    const client = await ctx.client();
    if (kinds.length === 1) return (await fetchKind(ctx, client, kinds[0]!, name)).print(format, false);
    const fetched: Fetched[] = [];
    for (const kind of [...new Set(kinds)]) fetched.push(await fetchKind(ctx, client, kind, name));
    if (format === 'json' || format === 'yaml') {
      // As kubectl: one list of every kind's objects.
      const items = fetched.flatMap((f) =>
        Array.isArray(f.data) ? f.data : f.data === undefined ? [] : [f.data],
      );
      printData(ctx, format, { items });
      return EXIT.OK;
    }
    // As kubectl: a table per kind, names written kind/name, a blank line between tables.
    let first = true;
    for (const f of fetched) {
      const empty = Array.isArray(f.data) && f.data.length === 0;
      if (!first && !empty && format !== 'name') ctx.out('');
      await f.print(format, true);
      if (!empty) first = false;
    }
    return EXIT.OK;
  },
};
