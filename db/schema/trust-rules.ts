import { integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { TrustRuleSpec } from '../../common/trust-rule.ts';
import { at, big } from './columns.ts';

/**
 * Trust rules (common/trust-rule.ts): which identity tokens POST /v1/tokens/exchange trades for a
 * Berth token. Cluster-scoped: `namespace` is always '' (the object store's columns).
 */
export const trustRules = pgTable(
  'trust_rules',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull().default(''),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    spec: jsonb('spec').$type<TrustRuleSpec>().notNull(),
    generation: integer('generation').notNull(),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('trust_rules_name').on(t.namespace, t.name)],
);
