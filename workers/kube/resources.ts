/**
 * The Kubernetes resources Berth serves, as data: discovery, routing and the error messages
 * all read this one table, so adding a resource to the Kubernetes face starts here.
 */

export type KubeVerb = 'get' | 'list' | 'watch';

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
  /** What Berth serves for it today: reads only in this step. */
  verbs: KubeVerb[];
  categories: string[];
}

const READ: KubeVerb[] = ['get', 'list', 'watch'];

export const KUBE_RESOURCES: readonly KubeResource[] = [
  {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: READ,
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
    verbs: READ,
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
    verbs: READ,
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
    verbs: READ,
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
    verbs: READ,
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
    verbs: READ,
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
    verbs: READ,
    categories: [],
  },
];

/** The groups besides the core one, in the order `/apis` lists them. */
export const KUBE_GROUPS = ['apps', 'batch', 'networking.k8s.io'] as const;

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
