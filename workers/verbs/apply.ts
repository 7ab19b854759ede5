import type { ManifestObject } from '../../common/manifest.ts';
import type { SkippedObject } from '../../common/manifest-machinery.ts';
import { DEFAULT_SERVICE_ACCOUNT, NO_TOKEN_WARNING } from '../../common/service-account.ts';
import type { Database } from '../../db/database.ts';
import { authorize, requireAdmin } from '../auth/authorize.ts';
import type { Principal, Resource } from '../auth/principal.ts';
import { maybeDryRun, type WriteOptions, type Written } from '../store/objects.ts';
import { applyConfigMap } from './config-maps.ts';
import { applyCronJob } from './cron-jobs.ts';
import { applyDeployment } from './deployments.ts';
import { applyIngress } from './ingresses.ts';
import { applyJob } from './jobs.ts';
import { applyClaim, missingClaimWarnings } from './persistent-volume-claims.ts';
import { applyPolicy } from './policies.ts';
import { applySecret, missingSecretWarnings } from './secrets.ts';
import { applyServiceAccount, findServiceAccounts } from './service-accounts.ts';
import { applyService } from './services.ts';
import { applyTrustRule } from './trust-rules.ts';

export interface AppliedObject {
  kind: ManifestObject['kind'];
  namespace: string;
  name: string;
  /** `skipped`: a kind that only serves Kubernetes' API machinery, accepted and not stored. */
  action: 'created' | 'configured' | 'unchanged' | 'skipped';
}

/** An object applied that will not run as written (common/wire/apply.ts ApplyWarning). */
export interface ApplyWarning {
  kind: ManifestObject['kind'];
  namespace: string;
  name: string;
  message: string;
}

/** What a kind's write did, and which nodes' agents to wake after commit (a secret they wait for). */
type KindWritten = Written<unknown> & { wakeNodes?: string[]; wakeDeployments?: string[] };

interface ApplyContext {
  namespace: string;
  secretKey: string | undefined;
  write: WriteOptions;
}

/** The objects an apply stores. */
type StoredObject = Exclude<ManifestObject, SkippedObject>;
const isSkipped = (o: ManifestObject): o is SkippedObject => 'clusterScoped' in o;

/** How each manifest kind is authorized and applied: adding a kind is adding an entry. */
const KINDS: {
  [K in StoredObject['kind']]: {
    resource: Resource;
    apply(tx: Database, o: Extract<StoredObject, { kind: K }>, ctx: ApplyContext): Promise<KindWritten>;
  };
} = {
  Deployment: {
    resource: 'deployments',
    apply: (tx, o, ctx) =>
      applyDeployment(
        tx,
        { namespace: ctx.namespace, name: o.name, input: { metadata: metadataOf(o), spec: o.spec } },
        ctx.write,
      ),
  },
  Job: {
    resource: 'jobs',
    apply: (tx, o, ctx) =>
      applyJob(
        tx,
        { namespace: ctx.namespace, name: o.name, input: { metadata: metadataOf(o), spec: o.spec } },
        ctx.write,
      ),
  },
  CronJob: {
    resource: 'cronjobs',
    apply: (tx, o, ctx) =>
      applyCronJob(
        tx,
        { namespace: ctx.namespace, name: o.name, input: { metadata: metadataOf(o), spec: o.spec } },
        ctx.write,
      ),
  },
  Service: {
    resource: 'services',
    apply: (tx, o, ctx) =>
      applyService(
        tx,
        { namespace: ctx.namespace, name: o.name, input: { metadata: metadataOf(o), spec: o.spec } },
        ctx.write,
      ),
  },
  Secret: {
    resource: 'secrets',
    apply: (tx, o, ctx) =>
      applySecret(
        tx,
        ctx.secretKey,
        {
          namespace: ctx.namespace,
          name: o.name,
          input: { metadata: metadataOf(o), type: o.type, data: o.data },
        },
        ctx.write,
      ),
  },
  ConfigMap: {
    resource: 'configmaps',
    apply: (tx, o, ctx) =>
      applyConfigMap(
        tx,
        { namespace: ctx.namespace, name: o.name, input: { metadata: metadataOf(o), ...o.spec } },
        ctx.write,
      ),
  },
  PersistentVolumeClaim: {
    resource: 'persistentvolumeclaims',
    apply: (tx, o, ctx) =>
      applyClaim(
        tx,
        {
          namespace: ctx.namespace,
          name: o.name,
          input: {
            metadata: metadataOf(o),
            spec: {
              accessModes: o.spec.accessModes,
              resources: { requests: { storage: o.spec.storage } },
              ...(o.spec.storageClassName !== null ? { storageClassName: o.spec.storageClassName } : {}),
            },
          },
        },
        ctx.write,
      ),
  },
  ServiceAccount: {
    resource: 'serviceaccounts',
    apply: (tx, o, ctx) =>
      applyServiceAccount(
        tx,
        { namespace: ctx.namespace, name: o.name, input: { metadata: metadataOf(o), ...o.spec } },
        ctx.write,
      ),
  },
  Ingress: {
    resource: 'ingresses',
    apply: (tx, o, ctx) =>
      applyIngress(
        tx,
        { namespace: ctx.namespace, name: o.name, input: { metadata: metadataOf(o), spec: o.spec } },
        ctx.write,
      ),
  },
  NamespacePolicy: {
    resource: 'policies',
    apply: (tx, o, ctx) => applyPolicy(tx, o.name, { metadata: metadataOf(o), spec: o.spec }, ctx.write),
  },
  TrustRule: {
    resource: 'trustrules',
    apply: (tx, o, ctx) => applyTrustRule(tx, o.name, { metadata: metadataOf(o), spec: o.spec }, ctx.write),
  },
};

