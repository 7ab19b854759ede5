import type { ConfigMap } from '../../common/wire/config-map.ts';
import type { CronJob } from '../../common/wire/cron-job.ts';
import type { Deployment } from '../../common/wire/deployment.ts';
import type { Ingress } from '../../common/wire/ingress.ts';
import type { Job } from '../../common/wire/job.ts';
import type { ObjectMeta } from '../../common/wire/meta.ts';
import type { Node } from '../../common/wire/node.ts';
import type { Replica } from '../../common/wire/replica.ts';
import type { Service } from '../../common/wire/service.ts';
import type { ManagedFieldsEntry } from './field-ownership.ts';
import { kubePodTemplate } from './pod-template.ts';

/**
 * Berth's objects as Kubernetes objects: pure functions from what `/v1` returns to what a
 * Kubernetes API server would return for the same thing. The specs are already Kubernetes'
 * shapes; what changes is the group and version, the metadata's names, and the kinds Berth
 * models differently (replicas as Pods, nodes, namespaces).
 */

export interface KubeMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean }[];
  managedFields?: ManagedFieldsEntry[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMeta;
  [field: string]: unknown;
}

/** The annotation Kubernetes keeps a Deployment's current revision in. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export function kubeMeta(m: ObjectMeta, extraAnnotations: Record<string, string> = {}): KubeMeta {
  const annotations = { ...m.annotations, ...extraAnnotations };
  return {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    ...(m.generation !== undefined ? { generation: m.generation } : {}),
    creationTimestamp: m.createdAt,
    ...(Object.keys(m.labels).length ? { labels: m.labels } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
}

/**
 * The object with its stored field ownership (field-ownership.ts), which only the face shows:
 * `/v1` has no use for it. kubectl hides it unless asked (`--show-managed-fields`).
 */
export function withManagedFields<O extends KubeObject>(
  object: O,
  row: { managedFields?: readonly Record<string, unknown>[] },
): O {
  if (row.managedFields?.length)
    object.metadata.managedFields = row.managedFields as unknown as ManagedFieldsEntry[];
  return object;
}

export function kubeDeployment(d: Deployment): KubeObject {
  const { revision, ...status } = d.status;
  const { autoRollback: _berthOnly, ...spec } = d.spec;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: kubeMeta(d.metadata, revision !== null ? { [REVISION_ANNOTATION]: String(revision) } : {}),
    spec: {
      ...spec,
      template: kubePodTemplate(spec.template),
      // Berth selects a deployment's replicas by ownership; Kubernetes names the template's labels.
      selector: spec.selector ?? { matchLabels: spec.template.metadata.labels },
    },
    status,
  };
}

export function kubeService(s: Service): KubeObject {
  const { hosts, ...spec } = s.spec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    // A service's public hosts have no field in Kubernetes' Service: an annotation shows them.
    metadata: kubeMeta(s.metadata, hosts.length ? { 'berth.dev/hosts': hosts.join(',') } : {}),
    spec: { type: 'ClusterIP', ...spec },
    status: { loadBalancer: {} },
  };
}

export function kubeIngress(i: Ingress): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: kubeMeta(i.metadata),
    spec: i.spec,
    status: { loadBalancer: {} },
  };
}

export function kubeConfigMap(cm: ConfigMap): KubeObject {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = cm;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: kubeMeta(metadata), ...rest };
}

export function kubeJob(j: Job): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: kubeMeta(j.metadata),
    spec: { ...j.spec, template: kubePodTemplate(j.spec.template) },
    status: j.status,
  };
}

export function kubeCronJob(cj: CronJob): KubeObject {
  const { active, ...rest } = cj.status;
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: kubeMeta(cj.metadata),
    spec: {
      ...cj.spec,
      jobTemplate: {
        ...cj.spec.jobTemplate,
        spec: { ...cj.spec.jobTemplate.spec, template: kubePodTemplate(cj.spec.jobTemplate.spec.template) },
      },
    },
    status: {
      ...rest,
      ...(active.length
        ? { active: active.map((a) => ({ kind: 'Job', apiVersion: 'batch/v1', ...a })) }
        : {}),
    },
  };
}

/** A namespace as Berth keeps it: a name, what an admin set on it, and whether it is being deleted. */
export interface NamespaceView {
  name: string;
  createdAt: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set while its objects are being deleted (Terminating). */
  terminatingAt?: string | null;
}

export function kubeNamespace(n: NamespaceView): KubeObject {
  const annotations = n.annotations ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: n.name,
      uid: `namespace-${n.name}`,
      resourceVersion: '1',
      creationTimestamp: n.createdAt,
      ...(n.terminatingAt ? { deletionTimestamp: n.terminatingAt } : {}),
      // Kubernetes labels every namespace with its name, after the admin's own.
      labels: { ...n.labels, 'kubernetes.io/metadata.name': n.name },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: n.terminatingAt ? 'Terminating' : 'Active' },
  };
}

