import { bigint, jsonb, timestamp } from 'drizzle-orm/pg-core';

/** Timestamps are always with time zone, surfaced as Date. */
export const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
/** Counters and byte sizes fit in a JS number (2^53) for any realistic value. */
export const big = (name: string) => bigint(name, { mode: 'number' });

/**
 * Kubernetes' field ownership (`metadata.managedFields`) of an object the Kubernetes face writes
 * (workers/kube/field-ownership.ts): kept in the object's own row, so it is written in the same
 * versioned write and goes with the row when the object is deleted.
 */
export const managedFields = () =>
  jsonb('managed_fields').$type<Record<string, unknown>[]>().notNull().default([]);
