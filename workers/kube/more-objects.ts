import type { PersistentVolumeClaim } from '../../common/wire/persistent-volume-claim.ts';
import type { Event } from '../../common/wire/replica.ts';
import type { Endpoint, Secret, Service } from '../../common/wire/service.ts';
import type { ServiceAccount } from '../../common/wire/service-account.ts';
import { type KubeObject, kubeMeta } from './objects.ts';

/**
 * Secrets, PersistentVolumeClaims, ServiceAccounts and Events as Kubernetes objects, pure (as
 * objects.ts does for the workloads).
 */

/** A Secret's key names: Berth never returns values (write-only, as `/v1` reads say). */
export const SECRET_KEYS_ANNOTATION = 'berth.dev/keys';

/**
 * A Secret without `data`: `/v1` returns key names only, to every role, and so does this face
 * (an empty `data` would read as empty values). The names are in the berth.dev/keys annotation.
 */
export function kubeSecret(s: Secret): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: kubeMeta(s.metadata, s.keys.length ? { [SECRET_KEYS_ANNOTATION]: s.keys.join(',') } : {}),
    // Kubernetes' name for an opaque secret; Berth's registry credentials have none there.
    type: s.type === 'opaque' ? 'Opaque' : s.type === 'registry' ? 'berth.dev/registry' : s.type,
  };
}

export function kubeClaim(pvc: PersistentVolumeClaim): KubeObject {
  const { deletionTimestamp, ...metadata } = pvc.metadata;
  const { nodeName, ...status } = pvc.status;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      ...kubeMeta(metadata, nodeName ? { 'volume.kubernetes.io/selected-node': nodeName } : {}),
      ...(deletionTimestamp ? { deletionTimestamp } : {}),
    },
    spec: pvc.spec,
    status,
  };
}

export function kubeServiceAccount(sa: ServiceAccount): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: kubeMeta(sa.metadata),
    ...(sa.automountServiceAccountToken !== undefined
      ? { automountServiceAccountToken: sa.automountServiceAccountToken }
      : {}),
  };
}

const INVOLVED: Record<string, { apiVersion: string; kind: string }> = {
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment' },
  job: { apiVersion: 'batch/v1', kind: 'Job' },
  cronjob: { apiVersion: 'batch/v1', kind: 'CronJob' },
  node: { apiVersion: 'v1', kind: 'Node' },
};

/** A Berth event (each recorded once: count 1) as a core/v1 Event about its object. */
export function kubeEvent(e: Event): KubeObject {
  const [kind = '', name = ''] = e.object.split('/');
  const involved = INVOLVED[kind] ?? { apiVersion: 'v1', kind: kind.charAt(0).toUpperCase() + kind.slice(1) };
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${name}.${e.id}`,
      ...(e.namespace ? { namespace: e.namespace } : {}),
      uid: `event-${e.id}`,
      resourceVersion: String(e.id),
      creationTimestamp: e.createdAt,
    },
    involvedObject: {
      ...involved,
      name,
      ...(e.namespace && kind !== 'node' ? { namespace: e.namespace } : {}),
    },
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component: 'berth' },
    reportingComponent: 'berth',
    reportingInstance: '',
    firstTimestamp: e.createdAt,
    lastTimestamp: e.createdAt,
    count: 1,
  };
}

/**
 * A Service's ready endpoints (the same read as `GET /v1/.../services/{name}/endpoints`) as its
 * Endpoints object. Berth publishes a pod's ports on its node, so an address is the node's and a
 * port the host port of the service port there: each pod is a subset of its own (host ports
 * differ from pod to pod).
 */
export function kubeEndpoints(s: Service, items: readonly Endpoint[]): KubeObject {
  const main = s.spec.ports.find((p) => p.name === 'http') ?? s.spec.ports[0];
  const subsets = items.map((e) => ({
    addresses: [
      {
        ip: e.address,
        nodeName: e.node,
        targetRef: { kind: 'Pod', name: e.replica, namespace: s.metadata.namespace },
      },
    ],
    ports: e.ports
      ? e.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.hostPort, protocol: 'TCP' }))
      : [{ ...(main?.name ? { name: main.name } : {}), port: e.port, protocol: 'TCP' }],
  }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { ...kubeMeta(s.metadata), uid: `${s.metadata.uid}-endpoints` },
    ...(subsets.length ? { subsets } : {}),
  };
}