/** Where a document lands: a policy governs the namespace it is named after; '' is no namespace. */
const namespaceOf = (o: ManifestObject, fallback: string) =>
  o.kind === 'NamespacePolicy'
    ? o.name
    : o.kind === 'TrustRule' || (isSkipped(o) && o.clusterScoped)
      ? ''
      : (o.namespace ?? fallback);

/**
 * A skipped object is written nowhere, yet answering for it still takes the right to write where it
 * would live: its namespace's workloads, or (cluster-scoped RBAC) an admin's.
 */
function authorizeSkipped(principal: Principal, namespace: string): void {
  if (namespace) authorize(principal, 'write', 'deployments', namespace);
  else requireAdmin(principal);
}

function metadataOf(o: StoredObject) {
  return {
    labels: o.labels,
    annotations: o.annotations,
    ...(o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}),
  };
}

function applyOne(tx: Database, o: StoredObject, ctx: ApplyContext): Promise<KindWritten> {
  const entry = KINDS[o.kind] as {
    apply(tx: Database, o: StoredObject, ctx: ApplyContext): Promise<KindWritten>;
  };
  return entry.apply(tx, o, ctx);
}

/**
 * Apply a set of manifests all or nothing: one transaction, so any rejected document (a
 * conflict, a host another service holds) leaves every other document unapplied too.
 * Permissions are checked for every document before anything is written. A dry run goes
 * through every check of the real apply, then rolls back. Warnings are judged once every
 * document is written, so a secret the same apply creates counts as existing.
 */
export async function applyManifests(
  db: Database,
  args: {
    objects: ManifestObject[];
    defaultNamespace: string;
    principal: Principal;
    secretKey: string | undefined;
    write: WriteOptions;
  },
): Promise<{
  items: AppliedObject[];
  changedDeployments: string[];
  warnings: ApplyWarning[];
  wakeNodes: string[];
  /** The stored rows, in the order of `items` (undefined for a skipped object). */
  rows: unknown[];
}> {
  const targets = args.objects.map((o) => ({ object: o, namespace: namespaceOf(o, args.defaultNamespace) }));
  for (const { object, namespace } of targets) {
    if (isSkipped(object)) authorizeSkipped(args.principal, namespace);
    else authorize(args.principal, 'write', KINDS[object.kind].resource, namespace);
  }
  const dryRun = args.write.dryRun ?? false;
  // The one transaction below is the dry run's; each object's own write runs inside it for real.
  const write = { ...args.write, dryRun: false };
  return maybeDryRun(db, dryRun, (work) =>
    work.transaction(async (tx) => {
      const items: AppliedObject[] = [];
      const rows: unknown[] = [];
      const changedDeployments: string[] = [];
      const wakeNodes = new Set<string>();
      for (const { object, namespace } of targets) {
        if (isSkipped(object)) {
          items.push({ kind: object.kind, namespace, name: object.name, action: 'skipped' });
          rows.push(undefined);
          continue;
        }
        const result = await applyOne(tx, object, { namespace, secretKey: args.secretKey, write });
        rows.push(result.row);
        if ((object.kind === 'Deployment' || object.kind === 'Job') && result.changed && !dryRun)
          changedDeployments.push((result.row as { id: string }).id);
        for (const id of result.wakeNodes ?? []) wakeNodes.add(id);
        // Replicas that waited for a claim this apply creates are placed now.
        if (!dryRun) changedDeployments.push(...(result.wakeDeployments ?? []));
        items.push({
          kind: object.kind,
          namespace,
          name: object.name,
          action: result.created ? 'created' : result.changed ? 'configured' : 'unchanged',
        });
      }
      const warnings: ApplyWarning[] = [];
      for (const { object, namespace } of targets) {
        if ('warnings' in object)
          for (const message of object.warnings ?? [])
            warnings.push({ kind: object.kind, namespace, name: object.name, message });
        if (object.kind !== 'Deployment' && object.kind !== 'Job') continue;
        for (const message of await missingSecretWarnings(tx, namespace, object.spec.template.spec))
          warnings.push({ kind: object.kind, namespace, name: object.name, message });
        for (const message of await missingClaimWarnings(tx, namespace, object.spec.template.spec))
          warnings.push({ kind: object.kind, namespace, name: object.name, message });
        for (const message of await serviceAccountWarnings(tx, namespace, object))
          warnings.push({ kind: object.kind, namespace, name: object.name, message });
      }
      return { items, changedDeployments, warnings, wakeNodes: [...wakeNodes], rows };
    }),
  );
}

/**
 * What Kubernetes would have done with the Deployment's service account that Berth does not: mount
 * an API token (said once per document: when the pod asks, or leaves it to an account that does
 * not say no), and refuse to create pods for an account that does not exist (Berth's replicas
 * wait Pending for it instead). Read after every document is written, so an account the same
 * apply creates counts.
 */
async function serviceAccountWarnings(
  tx: Database,
  namespace: string,
  o: Extract<ManifestObject, { kind: 'Deployment' | 'Job' }>,
): Promise<string[]> {
  const name = o.spec.template.spec.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT;
  const stored = await findServiceAccounts(tx, namespace, [name]);
  const warnings: string[] = [];
  if (name !== DEFAULT_SERVICE_ACCOUNT && !stored.has(name))
    warnings.push(`serviceaccount "${name}" not found: its replicas wait (Pending) until it is created`);
  const mounts =
    o.serviceAccountToken === 'pod' || (o.serviceAccountToken === 'account' && stored.get(name) !== false);
  if (mounts) warnings.push(NO_TOKEN_WARNING);
  return warnings;
}
