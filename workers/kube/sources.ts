import { LabelSelectorError, matchesSelector, parseLabelSelector } from '../../common/label-selector.ts';
import type { ConfigMap } from '../../common/wire/config-map.ts';
import type { CronJob } from '../../common/wire/cron-job.ts';
import type { Deployment } from '../../common/wire/deployment.ts';
import type { Ingress } from '../../common/wire/ingress.ts';
import type { Job } from '../../common/wire/job.ts';
import type { Node } from '../../common/wire/node.ts';
import type { PersistentVolumeClaim } from '../../common/wire/persistent-volume-claim.ts';
import type { Event, Replica } from '../../common/wire/replica.ts';
import type { Secret, Service } from '../../common/wire/service.ts';
import type { ServiceAccount } from '../../common/wire/service-account.ts';
import type { Database } from '../../db/database.ts';
import type { Resource } from '../auth/principal.ts';
import { getConfigMap, listConfigMaps, toConfigMapObject } from '../verbs/config-maps.ts';
import { cronJobObjects, getCronJob, listCronJobs } from '../verbs/cron-jobs.ts';
import { getDeployment, listDeployments, toDeploymentObject } from '../verbs/deployments.ts';
import { listEvents } from '../verbs/events.ts';
import { getIngress, listIngresses, toIngressObject } from '../verbs/ingresses.ts';
import { getJob, listJobs, toJobObject } from '../verbs/jobs.ts';
import { listNamespaceRows } from '../verbs/namespaces.ts';
import { getNode, listNodes } from '../verbs/nodes.ts';
import { getClaim, listClaims, toClaimObject } from '../verbs/persistent-volume-claims.ts';
import { listReplicas } from '../verbs/replicas.ts';
import { listNamespaceRevisions } from '../verbs/revisions.ts';
import { getSecret, listSecrets, toSecretObject } from '../verbs/secrets.ts';
import { getServiceAccount, listServiceAccounts, toServiceAccountObject } from '../verbs/service-accounts.ts';
import { getService, listEndpoints, listServices, toServiceObject } from '../verbs/services.ts';
import { listNodeUsage, listReplicaUsage } from '../verbs/usage.ts';
import { nodeMetricsList, podMetricsList } from './metrics.ts';
import { kubeClaim, kubeEndpoints, kubeEvent, kubeSecret, kubeServiceAccount } from './more-objects.ts';
import {
  type KubeObject,
  kubeConfigMap,
  kubeCronJob,
  kubeDeployment,
  kubeIngress,
  kubeJob,
  kubeNamespace,
  kubeNode,
  kubePod,
  kubeService,
  withManagedFields,
} from './objects.ts';
import { kubeReplicaSets, POD_TEMPLATE_HASH, revisionIdentity } from './replica-sets.ts';
import { type KubeResource, METRICS_GROUP } from './resources.ts';
import { KubeStatusError } from './status.ts';

/**
 * Where each Kubernetes resource's objects come from: Berth's own verbs, the same ones `/v1`
 * calls, with the result converted (objects.ts). The role a read needs is the `/v1` route's.
 */
export interface KubeSource {
  /** The Berth resource whose read right this needs. */
  authz: Resource | 'namespaces';
  /** `namespace` undefined: a cluster-scoped resource. */
  list(db: Database, namespace: string | undefined, labelSelector: string | undefined): Promise<KubeObject[]>;
  /** Throws Berth's NOT_FOUND when absent; the route words it as Kubernetes does. */
  get(db: Database, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
}

const ns = (namespace: string | undefined) => namespace ?? 'default';

/** A label selector checked here, for the sources whose verbs take none. */
function selecting(labelSelector: string | undefined) {
  try {
    const requirements = labelSelector ? parseLabelSelector(labelSelector) : [];
    return (o: KubeObject) => matchesSelector(o.metadata.labels ?? {}, requirements);
  } catch (e) {
    if (e instanceof LabelSelectorError)
      throw new KubeStatusError('BAD_REQUEST', `unable to parse requirement: ${e.message}`);
    throw e;
  }
}

/** A pod's workload: its template, and the revision that template is (a Job's: any). */
interface PodOwner {
  template: {
    metadata: { labels: Record<string, string> };
    spec: { containers: readonly { name: string }[] };
  };
  revision: number | null | 'any';
  uid: string;
}

async function pods(db: Database, namespace: string): Promise<KubeObject[]> {
  // A pod's labels are its workload's template labels (Berth keeps them on the workload).
  const [replicas, deployments, jobs, revisions] = await Promise.all([
    listReplicas(db, namespace),
    listDeployments(db, namespace),
    listJobs(db, namespace),
    listNamespaceRevisions(db, namespace),
  ]);
  const owners = new Map<string, PodOwner>();
  for (const d of deployments)
    owners.set(`d/${d.name}`, { template: d.spec.template, revision: d.status?.revision ?? null, uid: d.id });
  for (const j of jobs)
    owners.set(`j/${j.name}`, { template: toJobObject(j).spec.template, revision: 'any', uid: j.id });
  const byRevision = new Map(revisions.map((v) => [`${v.deployment}/${v.revision}`, v]));
  return replicas.map((r) => {
    const owner = owners.get(r.job !== undefined ? `j/${r.job}` : `d/${r.deployment}`);
    if (r.job === undefined) {
      // A Deployment's pod runs its revision's template, and is owned by that revision's ReplicaSet.
      const rev = byRevision.get(`${r.deployment}/${r.revision}`);
      const id = rev && owner && revisionIdentity({ name: r.deployment, uid: owner.uid }, rev.templateHash);
      if (rev && id)
        return kubePod({
          replica: r as Replica,
          labels: { ...rev.template.metadata.labels, [POD_TEMPLATE_HASH]: id.hash },
          containers: rev.template.spec.containers,
          owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: id.name, uid: id.uid },
        });
    }
    // A Deployment's template is this replica's only when the replica runs the current revision
    // (a Job's template never changes).
    const current = owner && (owner.revision === 'any' || owner.revision === r.revision);
    return kubePod({
      replica: r as Replica,
      labels: owner?.template.metadata.labels ?? {},
      ...(current ? { containers: owner.template.spec.containers } : {}),
      ...(owner && r.job !== undefined
        ? { owner: { apiVersion: 'batch/v1', kind: 'Job', name: r.job, uid: owner.uid } }
        : {}),
    });
  });
}

