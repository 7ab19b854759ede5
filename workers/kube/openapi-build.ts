import {
  INT_OR_STRING,
  type ListMeta,
  listExtensions,
  QUANTITY,
  ref,
  SCHEMA_PREFIX,
  type Schema,
} from './openapi-schema.ts';

/**
 * Kubernetes-named schemas from Berth's own: the shapes come from the zod schemas Berth
 * validates with (as JSON Schema), the names, descriptions and list metadata from a table of
 * Kubernetes' types (openapi-types.ts). Walking a kind's shape, every field the table types is
 * lifted into `components.schemas` under Kubernetes' name and replaced by a `$ref`, so kubectl
 * finds `io.k8s.api.core.v1.Container` where it expects it. Pure.
 */

export interface FieldDoc {
  /** What Berth does with the field: what `kubectl explain` prints. */
  doc?: string;
  /** The Kubernetes type of its value (of each item of a list, of each value of a map). */
  type?: string;
  /** How a strategic merge patch treats this list. */
  list?: ListMeta;
  /**
   * The field's shape, when the zod schema has none for it (a field Berth accepts only with its
   * Kubernetes default, one the face shows but no write takes) or shows it differently.
   */
  shape?: Schema;
  /** Berth's own field, not on the Kubernetes face (shown there as an annotation, or not at all). */
  hidden?: true;
}

export interface TypeDoc {
  doc: string;
  /** The type's shape when it is not reached through a parent's (a kind, a status, Quantity). */
  shape?: () => Schema;
  /** Its shape when only a `$ref` names it (a Pod's spec: the PodSpec of the templates). */
  alone?: () => Schema;
  fields?: Record<string, FieldDoc>;
  /**
   * Kubernetes' fields of this type that Berth refuses with a 422, besides the ones its zod
   * schema refuses by itself (found in the shape as fields without a type).
   */
  refused?: string[];
}

export type TypeTable = Record<string, TypeDoc>;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A field whose schema says nothing: zod's `unknown()`, which Berth uses for fields it refuses. */
const isRefusal = (s: Schema) => Object.keys(s).length === 0;

/**
 * What zod writes that Kubernetes writes otherwise: `additionalProperties: false` (kubectl
 * explain reads every object as closed anyway), and unions. A number-or-string is a quantity
 * (`z.union([z.string(), z.number()])`), an integer-or-string a port or a percentage, strings
 * of several kinds a string.
 */
export function normalise(s: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(s)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'properties' && isObject(value))
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, isObject(v) ? normalise(v) : v]),
      );
    else if ((key === 'items' || key === 'additionalProperties') && isObject(value))
      out[key] = normalise(value);
    else out[key] = value;
  }
  const union = (out.anyOf ?? out.oneOf) as Schema[] | undefined;
  if (!union) return out;
  const { anyOf: _a, oneOf: _o, ...rest } = out;
  const types = new Set(union.map((u) => u.type));
  if (types.has('string') && types.has('number')) return { ...rest, ...ref(QUANTITY) };
  if (types.has('string') && types.has('integer')) return { ...rest, ...ref(INT_OR_STRING) };
  if (types.size === 1 && types.has('string')) return { ...rest, type: 'string' };
  return out;
}

/** A `$ref` to `name`, keeping what the field said beside it (its description, default). */
function pointing(name: string, field: Schema): Schema {
  const { description, default: dflt } = field;
  const target = { $ref: `${SCHEMA_PREFIX}${name}` };
  if (description === undefined && dflt === undefined) return target;
  return {
    allOf: [target],
    ...(dflt !== undefined ? { default: dflt } : {}),
    ...(description !== undefined ? { description } : {}),
  };
}

export function refName(s: Schema): string | undefined {
  const direct = typeof s.$ref === 'string' ? s.$ref : undefined;
  const viaAllOf = Array.isArray(s.allOf) && isObject(s.allOf[0]) ? s.allOf[0].$ref : undefined;
  const r = direct ?? (typeof viaAllOf === 'string' ? viaAllOf : undefined);
  return r?.startsWith(SCHEMA_PREFIX) ? r.slice(SCHEMA_PREFIX.length) : undefined;
}

/**
 * Builds `components.schemas` for the named root types (the kinds), following every `$ref` the
 * shapes name. A type reached from several shapes (Container from `containers` and from
 * `initContainers`) gets the fields of all of them.
 */
