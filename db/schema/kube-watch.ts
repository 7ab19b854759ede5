import { index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { at, big } from './columns.ts';

/**
 * One row: the cluster-wide resourceVersion the Kubernetes face shows (workers/kube/README.md).
 * A deferred trigger on every table the face serves takes the next value at commit, holding this
 * row's lock until the commit ends, so the values are in commit order: a list read at value N has
 * seen every change up to N and none after, and a watch from N misses nothing. `prunedThrough`:
 * the changes up to it are gone from `kube_changes` (a watch from before it is 410 Gone).
 */
export const kubeClock = pgTable('kube_clock', {
  id: integer('id').primaryKey(),
  rv: big('rv').notNull(),
  prunedThrough: big('pruned_through').notNull(),
});

/**
 * The change log watches read: one row per committed change of a served object, keyed by the
 * clock's value. A deletion keeps the object's labels, so label-selected watches see it go.
 * Pruned after a while (workers/kube/watch-hub.ts).
 */
export const kubeChanges = pgTable(
  'kube_changes',
  {
    rv: big('rv').primaryKey(),
    /** The Kubernetes plural: deployments, jobs, pods, services, ... */
    resource: text('resource').notNull(),
    /** '' for cluster-scoped resources (nodes, namespaces). */
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    type: text('type', { enum: ['ADDED', 'MODIFIED', 'DELETED'] }).notNull(),
    labels: jsonb('labels').$type<Record<string, string>>(),
    at: at('at').notNull().defaultNow(),
  },
  (t) => [index('kube_changes_at').on(t.at)],
);

/**
 * Each live object's current cluster resourceVersion, and the Berth resourceVersion (`/v1`) it
 * had then (null for kinds `/v1` versions otherwise), so a write that names the first is checked
 * against the second.
 */
export const kubeVersions = pgTable(
  'kube_versions',
  {
    resource: text('resource').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    rv: big('rv').notNull(),
    berthVersion: text('berth_version'),
  },
  (t) => [primaryKey({ columns: [t.resource, t.namespace, t.name] })],
);
