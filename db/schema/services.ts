import { sql } from 'drizzle-orm';
import { integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { at, big } from './columns.ts';

export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    /** Lower-cased hostnames routed to this service by the ingress. */
    hosts: jsonb('hosts').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    generation: integer('generation').notNull(),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('services_name').on(t.namespace, t.name)],
);
