import type { ConfigMap } from '../../common/wire/config-map.ts';
import type { CronJob } from '../../common/wire/cron-job.ts';
import type { Deployment } from '../../common/wire/deployment.ts';
import type { Ingress } from '../../common/wire/ingress.ts';
import type { Job } from '../../common/wire/job.ts';
import type { Service } from '../../common/wire/service.ts';
import type { Database } from '../../db/database.ts';
import type { Resource } from '../auth/principal.ts';
import { DomainError } from '../errors.ts';
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
import { deleteService, getService, type ServiceRow, toServiceObject } from '../verbs/services.ts';
import {
  type KubeObject,
  kubeConfigMap,
  kubeCronJob,
  kubeDeployment,
  kubeIngress,
  kubeJob,
  kubeService,
} from './objects.ts';

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
}

/** An object as the face shows it, and what of Berth's own shape a write must keep. */
export interface Current {
  object: KubeObject;
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

const deploymentObject = (row: DeploymentRow) => kubeDeployment(toDeploymentObject(row) as Deployment);

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
      return row && { object: kubeService(toServiceObject(row) as Service) };
    },
    fromRow: async (_db, row) => kubeService(toServiceObject(row as ServiceRow) as Service),
    delete: async (db, ns, name) => {
      await deleteService(db, ns, name);
      return [];
    },
  },
  configmaps: {
    authz: 'configmaps',
    current: async (db, ns, name) => {
      const row = await found(getConfigMap(db, ns, name));
      return row && { object: kubeConfigMap(toConfigMapObject(row) as ConfigMap) };
    },
    fromRow: async (_db, row) =>
      kubeConfigMap(toConfigMapObject(row as Parameters<typeof toConfigMapObject>[0]) as ConfigMap),
    delete: async (db, ns, name) => {
      await deleteConfigMap(db, ns, name);
      return [];
    },
  },
  jobs: {
    authz: 'jobs',
    current: async (db, ns, name) => {
      const row = await found(getJob(db, ns, name));
      return row && { object: kubeJob(toJobObject(row) as Job) };
    },
    fromRow: async (_db, row) => kubeJob(toJobObject(row as JobRow) as Job),
    delete: async (db, ns, name, now) => [(await deleteJob(db, ns, name, now)).id],
  },
  cronjobs: {
    authz: 'cronjobs',
    current: async (db, ns, name) => {
      const row = await found(getCronJob(db, ns, name));
      if (!row) return undefined;
      const [object] = (await cronJobObjects(db, [row])) as CronJob[];
      return object && { object: kubeCronJob(object) };
    },
    fromRow: async (db, row) => {
      const [object] = (await cronJobObjects(db, [
        row as Parameters<typeof cronJobObjects>[1][number],
      ])) as CronJob[];
      return kubeCronJob(object as CronJob);
    },
    delete: async (db, ns, name, now) => (await deleteCronJob(db, ns, name, now)).jobIds,
  },
  ingresses: {
    authz: 'ingresses',
    current: async (db, ns, name) => {
      const row = await found(getIngress(db, ns, name));
      return row && { object: kubeIngress(toIngressObject(row) as Ingress) };
    },
    fromRow: async (_db, row) => kubeIngress(toIngressObject(row as IngressRow) as Ingress),
    delete: async (db, ns, name) => {
      await deleteIngress(db, ns, name);
      return [];
    },
  },
};
