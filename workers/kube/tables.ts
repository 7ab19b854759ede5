import { formatCpu, formatMemory, parseCpu, parseMemory } from '../../common/quantity.ts';
import type { KubeObject } from './objects.ts';

/**
 * Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the columns
 * `kubectl get` prints for each kind, as data. Priority 0 columns are always shown, priority 1
 * only with `-o wide`, as Kubernetes' own printers define them.
 */

type Cell = string | number;

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: 'name';
  description: string;
  priority: 0 | 1;
  cell: (o: KubeObject, now: Date) => Cell;
}

// Loose readers: a Table reads the Kubernetes object it shows, whatever kind it is.
type Loose = Record<string, unknown>;
const rec = (v: unknown): Loose => (v && typeof v === 'object' ? (v as Loose) : {});
const arr = (v: unknown): Loose[] => (Array.isArray(v) ? (v as Loose[]) : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const spec = (o: KubeObject) => rec(o.spec);
const status = (o: KubeObject) => rec(o.status);
const orNone = (s: string) => s || '<none>';

const name: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
  cell: (o) => o.metadata.name,
};

const age: Column = {
  name: 'Age',
  type: 'string',
  description: 'How long ago the object was created.',
  priority: 0,
  cell: (o, now) => humanDuration(now.getTime() - Date.parse(o.metadata.creationTimestamp)),
};