export function kubeNode(n: Node): KubeObject {
  const resources = (r: Node['allocatable']) => ({
    cpu: String(r.cpu),
    memory: String(r.memoryBytes),
    ...(r.ephemeralStorageBytes ? { 'ephemeral-storage': String(r.ephemeralStorageBytes) } : {}),
    ...Object.fromEntries(Object.entries(r.extendedResources ?? {}).map(([k, v]) => [k, String(v)])),
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: n.uid,
      resourceVersion: '1',
      creationTimestamp: n.createdAt,
      labels: { 'kubernetes.io/hostname': n.name, ...n.labels },
    },
    spec: {
      ...(n.unschedulable ? { unschedulable: true } : {}),
      ...(n.taints.length ? { taints: n.taints } : {}),
    },
    status: {
      capacity: resources(n.capacity),
      allocatable: resources(n.allocatable),
      conditions: [
        {
          type: 'Ready',
          status: n.status === 'Ready' ? 'True' : 'Unknown',
          reason: n.status === 'Ready' ? 'AgentReady' : 'AgentStoppedReporting',
          message:
            n.status === 'Ready'
              ? 'berth-agent is reporting'
              : `berth-agent stopped reporting (${n.condition})`,
          lastHeartbeatTime: n.lastHeartbeat,
          lastTransitionTime: n.lastHeartbeat,
        },
      ],
      addresses: [
        { type: 'InternalIP', address: n.address },
        { type: 'Hostname', address: n.name },
      ],
      nodeInfo: {
        kubeletVersion: `berth-agent/${n.agentVersion}`,
        containerRuntimeVersion: 'docker',
        osImage: '',
        kernelVersion: '',
        operatingSystem: 'linux',
        architecture: '',
      },
    },
  };
}

/** What a Pod is made from: a replica and the labels of the workload template it runs. */
export interface PodSource {
  replica: Replica;
  /** The pod template's labels of its Deployment or Job (empty when its owner is gone). */
  labels: Record<string, string>;
  /**
   * The containers of the template it runs, when that is known to be its revision's (a Job's, or
   * a Deployment's current one); otherwise the Pod names its containers only.
   */
  containers?: readonly { name: string }[];
  /** Its controller: the ReplicaSet of its revision, or its Job (absent: its workload by name, no uid). */
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
}

type KubePhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** Berth's finer replica phases folded into Kubernetes' five. */
export function podPhase(phase: Replica['phase']): KubePhase {
  switch (phase) {
    case 'Pending':
    case 'Scheduled':
    case 'Pulling':
    case 'Starting':
      return 'Pending';
    case 'Running':
    case 'Terminating':
      return 'Running';
    case 'Succeeded':
      return 'Succeeded';
    case 'Failed':
      return 'Failed';
    case 'Lost':
      return 'Unknown';
  }
}

type ContainerStatusWire = Replica['containers'][number];

function containerState(c: ContainerStatusWire, since: string) {
  switch (c.state) {
    case 'running':
      return { running: { startedAt: since } };
    case 'terminated':
      return {
        terminated: { exitCode: c.exitCode ?? 0, reason: c.reason ?? 'Completed', finishedAt: since },
      };
    case 'waiting':
      return { waiting: { reason: c.reason ?? waitingReason(c) } };
  }
}

/** A waiting container with no reason from its agent is being pulled or created. */
const waitingReason = (_c: ContainerStatusWire) => 'ContainerCreating';

function containerStatus(c: ContainerStatusWire, since: string) {
  return {
    name: c.name,
    ready: c.ready ?? c.state === 'running',
    started: c.state === 'running',
    restartCount: c.restartCount,
    state: containerState(c, since),
    ...(c.containerId ? { containerID: `docker://${c.containerId}` } : {}),
    image: '',
    imageID: '',
  };
}

/** A replica as a Pod: Kubernetes' pod status (phase, conditions, containerStatuses). */
export function kubePod({ replica: r, labels, containers, owner }: PodSource): KubeObject {
  const ownerKind = r.job !== undefined ? 'Job' : 'Deployment';
  const phase = podPhase(r.phase);
  const scheduled = r.node !== null;
  const condition = (type: string, ok: boolean) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: r.updatedAt,
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: r.id,
      namespace: r.namespace,
      uid: r.id,
      resourceVersion: String(Date.parse(r.updatedAt)),
      creationTimestamp: r.createdAt,
      labels: { ...labels, 'berth.dev/revision': String(r.revision) },
      ...(r.phase === 'Terminating' || r.desired === 'stopped' ? { deletionTimestamp: r.updatedAt } : {}),
      // Owned by its revision's ReplicaSet (replica-sets.ts) or its Job.
      ownerReferences: [
        {
          ...(owner ?? {
            apiVersion: ownerKind === 'Job' ? 'batch/v1' : 'apps/v1',
            kind: ownerKind,
            name: r.deployment,
            uid: '',
          }),
          controller: true,
        },
      ],
    },
    spec: {
      ...(r.node ? { nodeName: r.node } : {}),
      containers: containers ?? r.containers.map((c) => ({ name: c.name })),
      ...(r.initContainers ? { initContainers: r.initContainers.map((c) => ({ name: c.name })) } : {}),
    },
    status: {
      phase,
      conditions: [
        condition('PodScheduled', scheduled),
        condition('Initialized', scheduled && r.phase !== 'Pending' && r.phase !== 'Scheduled'),
        condition('ContainersReady', r.ready),
        condition('Ready', r.ready),
      ],
      ...(r.message ? { message: r.message } : {}),
      // As Kubernetes marks a pod whose node stopped reporting.
      ...(r.phase === 'Lost' ? { reason: 'NodeLost' } : {}),
      ...(r.nodeAddress ? { hostIP: r.nodeAddress, hostIPs: [{ ip: r.nodeAddress }] } : {}),
      startTime: r.createdAt,
      containerStatuses: r.containers.map((c) => containerStatus(c, r.updatedAt)),
      ...(r.initContainers
        ? { initContainerStatuses: r.initContainers.map((c) => containerStatus(c, r.updatedAt)) }
        : {}),
    },
  };
}

/** A `kind: XList` with the list's resourceVersion: the newest of its items'. */
export function kubeList(apiVersion: string, kind: string, items: KubeObject[]) {
  return {
    apiVersion,
    kind: `${kind}List`,
    metadata: { resourceVersion: listResourceVersion(items) },
    items,
  };
}

export function listResourceVersion(items: KubeObject[]): string {
  let newest = 0;
  for (const i of items) newest = Math.max(newest, Number(i.metadata.resourceVersion) || 0);
  return String(newest);
}
