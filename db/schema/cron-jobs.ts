import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { CronJobSpec } from '../../common/cron-job.ts';
import { at, big, managedFields } from './columns.ts';

/**
 * batch/v1 CronJobs (common/cron-job.ts). The controller takes a due row's lock, makes at most the
 * one Job its schedule asks for, and moves `handledUntil` and `nextRunAt` in the same transaction:
 * that write, not a single scheduler, is what makes each scheduled time run once.
 */
export const cronJobs = pgTable(
  'cron_jobs',
  {
    id: uuid('id').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    managedFields: managedFields(),
    spec: jsonb('spec').$type<CronJobSpec>().notNull(),
    generation: integer('generation').notNull(),
    resourceVersion: big('resource_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
    /** status.lastScheduleTime: the scheduled time of the last Job it made. */
    lastScheduleTime: at('last_schedule_time'),
    /**
     * Scheduled times up to here are handled: run, skipped (Forbid) or missed past the starting
     * deadline. The next run is the latest due time after it.
     */
    handledUntil: at('handled_until'),
    /** When the controller must look next (null: suspended); the partial index keeps a tick cheap. */
    nextRunAt: at('next_run_at'),
  },
  (t) => [
    uniqueIndex('cron_jobs_name').on(t.namespace, t.name),
    index('cron_jobs_next_run_at').on(t.nextRunAt).where(sql`${t.nextRunAt} is not null`),
  ],
);
