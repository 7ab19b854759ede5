import type { Replica } from '../../common/wire/replica.ts';
import { type KubeObject, REVISION_ANNOTATION } from './objects.ts';
import { kubePodTemplate } from './pod-template.ts';

/**
 * A Deployment's revisions as the ReplicaSets Kubernetes keeps one per pod template: what
 * `kubectl rollout history` and `rollout undo` read. Berth stores revisions (a template and its
 * hash, db/schema/revisions.ts) and replicas that name their revision; a ReplicaSet is the two
 * put together, pure, so it is never stored twice.
 */

/** The label Kubernetes puts on a ReplicaSet and its pods: the hash of their pod template. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** The alphabet Kubernetes writes hashes with (no vowels, no look-alikes: never a word). */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Berth's template hash (hex) in Kubernetes' style: a 32-bit number's decimal digits, each
 * mapped into the safe alphabet as Kubernetes maps them (`5d8f6c9b47`-like, up to 10 characters).
 * Stable: the same template always shows the same name.
 */
export function podTemplateHash(berthHash: string): string {
  const n = Number.parseInt(berthHash.slice(0, 8), 16);
  const digits = Number.isNaN(n) ? berthHash : String(n >>> 0);
  return [...digits].map((ch) => SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** One stored revision of a deployment (workers/verbs/revisions.ts). */
export interface RevisionSource {
  revision: number;
  templateHash: string;
  template: {
    metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    spec: { drainDelaySeconds?: number; [field: string]: unknown };
  };
  createdAt: string;
}

/** How the face names a revision's ReplicaSet and what its pods carry. */
export interface RevisionIdentity {
  name: string;
  uid: string;
  hash: string;
}

export function revisionIdentity(deployment: { name: string; uid: string }, templateHash: string) {
  const hash = podTemplateHash(templateHash);
  return { name: `${deployment.name}-${hash}`, uid: `${deployment.uid}-${hash}`, hash };
}

type Loose = Record<string, unknown>;
const rec = (v: unknown): Loose => (v && typeof v === 'object' ? (v as Loose) : {});

/** Annotations a Deployment has that are its own, not its ReplicaSets' (as Kubernetes skips them). */
const NOT_COPIED = new Set([
  REVISION_ANNOTATION,
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision-history',
]);

/**
 * The ReplicaSets of one Deployment (its Kubernetes form, objects.ts `kubeDeployment`), oldest
 * revision first. The current revision's wants the Deployment's replicas; an older one wants the
 * replicas of it still running (0 once the rollout has replaced them). Status counts the
 * revision's replicas that are running (not told to stop) and ready.
 */
export function kubeReplicaSets(
  deployment: KubeObject,
  revisions: readonly RevisionSource[],
  replicas: readonly Replica[],
): KubeObject[] {
  const meta = deployment.metadata;
  const spec = rec(deployment.spec);
  const current = Number(meta.annotations?.[REVISION_ANNOTATION] ?? Number.NaN);
  const desired = typeof spec.replicas === 'number' ? spec.replicas : 1;
  const selectorLabels = rec(rec(spec.selector).matchLabels) as Record<string, string>;
  const ownAnnotations = Object.fromEntries(
    Object.entries(meta.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)),
  );
  return [...revisions]
    .sort((a, b) => a.revision - b.revision)
    .map((rev) => {
      const id = revisionIdentity(meta, rev.templateHash);
      const isCurrent = rev.revision === current;
      const running = replicas.filter((r) => r.revision === rev.revision && r.desired === 'running');
      const ready = running.filter((r) => r.ready).length;
      const labels = { ...rev.template.metadata.labels, [POD_TEMPLATE_HASH]: id.hash };
      return {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: id.name,
          namespace: meta.namespace,
          uid: id.uid,
          // A ReplicaSet changes when its Deployment's status does: the Deployment's version orders it.
          resourceVersion: meta.resourceVersion,
          generation: 1,
          creationTimestamp: rev.createdAt,
          labels,
          annotations: {
            // The Deployment's own annotations (a change-cause among them) are known for its template only.
            ...(isCurrent ? ownAnnotations : {}),
            [REVISION_ANNOTATION]: String(rev.revision),
            'deployment.kubernetes.io/desired-replicas': String(desired),
          },
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'Deployment', name: meta.name, uid: meta.uid, controller: true },
          ],
        },
        spec: {
          replicas: isCurrent ? desired : running.length,
          ...(typeof spec.minReadySeconds === 'number' ? { minReadySeconds: spec.minReadySeconds } : {}),
          selector: { matchLabels: { ...selectorLabels, [POD_TEMPLATE_HASH]: id.hash } },
          template: kubePodTemplate({ ...rev.template, metadata: { ...rev.template.metadata, labels } }),
        },
        status: {
          replicas: running.length,
          fullyLabeledReplicas: running.length,
          readyReplicas: ready,
          availableReplicas: ready,
          observedGeneration: 1,
        },
      };
    });
}
