import { bigint, timestamp } from 'drizzle-orm/pg-core';

/** Timestamps are always with time zone, surfaced as Date. */
export const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
/** Counters and byte sizes fit in a JS number (2^53) for any realistic value. */
export const big = (name: string) => bigint(name, { mode: 'number' });
