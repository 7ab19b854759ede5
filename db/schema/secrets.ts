import { jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { SecretType } from '../../common/secret.ts';
import { at, big, managedFields } from './columns.ts';

/** Secret values are AES-GCM encrypted with BERTH_SECRET_KEY; only key names are stored in clear. */
export const secrets = pgTable(
  'secrets',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    managedFields: managedFields(),
    /** Any of common/secret.ts SecretType (a text column: a new type needs no migration). */
    type: text('type').$type<SecretType>().notNull(),
    keys: jsonb('keys').$type<string[]>().notNull(),
    ciphertext: text('ciphertext').notNull(),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('secrets_name').on(t.namespace, t.name)],
);
