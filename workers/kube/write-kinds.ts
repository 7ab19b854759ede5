import type { ConfigMap } from '../../common/wire/config-map.ts';
import type { CronJob } from '../../common/wire/cron-job.ts';
import type { Deployment } from '../../common/wire/deployment.ts';
import type { Ingress } from '../../common/wire/ingress.ts';
import type { Job } from '../../common/wire/job.ts';
import type { Secret, Service } from '../../common/wire/service.ts';
import type { ServiceAccount } from '../../common/wire/service-account.ts';
import type { Database } from '../../db/database.ts';
import type { Resource } from '../auth/principal.ts';
import { DomainError } from '../errors.ts';
import { requireSecretKey, type SecretRow } from '../kinds/secret.ts';
import type { ServiceAccountRow } from '../kinds/service-account.ts';
import { deleteConfigMap, getConfigMap, toConfigMapObject } from '../verbs/config-maps.ts';
import { cronJobObjects, deleteCronJob, getCronJob } from '../verbs/cron-jobs.ts';
import {
  type DeploymentRow,
  deleteDeployment,
  getDeployment,
  toDeploymentObject,
} from '../verbs/deployments.ts';
import { deleteIngress, getIngress, type IngressRow, toIngressObject } from '../verbs/ingresses.ts';
import { deleteJob, getJob, type JobRow, toJobObject } from '../verbs/jobs.ts';
import { deleteSecret, getSecret, resolveSecrets, toSecretObject } from '../verbs/secrets.ts';
import {
  deleteServiceAccount,
  getServiceAccount,
  toServiceAccountObject,
} from '../verbs/service-accounts.ts';
import { deleteService, getService, type ServiceRow, toServiceObject } from '../verbs/services.ts';
import { kubeSecret, kubeServiceAccount } from './more-objects.ts';
import {
  type KubeObject,
  kubeConfigMap,
  kubeCronJob,
  kubeDeployment,
  kubeIngress,
  kubeJob,
  kubeService,
  withManagedFields,
} from './objects.ts';
import { fillKeptValues, keptValues, withKeptValues } from './secret-values.ts';

/**
 * The kinds the Kubernetes face writes, as data: the Berth resource whose write right a write
 * needs, how a stored row reads as a Kubernetes object, and the `/v1` delete verb. Writes
 * themselves all go through `POST /v1/apply`'s verb (workers/verbs/apply.ts).
 */
export interface WritableKind {
  authz: Resource;
  /** The stored object, or undefined when there is none. */
  current(db: Database, namespace: string, name: string): Promise<Current | undefined>;
  /** A row the apply verb wrote (or would have, in a dry run), as kubectl reads it. */
  fromRow(db: Database, row: unknown): Promise<KubeObject>;
  /** The `/v1` delete; returns the deployments (or Jobs) whose replicas the controller now stops. */
  delete(db: Database, namespace: string, name: string, now: Date): Promise<string[]>;
  /**
   * Puts back into a manifest about to be written what the face never shows (a Secret's values)
   * and the caller kept, from what is stored.
   */
  restore?(
    db: Database,
    secretKey: string | undefined,
    namespace: string,
    name: string,
    doc: Record<string, unknown>,
  ): Promise<void>;
}

/** An object as the face shows it, and what of Berth's own shape a write must keep. */
export interface Current {
  object: KubeObject;
  /** What a patch applies to, when it holds more than is shown (a Secret's keys, standing for their values). */
  patchable?: KubeObject;
  /** A Deployment stored without a selector: the face shows the template's labels as one. */
  impliedSelector?: boolean;
}

/** A verb's NOT_FOUND as absence. */
async function found<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof DomainError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

const secretObject = (row: SecretRow) => withManagedFields(kubeSecret(toSecretObject(row) as Secret), row);
const accountObject = (row: ServiceAccountRow) =>
  withManagedFields(kubeServiceAccount(toServiceAccountObject(row) as ServiceAccount), row);

const deploymentObject = (row: DeploymentRow) =>
  withManagedFields(kubeDeployment(toDeploymentObject(row) as Deployment), row);
const serviceObject = (row: ServiceRow) =>
  withManagedFields(kubeService(toServiceObject(row) as Service), row);
