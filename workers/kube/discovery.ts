import { groupVersion, type KubeResource, resourcesOf, SERVED_GROUPS, servedVersion } from './resources.ts';

/**
 * Kubernetes discovery documents built from the resource table (resources.ts): what kubectl reads
 * before anything else to learn which groups, versions and resources a server has.
 */

/** The Kubernetes minor this face answers as: kubectl's version-skew warning reads it. */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-berth' } as const;

export function versionInfo(platform = 'linux/amd64') {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: '',
    compiler: 'berth',
    platform,
  };
}

/** `GET /api`: the core group's versions. */
export function coreVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(group: string) {
  const version = servedVersion(group) ?? 'v1';
  const gv = { groupVersion: groupVersion(group, version), version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

/** `GET /apis`: the named groups. */
export function groupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: SERVED_GROUPS.map((g) => groupEntry(g.group)) };
}

/** `GET /apis/{group}`: one group. */
export function groupInfo(group: string) {
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) };
}

export function isServedGroup(group: string): boolean {
  return group !== '' && servedVersion(group) !== undefined;
}

/**
 * The subresources served beside a resource: a pod's logs, its exec, attach and port-forward streams
 * (workers/kube/pod-log-route.ts, pod-exec-route.ts, pod-port-forward-route.ts). Kubernetes lists them as `pods/log` entries of their own,
 * and as `subresources` of their resource in aggregated discovery.
 */
const SUBRESOURCES: Record<string, { name: string; kind: string; verbs: KubeResource['verbs'] }[]> = {
  pods: [
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'log', kind: 'Pod', verbs: ['get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  ],
};
/** A core resource's subresources (metrics.k8s.io's `pods` have none). */
const subresourcesOf = (r: KubeResource) => (r.group === '' ? SUBRESOURCES[r.plural] : undefined);

/** `GET /api/v1`, `GET /apis/{group}/v1`: the resources of one group version. */
export function resourceList(group: string, version: string) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion(group, version),
    resources: resourcesOf(group, version).flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
      },
      ...(subresourcesOf(r) ?? []).map((s) => ({
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      })),
    ]),
  };
}

/**
 * The aggregated discovery media type kubectl asks for first: one document per `/api` or `/apis`
 * that saves it a request per group version.
 */
export const AGGREGATED_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether an Accept header asks for aggregated discovery (v2; v2beta1 is not served). */
export function wantsAggregated(accept: string | undefined): boolean {
  return mediaTypes(accept).some(
    (m) =>
      m.params.g === 'apidiscovery.k8s.io' && m.params.v === 'v2' && m.params.as === 'APIGroupDiscoveryList',
  );
}

function aggregatedResource(r: KubeResource) {
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(subresourcesOf(r)
      ? {
          subresources: subresourcesOf(r)!.map((s) => ({
            subresource: s.name,
            responseKind: { group: '', version: 'v1', kind: s.kind },
            verbs: s.verbs,
          })),
        }
      : {}),
  };
}

/** `/api` (the core group) or `/apis` (the named groups) as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(which: 'core' | 'groups') {
  const groups = which === 'core' ? [{ group: '', version: 'v1' }] : SERVED_GROUPS;
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map(({ group, version }) => ({
      metadata: { name: group, creationTimestamp: null },
      versions: [
        { version, resources: resourcesOf(group, version).map(aggregatedResource), freshness: 'Current' },
      ],
    })),
  };
}

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** An Accept header as its media types with their parameters (`application/json;as=Table;v=v1`). */
export function mediaTypes(accept: string | undefined): MediaType[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}
