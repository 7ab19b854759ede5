import { sql } from 'drizzle-orm';
import { integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { at, big, managedFields } from './columns.ts';

/**
 * networking.k8s.io/v1 Ingresses (common/ingress.ts): host and path rules to service ports, routed
 * by the control plane's ingress. `hosts` is kept beside the spec, as for services, so a host's
 * holders across namespaces are found without reading every spec.
 */
export const ingresses = pgTable(
  'ingresses',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    managedFields: managedFields(),
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    /** The hosts of its rules, each once. */
    hosts: jsonb('hosts').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    generation: integer('generation').notNull(),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('ingresses_name').on(t.namespace, t.name)],
);
