import { boolean, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { at, big, managedFields } from './columns.ts';

/**
 * ServiceAccounts (common/service-account.ts): recorded as Kubernetes writes them, so the pods that
 * name one can be checked against it. Berth mounts no API token, so nothing else reads them.
 */
export const serviceAccounts = pgTable(
  'service_accounts',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    managedFields: managedFields(),
    /** As written: null when the document does not say. */
    automountServiceAccountToken: boolean('automount_service_account_token'),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('service_accounts_name').on(t.namespace, t.name)],
);