/** Kubernetes' short human durations ("42s", "5m3s", "17m", "3h4m", "2d5h", "90d", "3y2d"). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

const templateContainers = (o: KubeObject) => arr(rec(rec(spec(o).template).spec).containers);
const jobTemplateContainers = (o: KubeObject) =>
  arr(rec(rec(rec(rec(spec(o).jobTemplate).spec).template).spec).containers);
const selectorText = (sel: unknown) =>
  orNone(
    Object.entries(rec(rec(sel).matchLabels) as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  );

const workloadWide = (
  containers: (o: KubeObject) => Loose[],
  selector: (o: KubeObject) => unknown,
): Column[] => [
  {
    name: 'Containers',
    type: 'string',
    description: 'Names of each container in the template.',
    priority: 1,
    cell: (o) =>
      containers(o)
        .map((c) => str(c.name))
        .join(','),
  },
  {
    name: 'Images',
    type: 'string',
    description: 'Images referenced by each container in the template.',
    priority: 1,
    cell: (o) =>
      containers(o)
        .map((c) => str(c.image))
        .join(','),
  },
  {
    name: 'Selector',
    type: 'string',
    description: 'The label selector of its pods.',
    priority: 1,
    cell: (o) => selectorText(selector(o)),
  },
];

const DEPLOYMENT: Column[] = [
  name,
  {
    name: 'Ready',
    type: 'string',
    description: 'Number of the pods that are ready out of those desired.',
    priority: 0,
    cell: (o) => `${num(status(o).readyReplicas)}/${num(spec(o).replicas)}`,
  },
  {
    name: 'Up-to-date',
    type: 'integer',
    description: 'Total number of pods of the current template.',
    priority: 0,
    cell: (o) => num(status(o).updatedReplicas),
  },
  {
    name: 'Available',
    type: 'integer',
    description: 'Total number of pods available (ready for at least minReadySeconds).',
    priority: 0,
    cell: (o) => num(status(o).availableReplicas),
  },
  age,
  ...workloadWide(templateContainers, (o) => spec(o).selector),
];

const REPLICA_SET: Column[] = [
  name,
  {
    name: 'Desired',
    type: 'integer',
    description: 'Number of desired pods.',
    priority: 0,
    cell: (o) => num(spec(o).replicas),
  },
  {
    name: 'Current',
    type: 'integer',
    description: 'Number of pods it has.',
    priority: 0,
    cell: (o) => num(status(o).replicas),
  },
  {
    name: 'Ready',
    type: 'integer',
    description: 'Number of its pods that are ready.',
    priority: 0,
    cell: (o) => num(status(o).readyReplicas),
  },
  age,
  ...workloadWide(templateContainers, (o) => spec(o).selector),
];

function servicePorts(o: KubeObject): string {
  const ports = arr(spec(o).ports).map((p) => {
    const node = p.nodePort ? `:${num(p.nodePort)}` : '';
    return `${num(p.port)}${node}/${str(p.protocol) || 'TCP'}`;
  });
  return orNone(ports.join(','));
}

const SERVICE: Column[] = [
  name,
  {
    name: 'Type',
    type: 'string',
    description: 'The type of service.',
    priority: 0,
    cell: (o) => str(spec(o).type),
  },
  {
    name: 'Cluster-IP',
    type: 'string',
    description: 'The address of the service inside the cluster.',
    priority: 0,
    cell: (o) => orNone(str(spec(o).clusterIP)),
  },
  {
    name: 'External-IP',
    type: 'string',
    description: 'External addresses of the service.',
    priority: 0,
    cell: (o) =>
      str(spec(o).type) === 'ExternalName'
        ? str(spec(o).externalName)
        : orNone(
            [
              ...arr(spec(o).externalIPs).map(String),
              ...(o.metadata.annotations?.['berth.dev/hosts']?.split(',') ?? []),
            ].join(','),
          ),
  },
  {
    name: 'Port(s)',
    type: 'string',
    description: 'The ports of the service.',
    priority: 0,
    cell: servicePorts,
  },
  age,
  {
    name: 'Selector',
    type: 'string',
    description: 'The labels of the pods the service routes to.',
    priority: 1,
    cell: (o) => selectorText({ matchLabels: spec(o).selector }),
  },
];

const CONFIG_MAP: Column[] = [
  name,
  {
    name: 'Data',
    type: 'integer',
    description: 'Number of keys in data and binaryData.',
    priority: 0,
    cell: (o) => Object.keys(rec(o.data)).length + Object.keys(rec(o.binaryData)).length,
  },
  age,
];

function jobStatus(o: KubeObject): string {
  const conditions = arr(status(o).conditions).filter((c) => c.status === 'True');
  for (const type of ['Failed', 'Complete', 'Suspended'])
    if (conditions.some((c) => c.type === type)) return type;
  return 'Running';
}

const JOB: Column[] = [
  name,
  { name: 'Status', type: 'string', description: 'The state of the job.', priority: 0, cell: jobStatus },
  {
    name: 'Completions',
    type: 'string',
    description: 'Succeeded pods out of the completions wanted.',
    priority: 0,
    cell: (o) => {
      const wanted = spec(o).completions;
      return `${num(status(o).succeeded)}/${typeof wanted === 'number' ? wanted : 1}`;
    },
  },
  {
    name: 'Duration',
    type: 'string',
    description: 'How long the job ran (or has been running).',
    priority: 0,
    cell: (o, now) => {
      const start = str(status(o).startTime);
      if (!start) return '';
      const end = str(status(o).completionTime);
      return humanDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start));
    },
  },
  age,
  ...workloadWide(templateContainers, (o) => spec(o).selector),
];

const CRON_JOB: Column[] = [
  name,
  {
    name: 'Schedule',
    type: 'string',
    description: 'The cron schedule.',
    priority: 0,
    cell: (o) => str(spec(o).schedule),
  },
  {
    name: 'Timezone',
    type: 'string',
    description: 'The time zone of the schedule.',
    priority: 0,
    cell: (o) => orNone(str(spec(o).timeZone)),
  },
  {
    name: 'Suspend',
    type: 'string',
    description: 'Whether new runs are suspended.',
    priority: 0,
    cell: (o) => String(spec(o).suspend === true),
  },
  {
    name: 'Active',
    type: 'integer',
    description: 'Number of its jobs still running.',
    priority: 0,
    cell: (o) => arr(status(o).active).length,
  },
  {
    name: 'Last Schedule',
    type: 'string',
    description: 'How long ago a job was last scheduled.',
    priority: 0,
    cell: (o, now) => {
      const last = str(status(o).lastScheduleTime);
      return last ? humanDuration(now.getTime() - Date.parse(last)) : '<none>';
    },
  },
  age,
  ...workloadWide(jobTemplateContainers, () => undefined),
];

/** The STATUS column of a pod, as kubectl users know it (reasons before phases). */
export function podStatusText(o: KubeObject): string {
  const st = status(o);
  if (o.metadata.deletionTimestamp !== undefined) return 'Terminating';
  let reason = str(st.reason) || str(st.phase);
  for (const c of arr(st.containerStatuses)) {
    const state = rec(c.state);
    const waiting = rec(state.waiting);
    const terminated = rec(state.terminated);
    if (str(waiting.reason)) reason = str(waiting.reason);
    else if (state.terminated) reason = str(terminated.reason) || `ExitCode:${num(terminated.exitCode)}`;
  }
  return reason;
}

