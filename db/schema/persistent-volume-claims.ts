import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { at, big } from './columns.ts';

/**
 * PersistentVolumeClaims (common/persistent-volume-claim.ts). `nodeName` is the node the claim is
 * bound to: set once, in the placement transaction of the first replica that uses it, and never
 * changed (the data lives there). `deletingAt` is Kubernetes' deletionTimestamp: the claim is
 * Terminating and goes once no replica uses it.
 */
export const persistentVolumeClaims = pgTable(
  'persistent_volume_claims',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    accessModes: jsonb('access_modes').$type<string[]>().notNull(),
    /** The requested size as written ("1Gi"): recorded and shown, not enforced by the local driver. */
    storage: text('storage').notNull(),
    storageClassName: text('storage_class_name'),
    volumeMode: text('volume_mode', { enum: ['Filesystem'] })
      .notNull()
      .default('Filesystem'),
    nodeName: text('node_name'),
    boundAt: at('bound_at'),
    deletingAt: at('deleting_at'),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('persistent_volume_claims_name').on(t.namespace, t.name),
    index('persistent_volume_claims_deleting').on(t.nodeName).where(sql`deleting_at is not null`),
  ],
);

/**
 * Volumes of deleted claims that their node's agent must remove: the control plane's explicit
 * word (an agent never removes a claim's volume on its own view). A row goes when the agent
 * reports the volume gone.
 */
export const claimVolumeRemovals = pgTable(
  'claim_volume_removals',
  {
    claimId: uuid('claim_id').primaryKey(),
    nodeName: text('node_name').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [index('claim_volume_removals_node').on(t.nodeName)],
);