/** A namespace's ReplicaSets: each live Deployment's revisions (replica-sets.ts). */
async function replicaSets(db: Database, namespace: string): Promise<KubeObject[]> {
  const [deployments, revisions, replicas] = await Promise.all([
    listDeployments(db, namespace),
    listNamespaceRevisions(db, namespace),
    listReplicas(db, namespace),
  ]);
  return deployments.flatMap((d) =>
    kubeReplicaSets(
      kubeDeployment(toDeploymentObject(d) as Deployment),
      revisions.filter((v) => v.deployment === d.name),
      (replicas as Replica[]).filter((r) => r.job === undefined && r.deployment === d.name),
    ),
  );
}

async function namespaceObjects(db: Database): Promise<KubeObject[]> {
  return (await listNamespaceRows(db)).map((n) =>
    kubeNamespace({
      ...n,
      createdAt: n.createdAt.toISOString(),
      terminatingAt: n.terminatingAt?.toISOString() ?? null,
    }),
  );
}

export const KUBE_SOURCES: Record<string, KubeSource> = {
  deployments: {
    authz: 'deployments',
    list: async (db, n, sel) =>
      (await listDeployments(db, ns(n), sel)).map((r) =>
        withManagedFields(kubeDeployment(toDeploymentObject(r) as Deployment), r),
      ),
    get: async (db, n, name) => {
      const row = await getDeployment(db, ns(n), name);
      return withManagedFields(kubeDeployment(toDeploymentObject(row) as Deployment), row);
    },
  },
  services: {
    authz: 'services',
    list: async (db, n, sel) =>
      (await listServices(db, ns(n), sel)).map((r) =>
        withManagedFields(kubeService(toServiceObject(r) as Service), r),
      ),
    get: async (db, n, name) => {
      const row = await getService(db, ns(n), name);
      return withManagedFields(kubeService(toServiceObject(row) as Service), row);
    },
  },
  configmaps: {
    authz: 'configmaps',
    list: async (db, n, sel) =>
      (await listConfigMaps(db, ns(n), sel)).map((r) =>
        withManagedFields(kubeConfigMap(toConfigMapObject(r) as ConfigMap), r),
      ),
    get: async (db, n, name) => {
      const row = await getConfigMap(db, ns(n), name);
      return withManagedFields(kubeConfigMap(toConfigMapObject(row) as ConfigMap), row);
    },
  },
  jobs: {
    authz: 'jobs',
    list: async (db, n, sel) =>
      (await listJobs(db, ns(n), sel)).map((r) => withManagedFields(kubeJob(toJobObject(r) as Job), r)),
    get: async (db, n, name) => {
      const row = await getJob(db, ns(n), name);
      return withManagedFields(kubeJob(toJobObject(row) as Job), row);
    },
  },
  cronjobs: {
    authz: 'cronjobs',
    list: async (db, n, sel) => {
      const rows = await listCronJobs(db, ns(n), sel);
      return ((await cronJobObjects(db, rows)) as CronJob[]).map((o, i) =>
        withManagedFields(kubeCronJob(o), rows[i] ?? {}),
      );
    },
    get: async (db, n, name) => {
      const row = await getCronJob(db, ns(n), name);
      const [object] = (await cronJobObjects(db, [row])) as CronJob[];
      return object && withManagedFields(kubeCronJob(object), row);
    },
  },
  replicasets: {
    authz: 'deployments',
    list: async (db, n, sel) => (await replicaSets(db, ns(n))).filter(selecting(sel)),
    get: async (db, n, name) => (await replicaSets(db, ns(n))).find((o) => o.metadata.name === name),
  },
  pods: {
    authz: 'replicas',
    list: async (db, n, sel) => (await pods(db, ns(n))).filter(selecting(sel)),
    get: async (db, n, name) => (await pods(db, ns(n))).find((p) => p.metadata.name === name),
  },
  endpoints: {
    authz: 'services',
    list: async (db, n, sel) => {
      const services = (await listServices(db, ns(n), sel)).map((r) => toServiceObject(r) as Service);
      return Promise.all(
        services.map(async (s) => kubeEndpoints(s, (await listEndpoints(db, ns(n), s.metadata.name)).items)),
      );
    },
    get: async (db, n, name) => {
      const { service, items } = await listEndpoints(db, ns(n), name);
      return kubeEndpoints(toServiceObject(service) as Service, items);
    },
  },
  secrets: {
    authz: 'secrets',
    list: async (db, n, sel) =>
      (await listSecrets(db, ns(n), sel)).map((r) =>
        withManagedFields(kubeSecret(toSecretObject(r) as Secret), r),
      ),
    get: async (db, n, name) => {
      const row = await getSecret(db, ns(n), name);
      return withManagedFields(kubeSecret(toSecretObject(row) as Secret), row);
    },
  },
  persistentvolumeclaims: {
    authz: 'persistentvolumeclaims',
    list: async (db, n, sel) =>
      (await listClaims(db, ns(n), sel)).map((r) => kubeClaim(toClaimObject(r) as PersistentVolumeClaim)),
    get: async (db, n, name) =>
      kubeClaim(toClaimObject(await getClaim(db, ns(n), name)) as PersistentVolumeClaim),
  },
  serviceaccounts: {
    authz: 'serviceaccounts',
    list: async (db, n, sel) =>
      (await listServiceAccounts(db, ns(n), sel)).map((r) =>
        withManagedFields(kubeServiceAccount(toServiceAccountObject(r) as ServiceAccount), r),
      ),
    get: async (db, n, name) => {
      const row = await getServiceAccount(db, ns(n), name);
      return withManagedFields(kubeServiceAccount(toServiceAccountObject(row) as ServiceAccount), row);
    },
  },
  events: {
    authz: 'events',
    // The namespace's most recent events (as many as `/v1` returns at most), oldest first.
    list: async (db, n, sel) =>
      (await listEvents(db, ns(n), { limit: 1000 })).map((e) => kubeEvent(e as Event)).filter(selecting(sel)),
    get: async (db, n, name) =>
      (await listEvents(db, ns(n), { limit: 1000 }))
        .map((e) => kubeEvent(e as Event))
        .find((o) => o.metadata.name === name),
  },
  nodes: {
    authz: 'nodes',
    list: async (db, _n, sel) => ((await listNodes(db)) as Node[]).map(kubeNode).filter(selecting(sel)),
    get: async (db, _n, name) => kubeNode((await getNode(db, name)) as Node),
  },
  ingresses: {
    authz: 'ingresses',
    list: async (db, n, sel) =>
      (await listIngresses(db, ns(n), sel)).map((r) =>
        withManagedFields(kubeIngress(toIngressObject(r) as Ingress), r),
      ),
    get: async (db, n, name) => {
      const row = await getIngress(db, ns(n), name);
      return withManagedFields(kubeIngress(toIngressObject(row) as Ingress), row);
    },
  },
  namespaces: {
    authz: 'namespaces',
    list: async (db, _n, sel) => (await namespaceObjects(db)).filter(selecting(sel)),
    get: async (db, _n, name) => (await namespaceObjects(db)).find((o) => o.metadata.name === name),
  },
};

