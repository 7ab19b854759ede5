import { bigserial, index, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/** What the controller decided and why, for `GET .../events?object=deployment/NAME`. */
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    namespace: text('namespace').notNull(),
    objectKind: text('object_kind').notNull(),
    objectName: text('object_name').notNull(),
    type: text('type', { enum: ['Normal', 'Warning'] }).notNull(),
    reason: text('reason').notNull(),
    message: text('message').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [index('events_object').on(t.namespace, t.objectKind, t.objectName, t.id)],
);