const POD: Column[] = [
  name,
  {
    name: 'Ready',
    type: 'string',
    description: 'Ready containers out of all containers.',
    priority: 0,
    cell: (o) => {
      const cs = arr(status(o).containerStatuses);
      return `${cs.filter((c) => c.ready === true).length}/${Math.max(cs.length, arr(spec(o).containers).length)}`;
    },
  },
  {
    name: 'Status',
    type: 'string',
    description: 'The aggregate status of the pod.',
    priority: 0,
    cell: podStatusText,
  },
  {
    name: 'Restarts',
    type: 'string',
    description: 'Restarts of its containers.',
    priority: 0,
    cell: (o) => String(arr(status(o).containerStatuses).reduce((n, c) => n + num(c.restartCount), 0)),
  },
  age,
  {
    name: 'IP',
    type: 'string',
    description: 'The address of the pod (its node: Berth publishes ports on the node).',
    priority: 1,
    cell: (o) => orNone(str(status(o).hostIP)),
  },
  {
    name: 'Node',
    type: 'string',
    description: 'The node the pod is placed on.',
    priority: 1,
    cell: (o) => orNone(str(spec(o).nodeName)),
  },
  {
    name: 'Nominated Node',
    type: 'string',
    description: 'The node it is nominated for by preemption.',
    priority: 1,
    cell: () => '<none>',
  },
  {
    name: 'Readiness Gates',
    type: 'string',
    description: 'Extra readiness gates.',
    priority: 1,
    cell: () => '<none>',
  },
];

const NAMESPACE: Column[] = [
  name,
  {
    name: 'Status',
    type: 'string',
    description: 'The phase of the namespace.',
    priority: 0,
    cell: (o) => str(status(o).phase),
  },
  age,
];

function nodeStatus(o: KubeObject): string {
  const ready = arr(status(o).conditions).find((c) => c.type === 'Ready');
  const text = ready?.status === 'True' ? 'Ready' : 'NotReady';
  return spec(o).unschedulable === true ? `${text},SchedulingDisabled` : text;
}

const nodeAddress = (type: string) => (o: KubeObject) =>
  orNone(str(arr(status(o).addresses).find((a) => a.type === type)?.address));
const nodeInfo = (field: string) => (o: KubeObject) => orNone(str(rec(status(o).nodeInfo)[field]));

const NODE: Column[] = [
  name,
  {
    name: 'Status',
    type: 'string',
    description: 'Whether the node is ready.',
    priority: 0,
    cell: nodeStatus,
  },
  {
    name: 'Roles',
    type: 'string',
    description: 'The roles of the node.',
    priority: 0,
    cell: (o) =>
      orNone(
        Object.keys(o.metadata.labels ?? {})
          .filter((k) => k.startsWith('node-role.kubernetes.io/'))
          .map((k) => k.slice('node-role.kubernetes.io/'.length))
          .join(','),
      ),
  },
  age,
  {
    name: 'Version',
    type: 'string',
    description: 'The version of its agent.',
    priority: 0,
    cell: nodeInfo('kubeletVersion'),
  },
  {
    name: 'Internal-IP',
    type: 'string',
    description: 'Its internal address.',
    priority: 1,
    cell: nodeAddress('InternalIP'),
  },
  {
    name: 'External-IP',
    type: 'string',
    description: 'Its external address.',
    priority: 1,
    cell: nodeAddress('ExternalIP'),
  },
  {
    name: 'OS-Image',
    type: 'string',
    description: 'Its operating system.',
    priority: 1,
    cell: nodeInfo('osImage'),
  },
  {
    name: 'Kernel-Version',
    type: 'string',
    description: 'Its kernel.',
    priority: 1,
    cell: nodeInfo('kernelVersion'),
  },
  {
    name: 'Container-Runtime',
    type: 'string',
    description: 'Its container runtime.',
    priority: 1,
    cell: nodeInfo('containerRuntimeVersion'),
  },
];