export function buildSchemas(table: TypeTable, roots: readonly string[]): Record<string, Schema> {
  const schemas: Record<string, Schema> = {};
  const pending: [string, Schema | undefined][] = roots.map((r) => [r, undefined]);

  const typeOf = (name: string): TypeDoc => {
    const t = table[name];
    if (!t) throw new Error(`no Kubernetes type ${name} in the OpenAPI table`);
    return t;
  };

  /**
   * The field's value as a named type: a list's items, a map's values, or the field itself is
   * defined under `name` (from this shape, unless the type has a fixed one), and points there.
   */
  const lift = (name: string, field: Schema): Schema => {
    const fixed = typeOf(name).shape !== undefined;
    const existing = refName(field);
    if (existing) {
      pending.push([existing, undefined]);
      return field;
    }
    if (field.type === 'array' && isObject(field.items)) {
      pending.push([name, fixed ? undefined : field.items]);
      return { ...field, items: pointing(name, {}) };
    }
    if (field.type === 'object' && isObject(field.additionalProperties) && !field.properties) {
      pending.push([name, fixed ? undefined : field.additionalProperties]);
      return { ...field, additionalProperties: pointing(name, {}) };
    }
    const { description, default: dflt, ...shape } = field;
    pending.push([name, fixed ? undefined : shape]);
    return pointing(name, { description, default: dflt });
  };

  const define = (name: string, given: Schema | undefined) => {
    const t = typeOf(name);
    const raw = t.shape ? t.shape() : given;
    if (!raw) return;
    const s = normalise(raw);
    const properties: Record<string, Schema> = {};
    const refused = [...(t.refused ?? [])];
    const shapeFields = isObject(s.properties) ? (s.properties as Record<string, Schema>) : {};
    const names = new Set([...Object.keys(shapeFields), ...Object.keys(t.fields ?? {})]);
    for (const key of names) {
      const f = t.fields?.[key];
      if (f?.hidden) continue;
      let p = f?.shape ? normalise(f.shape) : shapeFields[key];
      if (!p) continue; // documented for another shape of the type (a Pod's nodeName, not a template's)
      if (isRefusal(p)) {
        refused.push(key);
        continue;
      }
      if (f?.doc) p = { ...p, description: f.doc };
      // A field of a named type says, unless it says more itself, what that type is.
      if (f?.type && p.description === undefined) p = { ...p, description: typeOf(f.type).doc };
      if (f?.type) p = lift(f.type, p);
      else {
        // A field the table does not type may still hold a named type (a Quantity from a union).
        const named = refName(p) ?? (isObject(p.items) ? refName(p.items) : undefined);
        const inMap = isObject(p.additionalProperties) ? refName(p.additionalProperties) : undefined;
        for (const n of [named, inMap]) if (n) pending.push([n, undefined]);
      }
      if (f?.list) p = { ...p, ...listExtensions(f.list) };
      properties[key] = p;
    }
    const description = refused.length
      ? `${t.doc}\n\nNot accepted by Berth (a write naming them is refused with 422 Invalid): ${[...new Set(refused)].sort().join(', ')}.`
      : t.doc;
    const { properties: _p, description: _d, ...rest } = s;
    const previous = schemas[name];
    const all = { ...(previous?.properties as Record<string, Schema> | undefined), ...properties };
    const merged: Schema = { ...rest, description, ...(Object.keys(all).length ? { properties: all } : {}) };
    // Required where every shape of the type requires it.
    if (previous && Array.isArray(merged.required))
      merged.required = (merged.required as string[]).filter(
        (r) => Array.isArray(previous.required) && previous.required.includes(r),
      );
    schemas[name] = merged;
  };

  const done = new Set<string>();
  /** Named by a `$ref` before any shape of it was met: defined once one is, or on its own. */
  const awaited = new Set<string>();
  for (;;) {
    while (pending.length) {
      const [name, given] = pending.shift() as [string, Schema | undefined];
      const fixed = typeOf(name).shape !== undefined;
      if (!given && !fixed) {
        if (!done.has(name)) awaited.add(name);
        continue;
      }
      // A fixed shape is defined once; a shape reached from several places is merged each time.
      if (fixed && done.has(name)) continue;
      define(name, given);
      done.add(name);
    }
    const alone = [...awaited].find((n) => !done.has(n));
    if (!alone) break;
    const shape = typeOf(alone).alone;
    if (!shape) throw new Error(`${alone} is named by a $ref but no shape of it was met`);
    pending.push([alone, shape()]);
    awaited.delete(alone);
  }
  return schemas;
}