/**
 * metrics.k8s.io's PodMetrics and NodeMetrics (metrics.ts): the pods and nodes as above (names,
 * labels, selectors) joined with their latest usage samples; those without one are left out.
 */
export const METRICS_SOURCES: Record<string, KubeSource> = {
  pods: {
    authz: 'replicas',
    list: async (db, n, sel) => {
      const [objects, usage] = await Promise.all([
        KUBE_SOURCES.pods!.list(db, n, sel),
        listReplicaUsage(db, ns(n)),
      ]);
      return podMetricsList(objects, usage);
    },
    get: async (db, n, name) =>
      (await METRICS_SOURCES.pods!.list(db, n, undefined)).find((o) => o.metadata.name === name),
  },
  nodes: {
    authz: 'nodes',
    list: async (db, _n, sel) => {
      const [objects, usage] = await Promise.all([
        KUBE_SOURCES.nodes!.list(db, undefined, sel),
        listNodeUsage(db),
      ]);
      return nodeMetricsList(objects, usage);
    },
    get: async (db, _n, name) =>
      (await METRICS_SOURCES.nodes!.list(db, undefined, undefined)).find((o) => o.metadata.name === name),
  },
};

/** Where a served resource's objects come from: Berth's objects, or their usage (metrics.k8s.io). */
export function sourceOf(r: Pick<KubeResource, 'group' | 'plural'>): KubeSource | undefined {
  return (r.group === METRICS_GROUP ? METRICS_SOURCES : KUBE_SOURCES)[r.plural];
}
