/**
 * JSON Schema pieces as Kubernetes' OpenAPI v3 writes them: the builders the hand-written shapes
 * use (kinds the face makes itself: Pod, Node, statuses) and the list metadata that says how
 * strategic merge patches treat a list. Pure data, no zod.
 */

export type Schema = { [key: string]: unknown };

export const SCHEMA_PREFIX = '#/components/schemas/';

/** A field holding a named type; its own description goes beside the `$ref` (as Kubernetes does). */
export function ref(name: string, description?: string): Schema {
  const target = { $ref: `${SCHEMA_PREFIX}${name}` };
  return description ? { description, allOf: [target] } : target;
}

const described = (s: Schema, description?: string): Schema => (description ? { ...s, description } : s);

export const str = (description?: string): Schema => described({ type: 'string' }, description);
export const int = (description?: string): Schema =>
  described({ type: 'integer', format: 'int32' }, description);
export const bool = (description?: string): Schema => described({ type: 'boolean' }, description);
/** An RFC 3339 instant (Kubernetes' `metav1.Time`). */
export const time = (description?: string): Schema => ref(TIME, description);

export function listOf(items: Schema, description?: string, meta: ListMeta = ATOMIC): Schema {
  return described({ type: 'array', items, ...listExtensions(meta) }, description);
}

export function mapOf(values: Schema, description?: string): Schema {
  return described({ type: 'object', additionalProperties: values }, description);
}

export function object(description: string, properties: Record<string, Schema>, required?: string[]): Schema {
  return { description, type: 'object', properties, ...(required?.length ? { required } : {}) };
}

/**
 * How a list merges in a strategic merge patch and in server-side apply, as Kubernetes declares
 * it on its types: `atomic` lists are replaced whole, `set` lists of scalars merge as sets, `map`
 * lists merge item by item on their keys (the patch merge key is the first of them).
 */
export type ListMeta =
  | { type: 'atomic' }
  | { type: 'set'; strategy?: 'merge' }
  | { type: 'map'; keys: string[]; mergeKey?: string; strategy?: 'merge' | 'merge,retainKeys' }
  /** Kubernetes' own oddity: merged by a key in patches, yet atomic for server-side apply. */
  | { type: 'atomic'; mergeKey: string; strategy: 'merge' };

export const ATOMIC: ListMeta = { type: 'atomic' };
/** The common case: a list of named things merged by name (containers, env, volumes). */
export const BY_NAME: ListMeta = { type: 'map', keys: ['name'], mergeKey: 'name', strategy: 'merge' };

export function listExtensions(meta: ListMeta): Schema {
  const out: Schema = { 'x-kubernetes-list-type': meta.type };
  if (meta.type === 'map') out['x-kubernetes-list-map-keys'] = meta.keys;
  if ('mergeKey' in meta && meta.mergeKey) out['x-kubernetes-patch-merge-key'] = meta.mergeKey;
  if ('strategy' in meta && meta.strategy) out['x-kubernetes-patch-strategy'] = meta.strategy;
  return out;
}

// Kubernetes' schema names: the explain output and kubectl's patch logic both go by them.
export const CORE = 'io.k8s.api.core.v1.';
export const APPS = 'io.k8s.api.apps.v1.';
export const BATCH = 'io.k8s.api.batch.v1.';
export const NETWORKING = 'io.k8s.api.networking.v1.';
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
export const OBJECT_META = `${META}ObjectMeta`;
export const TIME = `${META}Time`;
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const PATCH = `${META}Patch`;