const INGRESS: Column[] = [
  name,
  {
    name: 'Class',
    type: 'string',
    description: 'The ingress class.',
    priority: 0,
    cell: (o) => orNone(str(spec(o).ingressClassName)),
  },
  {
    name: 'Hosts',
    type: 'string',
    description: 'The hosts of its rules.',
    priority: 0,
    cell: (o) => {
      const hosts = arr(spec(o).rules).map((r) => str(r.host) || '*');
      return hosts.length ? hosts.join(',') : '*';
    },
  },
  { name: 'Address', type: 'string', description: 'Where it is reached.', priority: 0, cell: () => '' },
  {
    name: 'Ports',
    type: 'string',
    description: 'The ports it serves.',
    priority: 0,
    cell: (o) => (arr(spec(o).tls).length ? '80, 443' : '80'),
  },
  age,
];

const SECRET: Column[] = [
  name,
  { name: 'Type', type: 'string', description: 'The type of secret.', priority: 0, cell: (o) => str(o.type) },
  {
    name: 'Data',
    type: 'integer',
    description: 'Number of keys (their values are never returned).',
    priority: 0,
    cell: (o) => (o.metadata.annotations?.['berth.dev/keys'] ?? '').split(',').filter(Boolean).length,
  },
  age,
];

const ACCESS_MODES: Record<string, string> = {
  ReadWriteOnce: 'RWO',
  ReadOnlyMany: 'ROX',
  ReadWriteMany: 'RWX',
  ReadWriteOncePod: 'RWOP',
};

const PERSISTENT_VOLUME_CLAIM: Column[] = [
  name,
  {
    name: 'Status',
    type: 'string',
    description: 'Its phase.',
    priority: 0,
    cell: (o) => str(status(o).phase),
  },
  {
    name: 'Volume',
    type: 'string',
    description: 'The volume bound to it.',
    priority: 0,
    cell: (o) => str(spec(o).volumeName),
  },
  {
    name: 'Capacity',
    type: 'string',
    description: 'The size of its volume once bound.',
    priority: 0,
    cell: (o) => str(rec(status(o).capacity).storage),
  },
  {
    name: 'Access Modes',
    type: 'string',
    description: 'How its volume may be mounted.',
    priority: 0,
    cell: (o) =>
      arr(status(o).accessModes)
        .map((m) => ACCESS_MODES[String(m)] ?? String(m))
        .join(','),
  },
  {
    name: 'StorageClass',
    type: 'string',
    description: 'Its storage class.',
    priority: 0,
    cell: (o) => str(spec(o).storageClassName),
  },
  {
    name: 'VolumeAttributesClass',
    type: 'string',
    description: 'Its volume attributes class.',
    priority: 0,
    cell: () => '<unset>',
  },
  age,
  {
    name: 'VolumeMode',
    type: 'string',
    description: 'Filesystem or Block.',
    priority: 1,
    cell: (o) => str(spec(o).volumeMode),
  },
];

const ENDPOINTS: Column[] = [
  name,
  {
    name: 'Endpoints',
    type: 'string',
    description: 'The addresses it routes to (the first three).',
    priority: 0,
    cell: (o) => {
      const all = arr(o.subsets).flatMap((s) =>
        arr(s.addresses).flatMap((a) => arr(s.ports).map((p) => `${str(a.ip)}:${num(p.port)}`)),
      );
      if (all.length === 0) return '<none>';
      return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
    },
  },
  age,
];

const SERVICE_ACCOUNT: Column[] = [
  name,
  { name: 'Secrets', type: 'integer', description: 'Its token secrets.', priority: 0, cell: () => 0 },
  age,
];

const since = (field: string) => (o: KubeObject, now: Date) =>
  humanDuration(now.getTime() - Date.parse(str(o[field]) || o.metadata.creationTimestamp));

