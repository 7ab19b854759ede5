import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { at, big, managedFields } from './columns.ts';

export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    managedFields: managedFields(),
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    /** Lower-cased hostnames routed to this service by the ingress. */
    hosts: jsonb('hosts').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    /** spec.clusterIP when the service has one: unique, so two services never share an address. */
    clusterIp: text('cluster_ip'),
    generation: integer('generation').notNull(),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('services_name').on(t.namespace, t.name),
    uniqueIndex('services_cluster_ip').on(t.clusterIp),
  ],
);

/**
 * Node ports in use, one row each: the primary key makes a port the cluster's once, whatever two
 * control planes decide at the same moment; the rows go with their service.
 */
export const serviceNodePorts = pgTable(
  'service_node_ports',
  {
    nodePort: integer('node_port').primaryKey(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
  },
  (t) => [index('service_node_ports_service').on(t.serviceId)],
);
