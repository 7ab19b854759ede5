import { integer, jsonb, pgTable, serial, text, unique, uuid } from 'drizzle-orm/pg-core';
import type { PodTemplate } from '../../common/deployment.ts';
import { at } from './columns.ts';
import { deployments } from './deployments.ts';

/** One row per distinct pod template of a deployment; applying an old template reuses its row. */
export const revisions = pgTable(
  'revisions',
  {
    id: serial('id').primaryKey(),
    deploymentId: uuid('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    templateHash: text('template_hash').notNull(),
    template: jsonb('template').$type<PodTemplate>().notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    /** Last time every replica of this revision was available: the target of autoRollback. */
    availableAt: at('available_at'),
  },
  (t) => [
    unique('revisions_number').on(t.deploymentId, t.revision),
    unique('revisions_hash').on(t.deploymentId, t.templateHash),
  ],
);
