import { integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { NamespacePolicySpec } from '../../common/policy.ts';
import { at, big } from './columns.ts';

/**
 * One policy per namespace, named after it (common/policy.ts): what deployers may claim there and
 * what its workloads may use. A namespace without a row has the default policy.
 */
export const namespacePolicies = pgTable(
  'namespace_policies',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    /** Always the namespace's own name. */
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    spec: jsonb('spec').$type<NamespacePolicySpec>().notNull(),
    generation: integer('generation').notNull(),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('namespace_policies_namespace').on(t.namespace)],
);
