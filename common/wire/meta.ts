import { z } from 'zod';

/**
 * Pieces every object the API returns shares (API.md "Conventions"). These schemas describe what
 * the server sends, so they are open (a newer server may add fields) and name a field optional
 * only where a response can really lack it.
 */

/** An RFC 3339 instant as the server writes it (`Date.prototype.toISOString`). */
export const Timestamp = z.iso.datetime();
export type Timestamp = z.infer<typeof Timestamp>;

export const ApiVersion = z.literal('berth.dev/v1');
export type ApiVersion = z.infer<typeof ApiVersion>;

export const ObjectMeta = z
  .object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    labels: z.record(z.string(), z.string()),
    /** Only when the object has any. */
    annotations: z.record(z.string(), z.string()).optional(),
    /** A string holding an integer that grows on every write of the object. */
    resourceVersion: z.string(),
    /** Grows on every spec change; absent on kinds without a spec (Secret). */
    generation: z.int().optional(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'ObjectMeta' });
export type ObjectMeta = z.infer<typeof ObjectMeta>;

/**
 * How a client holds what it read: every field of the contract, under the contract's names and
 * types, each possibly absent. The CLI, the Action and the dashboard read through this, so an
 * older server that lacks a field never breaks a read, while a misspelt field fails to compile.
 * Maps (labels) are kept as they are: their keys are data, not fields.
 */
export type Lenient<T> = T extends readonly (infer U)[]
  ? Lenient<U>[]
  : T extends object
    ? string extends keyof T
      ? T
      : { [K in keyof T]?: Lenient<T[K]> }
    : T;
