import { pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/** Namespaces spring into being on first use; `default` is created by the first migration. */
export const namespaces = pgTable('namespaces', {
  name: text('name').primaryKey(),
  createdAt: at('created_at').notNull().defaultNow(),
});