type ConfigMapRow = Parameters<typeof toConfigMapObject>[0];
const configMapObject = (row: ConfigMapRow) =>
  withManagedFields(kubeConfigMap(toConfigMapObject(row) as ConfigMap), row);
const jobObject = (row: JobRow) => withManagedFields(kubeJob(toJobObject(row) as Job), row);
const ingressObject = (row: IngressRow) =>
  withManagedFields(kubeIngress(toIngressObject(row) as Ingress), row);
type CronJobRow = Parameters<typeof cronJobObjects>[1][number];
async function cronJobObject(db: Database, row: CronJobRow): Promise<KubeObject | undefined> {
  const [object] = (await cronJobObjects(db, [row])) as CronJob[];
  return object && withManagedFields(kubeCronJob(object), row);
}

export const WRITABLE: Record<string, WritableKind> = {
  deployments: {
    authz: 'deployments',
    current: async (db, ns, name) => {
      const row = await found(getDeployment(db, ns, name));
      return row && { object: deploymentObject(row), impliedSelector: row.spec.selector === undefined };
    },
    fromRow: async (_db, row) => deploymentObject(row as DeploymentRow),
    delete: async (db, ns, name, now) => [(await deleteDeployment(db, ns, name, now)).id],
  },
  services: {
    authz: 'services',
    current: async (db, ns, name) => {
      const row = await found(getService(db, ns, name));
      return row && { object: serviceObject(row) };
    },
    fromRow: async (_db, row) => serviceObject(row as ServiceRow),
    delete: async (db, ns, name) => {
      await deleteService(db, ns, name);
      return [];
    },
  },
  configmaps: {
    authz: 'configmaps',
    current: async (db, ns, name) => {
      const row = await found(getConfigMap(db, ns, name));
      return row && { object: configMapObject(row) };
    },
    fromRow: async (_db, row) => configMapObject(row as ConfigMapRow),
    delete: async (db, ns, name) => {
      await deleteConfigMap(db, ns, name);
      return [];
    },
  },
  jobs: {
    authz: 'jobs',
    current: async (db, ns, name) => {
      const row = await found(getJob(db, ns, name));
      return row && { object: jobObject(row) };
    },
    fromRow: async (_db, row) => jobObject(row as JobRow),
    delete: async (db, ns, name, now) => [(await deleteJob(db, ns, name, now)).id],
  },
  cronjobs: {
    authz: 'cronjobs',
    current: async (db, ns, name) => {
      const row = await found(getCronJob(db, ns, name));
      const object = row && (await cronJobObject(db, row));
      return object && { object };
    },
    fromRow: async (db, row) => (await cronJobObject(db, row as CronJobRow)) as KubeObject,
    delete: async (db, ns, name, now) => (await deleteCronJob(db, ns, name, now)).jobIds,
  },
  ingresses: {
    authz: 'ingresses',
    current: async (db, ns, name) => {
      const row = await found(getIngress(db, ns, name));
      return row && { object: ingressObject(row) };
    },
    fromRow: async (_db, row) => ingressObject(row as IngressRow),
    delete: async (db, ns, name) => {
      await deleteIngress(db, ns, name);
      return [];
    },
  },
  secrets: {
    authz: 'secrets',
    current: async (db, ns, name) => {
      const row = await found(getSecret(db, ns, name));
      const object = row && secretObject(row);
      return object && { object, patchable: withKeptValues(structuredClone(object), row.keys) };
    },
    fromRow: async (_db, row) => secretObject(row as SecretRow),
    delete: async (db, ns, name) => {
      await deleteSecret(db, ns, name);
      return [];
    },
    restore: async (db, secretKey, ns, name, doc) => {
      const kept = keptValues(doc);
      if (kept !== 'all' && kept.length === 0) return;
      const stored = await resolveSecrets(db, requireSecretKey(secretKey), ns, [name]);
      fillKeptValues(doc, kept, stored.get(name)?.data ?? {});
    },
  },
  serviceaccounts: {
    authz: 'serviceaccounts',
    current: async (db, ns, name) => {
      const row = await found(getServiceAccount(db, ns, name));
      return row && { object: accountObject(row) };
    },
    fromRow: async (_db, row) => accountObject(row as ServiceAccountRow),
    delete: async (db, ns, name) => {
      await deleteServiceAccount(db, ns, name);
      return [];
    },
  },
};