const EVENT: Column[] = [
  {
    name: 'Last Seen',
    type: 'string',
    description: 'When it last happened.',
    priority: 0,
    cell: since('lastTimestamp'),
  },
  { name: 'Type', type: 'string', description: 'Normal or Warning.', priority: 0, cell: (o) => str(o.type) },
  {
    name: 'Reason',
    type: 'string',
    description: 'Why it happened, in a word.',
    priority: 0,
    cell: (o) => str(o.reason),
  },
  {
    name: 'Object',
    type: 'string',
    description: 'The object it is about.',
    priority: 0,
    cell: (o) => `${str(rec(o.involvedObject).kind).toLowerCase()}/${str(rec(o.involvedObject).name)}`,
  },
  { name: 'Subobject', type: 'string', description: 'The part of it.', priority: 1, cell: () => '' },
  {
    name: 'Source',
    type: 'string',
    description: 'Who reported it.',
    priority: 1,
    cell: (o) => str(rec(o.source).component),
  },
  {
    name: 'Message',
    type: 'string',
    description: 'What happened.',
    priority: 0,
    cell: (o) => str(o.message),
  },
  {
    name: 'First Seen',
    type: 'string',
    description: 'When it first happened.',
    priority: 1,
    cell: since('firstTimestamp'),
  },
  { name: 'Count', type: 'integer', description: 'How many times.', priority: 1, cell: (o) => num(o.count) },
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Its name.',
    priority: 1,
    cell: (o) => o.metadata.name,
  },
];

/** Columns per kind. */
/** A PodMetrics' containers added up, or a NodeMetrics' usage, in millicores and bytes. */
function usageOf(o: KubeObject): { cpuMillis: number; memoryBytes: number } {
  const usages = o.kind === 'PodMetrics' ? arr(o.containers).map((c) => rec(c.usage)) : [rec(o.usage)];
  return {
    cpuMillis: usages.reduce((n, u) => n + (parseCpu(str(u.cpu)) ?? 0), 0),
    memoryBytes: usages.reduce((n, u) => n + (parseMemory(str(u.memory)) ?? 0), 0),
  };
}

/** PodMetrics and NodeMetrics (`kubectl get podmetrics`): what metrics-server's table shows. */
const USAGE: Column[] = [
  name,
  {
    name: 'CPU',
    type: 'string',
    description: 'CPU in use, averaged over the window.',
    priority: 0,
    cell: (o) => formatCpu(usageOf(o).cpuMillis),
  },
  {
    name: 'Memory',
    type: 'string',
    description: 'Memory in use (the working set).',
    priority: 0,
    cell: (o) => formatMemory(usageOf(o).memoryBytes),
  },
  {
    name: 'Window',
    type: 'string',
    description: 'The span the CPU figure is averaged over.',
    priority: 0,
    cell: (o) => str(o.window),
  },
];

export const TABLE_COLUMNS: Record<string, Column[]> = {
  Deployment: DEPLOYMENT,
  ReplicaSet: REPLICA_SET,
  Service: SERVICE,
  ConfigMap: CONFIG_MAP,
  Job: JOB,
  CronJob: CRON_JOB,
  Pod: POD,
  Ingress: INGRESS,
  Namespace: NAMESPACE,
  Secret: SECRET,
  Endpoints: ENDPOINTS,
  PersistentVolumeClaim: PERSISTENT_VOLUME_CLAIM,
  ServiceAccount: SERVICE_ACCOUNT,
  Event: EVENT,
  Node: NODE,
  PodMetrics: USAGE,
  NodeMetrics: USAGE,
};

/** Whether an Accept header asks for a meta.k8s.io/v1 Table. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some((m) => /;\s*as=Table/.test(m) && /;\s*g=meta\.k8s\.io/.test(m) && /;\s*v=v1(\s*;|\s*$)/.test(m));
}

/** A Table of objects of one kind; each row carries its object, as `includeObject=Object` asks. */
export function toTable(kind: string, objects: KubeObject[], resourceVersion: string, now: Date) {
  const columns = TABLE_COLUMNS[kind] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ cell: _cell, format, ...c }) => ({ ...c, format: format ?? '' })),
    rows: objects.map((o) => ({ cells: columns.map((c) => c.cell(o, now)), object: o })),
  };
}
