import { boolean, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { at, big, managedFields } from './columns.ts';

/**
 * ConfigMaps (common/config-map.ts): plain configuration a namespace's pods read through env. Unlike
 * secrets, values are stored in clear and returned by reads; `binaryData` holds base64 as written.
 */
export const configMaps = pgTable(
  'config_maps',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    managedFields: managedFields(),
    data: jsonb('data').$type<Record<string, string>>().notNull(),
    binaryData: jsonb('binary_data').$type<Record<string, string>>().notNull().default({}),
    /** Once true, data can no longer change (as Kubernetes): only deleting and re-creating it. */
    immutable: boolean('immutable').notNull().default(false),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('config_maps_name').on(t.namespace, t.name)],
);
