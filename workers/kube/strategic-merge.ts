/**
 * Kubernetes' strategic merge patch (`application/strategic-merge-patch+json`), pure: what kubectl
 * sends for `apply` (client-side), `set image`, `rollout restart`, `cordon`. Like a JSON merge
 * patch, except that lists of objects merge item by item on a key (containers by name, ports by
 * containerPort), and the patch can carry directives: `$patch: replace|delete|merge`,
 * `$setElementOrder/<list>`, `$retainKeys`, `$deleteFromPrimitiveList/<list>`.
 *
 * Which lists merge, and on what key, is Kubernetes' patch metadata for the fields Berth's kinds
 * carry (mergeKey below); every other list is replaced whole, as Kubernetes does for lists without
 * a patch strategy (args, command, tolerations, Ingress rules).
 */

type Json = unknown;
type PlainObject = Record<string, Json>;

export class PatchError extends Error {}

const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** Lists of primitives that merge (union) rather than replace. */
const MERGING_PRIMITIVE_LISTS = new Set(['finalizers']);

/** Whether a list of primitives named `field` merges as a set (its items owned one by one). */
export const mergesAsSet = (field: string) => MERGING_PRIMITIVE_LISTS.has(field);

/**
 * The merge key of the list at `path` (field names from the object's root, no indices), or
 * undefined for a list that is replaced whole.
 */
export function mergeKey(kind: string, path: readonly string[]): string | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'schedulingGates':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'hostAliases':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'ownerReferences':
      return 'uid';
    case 'ports':
      // A container's ports by containerPort; a Service's by port.
      if (parent !== undefined && CONTAINER_LISTS.has(parent)) return 'containerPort';
      if (kind === 'Service' && path.length === 2 && parent === 'spec') return 'port';
      return undefined;
    default:
      return undefined;
  }
}

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/** `original` with `patch` applied; neither is changed. `kind` picks the patch metadata (Service ports). */
export function strategicMerge(kind: string, original: Json, patch: Json): Json {
  if (!isPlainObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  return mergeMap(kind, [], isPlainObject(original) ? original : {}, patch) ?? {};
}

/** Merges a patch map into a map; undefined means the map is deleted (`$patch: delete`). */
function mergeMap(
  kind: string,
  path: readonly string[],
  original: PlainObject,
  patch: PlainObject,
): PlainObject | undefined {
  const directive = patch.$patch;
  if (directive !== undefined && directive !== 'replace' && directive !== 'delete' && directive !== 'merge')
    throw new PatchError(`unknown patch directive $patch: ${JSON.stringify(directive)}`);
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _, ...rest } = patch;
    return stripDirectives(rest) as PlainObject;
  }
  const result: PlainObject = { ...original };
  const orders = new Map<string, Json[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') continue;
    if (key === '$retainKeys') continue;
    if (key.startsWith(SET_ORDER)) {
      if (!Array.isArray(value)) throw new PatchError(`${key} must be a list`);
      orders.set(key.slice(SET_ORDER.length), value);
      continue;
    }
    if (key.startsWith(DELETE_FROM)) {
      const field = key.slice(DELETE_FROM.length);
      if (!Array.isArray(value)) throw new PatchError(`${key} must be a list`);
      const current = result[field];
      if (Array.isArray(current)) result[field] = current.filter((v) => !value.some((d) => same(d, v)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const here = [...path, key];
    const before = result[key];
    if (isPlainObject(value)) {
      const merged = mergeMap(kind, here, isPlainObject(before) ? before : {}, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(kind, here, Array.isArray(before) ? before : [], value);
    } else {
      result[key] = value;
    }
  }
  for (const [field, order] of orders) {
    const list = result[field];
    if (Array.isArray(list)) result[field] = ordered(kind, [...path, field], list, order);
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string'))
      throw new PatchError('$retainKeys must be a list of field names');
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(kind: string, path: readonly string[], original: Json[], patch: Json[]): Json[] {
  const field = path[path.length - 1] ?? '';
  // `[{$patch: replace}, ...]`: the list is what follows.
  if (patch.some((item) => isPlainObject(item) && item.$patch === 'replace'))
    return patch.filter((item) => !(isPlainObject(item) && item.$patch === 'replace')).map(stripDirectives);
  const key = mergeKey(kind, path);
  if (key === undefined) {
    if (MERGING_PRIMITIVE_LISTS.has(field) && patch.every((v) => !isPlainObject(v))) {
      const out = [...original];
      for (const v of patch) if (!out.some((o) => same(o, v))) out.push(v);
      return out;
    }
    return patch.map(stripDirectives);
  }
  const out = [...original];
  for (const item of patch) {
    if (!isPlainObject(item)) throw new PatchError(`${path.join('.')}: items must be objects with "${key}"`);
    if (!(key in item))
      throw new PatchError(`${path.join('.')}: an item of the patch has no merge key "${key}"`);
    const at = out.findIndex((o) => isPlainObject(o) && same(o[key], item[key]));
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) {
      const merged = mergeMap(kind, path, out[at] as PlainObject, item);
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else out.push(stripDirectives(item));
  }
  return out;
}

/**
 * `$setElementOrder`: the items it names come in its order; items the patch did not know of (the
 * server's own) keep their place after them.
 */
function ordered(kind: string, path: readonly string[], list: Json[], order: Json[]): Json[] {
  const key = mergeKey(kind, path);
  const idOf = (item: Json) => (key !== undefined && isPlainObject(item) ? item[key] : item);
  const wanted = order.map((o) => (key !== undefined && isPlainObject(o) ? o[key] : o));
  const rank = (item: Json) => wanted.findIndex((w) => same(w, idOf(item)));
  const named = list.filter((item) => rank(item) >= 0).sort((a, b) => rank(a) - rank(b));
  return [...named, ...list.filter((item) => rank(item) < 0)];
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isPlainObject(value)) return value;
  const out: PlainObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_FROM))
      continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

function same(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
