import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { DeploymentSpec } from '../../common/deployment.ts';
import { at, big, managedFields } from './columns.ts';

export interface DeploymentCondition {
  type: 'Available' | 'Progressing';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  lastUpdateTime: string;
}

export interface DeploymentStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  revision: number | null;
  conditions: DeploymentCondition[];
}

/**
 * Every workload that owns replicas: Deployments, and Jobs (`kind`), which share revisions,
 * replicas, placement and assignments. `spec` and `status` are typed as a Deployment's; a Job's
 * row is read through workers/kinds/job.ts (JobRow), the one place that knows the other shape.
 */
export const deployments = pgTable(
  'deployments',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: ['Deployment', 'Job'] })
      .notNull()
      .default('Deployment'),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    managedFields: managedFields(),
    spec: jsonb('spec').$type<DeploymentSpec>().notNull(),
    generation: integer('generation').notNull(),
    resourceVersion: big('resource_version').notNull(),
    status: jsonb('status').$type<DeploymentStatus>(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
    /** Set by DELETE: the object is gone from the API; the controller stops its replicas, then removes the row. */
    deletedAt: at('deleted_at'),
    /**
     * When the controller should next look at this deployment (null: settled). This column's
     * partial index is what makes a no-op tick cost almost nothing.
     */
    reconcileAt: at('reconcile_at'),
    /** A Job a CronJob made: the CronJob's id (deleting the CronJob deletes its Jobs). */
    ownerCronJobId: uuid('owner_cron_job_id'),
    /** When the current rollout last made progress (Kubernetes' Progressing lastUpdateTime). */
    progressAt: at('progress_at'),
  },
  (t) => [
    uniqueIndex('deployments_live_name').on(t.namespace, t.kind, t.name).where(sql`${t.deletedAt} is null`),
    index('deployments_owner_cron_job').on(t.ownerCronJobId).where(sql`${t.ownerCronJobId} is not null`),
    index('deployments_reconcile_at').on(t.reconcileAt).where(sql`${t.reconcileAt} is not null`),
  ],
);
