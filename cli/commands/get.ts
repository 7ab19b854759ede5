import { formatMemory } from '../../common/quantity.ts';
import { replicaPhase } from '../../common/replica-phase.ts';
import { assessRollout } from '../../common/rollout.ts';
import { taintText } from '../../common/scheduling.ts';
import { objectRef, type ResourceKind, resourceKind } from '../args.ts';
import { ApiError, type BerthClient } from '../client.ts';
import type { Command, CommandContext } from '../command.ts';
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
import { type OutputFormat, outputFormat, printData } from '../output.ts';
import { isDefaultPolicy } from '../policy-edit.ts';
import type {
  ConfigMap,
  Deployment,
  Event,
  Ingress,
  NamespacePolicy,
  Node,
  PersistentVolumeClaim,
  Replica,
  Revision,
  Secret,
  Service,
  ServiceAccount,
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

export const serviceView: View<Service> = {
  kind: 'service',
  headers: ['name', 'selector', 'ports', 'hosts', 'age'],
  wide: [],
  row: (s, now) => [
    s.metadata?.name,
    formatLabels(s.spec?.selector),
    (s.spec?.ports ?? []).map((p) => `${p.port}->${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`).join(','),
    (s.spec?.hosts ?? []).join(','),
    formatAge(s.metadata?.createdAt, now),
  ],
  wideRow: () => [],
  name: (s) => s.metadata?.name ?? '',
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
  wide: ['age'],
  row: (p) => [
    p.metadata?.namespace ?? p.metadata?.name,
    (p.spec?.allowedHostSuffixes ?? []).join(','),
    p.spec?.allowWildcardHosts ? 'true' : 'false',
    formatPortRange(p.spec?.hostPorts),
    formatQuota(p.spec?.quota),
    p.spec?.defaultLimits?.memory ?? undefined,
  ],
  // The default policy is not stored, so it has no age.
  wideRow: (p, now) => [p.metadata?.createdAt ? formatAge(p.metadata.createdAt, now) : undefined],
  name: (p) => p.metadata?.namespace ?? p.metadata?.name ?? '',
};

export function renderView<T>(view: View<T>, items: T[], format: 'table' | 'wide', now: Date): string {
  const headers = format === 'wide' ? [...view.headers, ...view.wide] : view.headers;
  return renderTable(
    headers,
    items.map((item) =>
      format === 'wide' ? [...view.row(item, now), ...view.wideRow(item, now)] : view.row(item, now),
    ),
  );
}

export function print<T>(
  ctx: CommandContext,
  format: OutputFormat,
  view: View<T>,
  data: T[] | T,
  ns: string,
): number {
  const single = !Array.isArray(data);
  const items = Array.isArray(data) ? data : [data];
  if (format === 'json' || format === 'yaml') printData(ctx, format, single ? data : { items });
  else if (format === 'name') for (const item of items) ctx.out(`${view.kind}/${view.name(item)}`);
  else if (items.length === 0)
    ctx.err(`No ${view.plural ?? `${view.kind}s`} found${ns ? ` in namespace ${ns}` : ''}.`);
  else ctx.io.stdout.write(renderView(view, items, format, ctx.io.now()));
  return EXIT.OK;
}

const KINDS: ResourceKind[] = [
  'deployment',
  'replica',
  'node',
  'service',
  'secret',
  'configmap',
  'persistentvolumeclaim',
  'serviceaccount',
  'ingress',
  'event',
  'revision',
  'policy',
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

export const get: Command = {
  name: 'get',
  summary:
    'List objects: deployments, replicas, nodes, services, secrets, configmaps, persistentvolumeclaims (pvc), serviceaccounts (sa), ingresses (ing), events, revisions, policies',
  usage: [
    'berth get deployments|services|secrets|configmaps|pvc|serviceaccounts|ingresses [NAME] [-l SELECTOR] [-o table|wide|json|yaml|name]',
    'berth get replicas [-d DEPLOYMENT]',
    'berth get nodes [NAME]',
    'berth get events [--for deployment/NAME]',
    'berth get revisions deployment/NAME',
    'berth get policy NAMESPACE | berth get policies (admin: every policy that was set)',
  ].join('\n       '),
  flags: ['output', 'selector', 'deployment', 'for'],
  async run(ctx) {
    const format = outputFormat(ctx.flags);
    const word = ctx.arg(0, `what to get (${KINDS.join(', ')})`);
    // "get deployment/web" is "get deployment web".
    const [kindWord, inlineName] = word.includes('/') ? word.split('/', 2) : [word, undefined];
    const kind = resourceKind(kindWord);
    if (!kind) throw new UsageError(`cannot get "${kindWord}" (${KINDS.join(', ')})`);
    const name = inlineName ?? ctx.args[1];
    ctx.noMoreArgs(inlineName === undefined ? 2 : 1);
    const client = await ctx.client();
    const ns = kind === 'node' || kind === 'policy' ? '' : await ctx.namespace();
    switch (kind) {
      case 'deployment':
        return name
          ? print(ctx, format, deploymentView, await client.getDeployment(ns, name), ns)
          : print(ctx, format, deploymentView, await client.listDeployments(ns, ctx.flags.selector), ns);
      case 'service':
        return name
          ? print(ctx, format, serviceView, await client.getService(ns, name), ns)
          : print(ctx, format, serviceView, await client.listServices(ns, ctx.flags.selector), ns);
      case 'secret':
        return name
          ? print(ctx, format, secretView, await client.getObject<Secret>(ns, 'secrets', name), ns)
          : print(ctx, format, secretView, await client.listSecrets(ns), ns);
      case 'configmap':
        return name
          ? print(ctx, format, configMapView, await client.getObject<ConfigMap>(ns, 'configmaps', name), ns)
          : print(ctx, format, configMapView, await client.listConfigMaps(ns, ctx.flags.selector), ns);
      case 'persistentvolumeclaim':
        return name
          ? print(
              ctx,
              format,
              claimView,
              await client.getObject<PersistentVolumeClaim>(ns, 'persistentvolumeclaims', name),
              ns,
            )
          : print(ctx, format, claimView, await client.listClaims(ns, ctx.flags.selector), ns);
      case 'serviceaccount':
        return name
          ? print(
              ctx,
              format,
              serviceAccountView,
              await client.getObject<ServiceAccount>(ns, 'serviceaccounts', name),
              ns,
            )
          : print(
              ctx,
              format,
              serviceAccountView,
              await client.listServiceAccounts(ns, ctx.flags.selector),
              ns,
            );
      case 'ingress':
        return name
          ? print(ctx, format, ingressView, await client.getObject<Ingress>(ns, 'ingresses', name), ns)
          : print(ctx, format, ingressView, await client.listIngresses(ns, ctx.flags.selector), ns);
      case 'node':
        return name
          ? print(ctx, format, nodeView, await client.getNode(name), ns)
          : print(ctx, format, nodeView, await client.listNodes(), ns);
      case 'replica': {
        const replicas = await client.listReplicas(ns, ctx.flags.deployment);
        if (!name) return print(ctx, format, replicaView, replicas, ns);
        const found = replicas.find((r) => r.id === name);
        if (!found) throw new CliError(`replica "${name}" not found in namespace ${ns}`, EXIT.NOT_FOUND);
        return print(ctx, format, replicaView, found, ns);
      }
      case 'event': {
        const object = ctx.flags.for ?? (name ? `deployment/${name}` : undefined);
        if (object) objectRef([object], ['deployment', 'service', 'secret', 'node', 'replica']);
        return print(ctx, format, eventView, await client.listEvents(ns, object), ns);
      }
      case 'revision': {
        if (!name) throw new UsageError('missing the deployment: berth get revisions deployment/NAME');
        const deployment = objectRef([name], ['deployment'], 'deployment').name;
        return print(ctx, format, revisionView, await client.listRevisions(ns, deployment), ns);
      }
      case 'policy':
        // A policy is named after its namespace: "get policy team-a" is team-a's.
        return name
          ? printPolicy(ctx, format, await client.getPolicy(name))
          : printPolicies(ctx, format, client);
    }
  },
};
