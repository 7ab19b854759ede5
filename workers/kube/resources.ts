/**
 * The Kubernetes resources Berth serves, as data: discovery, routing and the error messages
 * all read this one table, so adding a resource to the Kubernetes face starts here.
 */

export type KubeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export interface KubeResource {
  /** '' for the core group (`/api/v1`). */
  group: string;
  version: string;
  /** The URL segment: `deployments`. */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** What Berth serves for it: reads, and writes for the kinds workers/kube/writes.ts writes. */
  verbs: KubeVerb[];
  categories: string[];
}

const READ: KubeVerb[] = ['get', 'list', 'watch'];
/** The kinds written through `POST /v1/apply`'s verb (write-kinds.ts). */
const WRITE: KubeVerb[] = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const KUBE_RESOURCES: readonly KubeResource[] = [
  {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: WRITE,
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'endpoints',
    singular: 'endpoints',
    kind: 'Endpoints',
    namespaced: true,
    shortNames: ['ep'],
    verbs: READ,
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: READ,
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    shortNames: ['pvc'],
    verbs: READ,
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    shortNames: [],
    verbs: WRITE,
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    kind: 'ServiceAccount',
    namespaced: true,
    shortNames: ['sa'],
    verbs: WRITE,
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: WRITE,
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    verbs: [...READ, 'patch'],
    categories: [],
  },
  {
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    verbs: READ,
    categories: ['all'],
  },
  {
    group: '',
    version: 'v1',
    plural: 'services',
    singular: 'service',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    verbs: WRITE,
    categories: ['all'],
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    verbs: WRITE,
    categories: ['all'],
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    verbs: READ,
    categories: ['all'],
  },
  {
    group: 'batch',
    version: 'v1',
    plural: 'cronjobs',
    singular: 'cronjob',
    kind: 'CronJob',
    namespaced: true,
    shortNames: ['cj'],
    verbs: WRITE,
    categories: ['all'],
  },
  {
    group: 'batch',
    version: 'v1',
    plural: 'jobs',
    singular: 'job',
    kind: 'Job',
    namespaced: true,
    shortNames: [],
    verbs: WRITE,
    categories: ['all'],
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    singular: 'ingress',
    kind: 'Ingress',
    namespaced: true,
    shortNames: ['ing'],
    verbs: WRITE,
    categories: [],
  },
  // Usage as metrics-server serves it (metrics.ts), for `kubectl top`: read by the same rights as
  // the pods and nodes it measures, and never watched.
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    plural: 'pods',
    singular: 'pod',
    kind: 'PodMetrics',
    namespaced: true,
    shortNames: [],
    verbs: ['get', 'list'],
    categories: [],
  },
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    plural: 'nodes',
    singular: 'node',
    kind: 'NodeMetrics',
    namespaced: false,
    shortNames: [],
    verbs: ['get', 'list'],
    categories: [],
  },
];

/** The groups of Berth's own objects besides the core one, all at v1. */
export const KUBE_GROUPS = ['apps', 'batch', 'networking.k8s.io'] as const;

export const METRICS_GROUP = 'metrics.k8s.io';

/** Every named group with its one version, in the order `/apis` lists them. */
export const SERVED_GROUPS: readonly { group: string; version: string }[] = [
  ...KUBE_GROUPS.map((group) => ({ group, version: 'v1' })),
  { group: METRICS_GROUP, version: 'v1beta1' },
];

/** The version a group is served at (the core group's is v1); undefined for a group not served. */
export function servedVersion(group: string): string | undefined {
  return group === '' ? 'v1' : SERVED_GROUPS.find((g) => g.group === group)?.version;
}

export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function resourcesOf(group: string, version: string): KubeResource[] {
  return KUBE_RESOURCES.filter((r) => r.group === group && r.version === version);
}

export function findResource(group: string, version: string, plural: string): KubeResource | undefined {
  return KUBE_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** How Kubernetes names a resource in messages: `deployments.apps`, `pods`. */
export function qualifiedName(r: Pick<KubeResource, 'plural' | 'group'>): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}
