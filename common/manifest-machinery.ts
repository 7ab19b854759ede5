import { Name } from './names.ts';
import type { FieldError } from './problem.ts';

/**
 * Kubernetes kinds that only serve Kubernetes' own API machinery, and cannot change what runs on
 * Berth: an apply accepts them as no-ops (item action `skipped`, nothing stored) with a warning
 * that says why, so the manifests people already have apply unchanged. Kinds whose absence would
 * change what runs, or weaken security, are refused with their reason instead.
 */

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const NO_TOKEN = 'Berth mounts no Kubernetes API token into pods and has no RBAC of its own';

/** `apiVersion kind` → the kind, whether it lives in a namespace, and why storing it would change nothing. */
const SKIPPED = {
  'rbac.authorization.k8s.io/v1 Role': { kind: 'Role', namespaced: true, reason: NO_TOKEN },
  'rbac.authorization.k8s.io/v1 RoleBinding': { kind: 'RoleBinding', namespaced: true, reason: NO_TOKEN },
  'rbac.authorization.k8s.io/v1 ClusterRole': { kind: 'ClusterRole', namespaced: false, reason: NO_TOKEN },
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': {
    kind: 'ClusterRoleBinding',
    namespaced: false,
    reason: NO_TOKEN,
  },
  'policy/v1 PodDisruptionBudget': {
    kind: 'PodDisruptionBudget',
    namespaced: true,
    reason:
      "Berth's drain keeps each Deployment within its own maxUnavailable and reads no disruption budgets",
  },
} as const;

export type SkippedKind = (typeof SKIPPED)[keyof typeof SKIPPED]['kind'];
export const SKIPPED_KINDS: readonly SkippedKind[] = Object.values(SKIPPED).map((s) => s.kind);

/** What an apply answers for a skipped object: accepted, not stored, and the warning saying why. */
export interface SkippedObject {
  kind: SkippedKind;
  /** Undefined for cluster-scoped kinds, and for namespaced ones that name none. */
  namespace?: string;
  clusterScoped: boolean;
  name: string;
  warnings: string[];
}

/** Kinds that stay a 422 naming `kind`, each with its reason. */
const REFUSED: Record<string, string> = {
  NetworkPolicy:
    'Berth does not enforce network policies, and accepting one would leave open the traffic it means to close',
  StatefulSet: 'Berth has no stable per-replica identities or volumes; use a Deployment',
  DaemonSet: 'Berth does not run one replica per node; use a Deployment with a nodeSelector',
  Pod: 'use a Deployment with one replica, or a Job: Berth runs pods only for its workloads',
  ReplicaSet: 'use a Deployment: Berth makes its own revisions',
  PersistentVolume:
    "Berth makes each PersistentVolumeClaim's volume on the node that first uses it; apply the claim alone",
  StorageClass: "a claim's storageClassName is recorded, and every claim is a node-local volume",
};

/** The reason a kind is refused, when Berth knows the kind; undefined otherwise. */
export function refusedKindReason(kind: string): string | undefined {
  return Object.hasOwn(REFUSED, kind) ? REFUSED[kind] : undefined;
}

// Kubernetes' rule for RBAC names (a path segment): anything but "/" and "%", and not "." or "..".
const SEGMENT = /^(?!\.\.?$)[^/%]{1,253}$/;

/**
 * A document of a skipped kind → the no-op it applies as, or the problems that keep it from
 * applying. Returns undefined for every other kind.
 */
export function skippedKind(
  apiVersion: string,
  kind: string,
  doc: PlainObject,
): { object?: SkippedObject; errors: FieldError[] } | undefined {
  const entry = Object.hasOwn(SKIPPED, `${apiVersion} ${kind}`)
    ? SKIPPED[`${apiVersion} ${kind}` as keyof typeof SKIPPED]
    : undefined;
  if (!entry) return undefined;
  const errors: FieldError[] = [];
  const metadata = isPlainObject(doc.metadata) ? doc.metadata : {};
  const { name, namespace } = metadata;
  if (typeof name !== 'string' || !SEGMENT.test(name))
    errors.push({ path: 'metadata.name', message: name === undefined ? 'is required' : 'must be a name' });
  if (namespace !== undefined && namespace !== null && !Name.safeParse(namespace).success)
    errors.push({ path: 'metadata.namespace', message: 'must be a namespace name (a DNS-1123 label)' });
  if (errors.length || typeof name !== 'string') return { errors };
  return {
    errors,
    object: {
      kind: entry.kind,
      ...(entry.namespaced && typeof namespace === 'string' ? { namespace } : {}),
      clusterScoped: !entry.namespaced,
      name,
      warnings: [`accepted and not stored: ${entry.reason}`],
    },
  };
}

/**
 * The pod template's service-account fields as Kubernetes reads them: the deprecated
 * `serviceAccount` is the name when `serviceAccountName` is absent; `default` (every pod's account
 * when it names none) is left out, as is `automountServiceAccountToken: false` (what Berth does
 * anyway), so templates stored before these fields were kept read the same. Returns whether
 * Kubernetes would mount an API token: `pod` (the pod asks), `account` (its account decides).
 */
export function takeServiceAccountFields(pod: PlainObject | undefined): {
  serviceAccountToken?: 'pod' | 'account';
  errors: FieldError[];
} {
  const errors: FieldError[] = [];
  if (!pod) return { errors };
  const { serviceAccountName: named, serviceAccount: deprecated } = pod;
  if (typeof named === 'string' && typeof deprecated === 'string' && named !== deprecated)
    errors.push({
      path: 'spec.template.spec.serviceAccount',
      message: `must equal serviceAccountName ("${named}") when both are set: it is its deprecated alias`,
    });
  if (typeof deprecated === 'string' || deprecated === undefined) {
    delete pod.serviceAccount;
    const name = named ?? deprecated;
    if (name === 'default' || name === undefined) delete pod.serviceAccountName;
    else pod.serviceAccountName = name;
  }
  const automount = pod.automountServiceAccountToken;
  if (automount === false) delete pod.automountServiceAccountToken;
  if (automount === true) return { serviceAccountToken: 'pod', errors };
  return automount === undefined ? { serviceAccountToken: 'account', errors } : { errors };
}
