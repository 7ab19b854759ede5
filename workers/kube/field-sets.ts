import { canonicalJson as canonical } from '../../common/canonical-json.ts';
import { mergeKey, mergesAsSet } from './strategic-merge.ts';

/**
 * Sets of an object's fields, as Kubernetes' field ownership names them (FieldsV1), pure. A field
 * is a path from the object's root: `f:<name>` steps into a map, `k:{"name":"web"}` into the item
 * of a list that merges on a key (the same keys strategic merge uses, strategic-merge.ts), and
 * `v:<json>` names an item of a list that merges as a set (finalizers). Every other list is one
 * field, replaced whole, as it is by a merge.
 *
 * A set holds leaves (a value, an empty map, a whole list) and nodes that are owned themselves (a
 * list item, or a map a write created); in FieldsV1 a node that is both a member and has members
 * below carries `.: {}`.
 */

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export type FieldPath = readonly string[];

/** A set of paths, each kept as its JSON (paths of strings compare by value that way). */
export type FieldSet = ReadonlySet<string>;

/** Kubernetes' FieldsV1: a tree of path elements, `.` marking a node that is itself a member. */
export type FieldsV1 = { [element: string]: FieldsV1 };

export const pathKey = (path: FieldPath) => JSON.stringify(path);
export const pathOf = (key: string) => JSON.parse(key) as string[];

/**
 * What no writer owns: the object's identity and what the server keeps (status, versions,
 * timestamps, the ownership itself).
 */
const SERVER_FIELDS = new Set(['apiVersion', 'kind', 'status']);
const SERVER_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'managedFields',
]);

/** One field of an object: a leaf with its value, or a node (a map, a list item). */
interface Field {
  path: FieldPath;
  /** A leaf's value as canonical JSON; undefined for a node. */
  value?: string;
  node?: 'map' | 'item';
}

/** Every field of `object`, leaves and nodes, depth first. */
export function fieldsOf(kind: string, object: unknown): Field[] {
  const out: Field[] = [];
  const walk = (value: unknown, path: string[], names: string[]) => {
    if (isPlainObject(value)) {
      const entries = Object.entries(value).filter(([k, v]) => v !== null && !serverField(names, k));
      // A map that held only what the server keeps (metadata with a name) names nothing.
      if (entries.length === 0 && Object.keys(value).length > 0) return;
      if (entries.length === 0 && path.length > 0) {
        out.push({ path, value: '{}' });
        return;
      }
      if (path.length > 0) out.push({ path, node: 'map' });
      for (const [k, v] of entries) walk(v, [...path, `f:${k}`], [...names, k]);
      return;
    }
    if (Array.isArray(value)) {
      const key = mergeKey(kind, names);
      if (key !== undefined && value.length > 0 && value.every((i) => isPlainObject(i) && i[key] != null)) {
        for (const item of value as PlainObject[]) {
          const at = [...path, `k:${JSON.stringify({ [key]: item[key] })}`];
          out.push({ path: at, node: 'item' });
          for (const [k, v] of Object.entries(item))
            if (v !== null) walk(v, [...at, `f:${k}`], [...names, k]);
        }
        return;
      }
      if (mergesAsSet(names[names.length - 1] ?? '') && value.every((v) => !isPlainObject(v))) {
        for (const v of value) out.push({ path: [...path, `v:${JSON.stringify(v)}`], value: 'true' });
        return;
      }
    }
    out.push({ path, value: canonical(value) });
  };
  walk(object, [], []);
  return out;
}

function serverField(names: readonly string[], key: string): boolean {
  if (names.length === 0) return SERVER_FIELDS.has(key);
  return names.length === 1 && names[0] === 'metadata' && SERVER_METADATA.has(key);
}

/**
 * The fields an applied configuration names: its leaves and list items (a map it fills is not
 * itself claimed, so another writer's keys beside it stay theirs).
 */
export function appliedFields(kind: string, config: unknown): Set<string> {
  return new Set(
    fieldsOf(kind, config)
      .filter((f) => f.node !== 'map')
      .map((f) => pathKey(f.path)),
  );
}

/**
 * What a write changed: fields it added or gave a new value (with the maps and items it created),
 * and fields it took away (everything below them too).
 */
export function diffFields(
  kind: string,
  before: unknown,
  after: unknown,
): { changed: Set<string>; removed: Set<string> } {
  const old = new Map(fieldsOf(kind, before).map((f) => [pathKey(f.path), f]));
  const now = new Map(fieldsOf(kind, after).map((f) => [pathKey(f.path), f]));
  const changed = new Set<string>();
  const removed = new Set<string>();
  for (const [key, f] of now) {
    const was = old.get(key);
    if (!was || was.value !== f.value || was.node !== f.node) changed.add(key);
  }
  for (const key of old.keys()) if (!now.has(key)) removed.add(key);
  return { changed, removed };
}

/** The leaf values of an object by path, for comparing what a write sets with what is there. */
export function leafValues(kind: string, object: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fieldsOf(kind, object)) if (f.value !== undefined) out.set(pathKey(f.path), f.value);
  return out;
}

/** Whether `key` is `ancestor` or lies below it. */
export function within(key: string, ancestor: string): boolean {
  return key === ancestor || key.startsWith(`${ancestor.slice(0, -1)},`);
}

export function toFieldsV1(set: FieldSet): FieldsV1 {
  const root: FieldsV1 = {};
  const members: FieldsV1[] = [];
  for (const key of [...set].sort()) {
    let node = root;
    for (const element of pathOf(key)) {
      node[element] ??= {};
      node = node[element] as FieldsV1;
    }
    members.push(node);
  }
  // A member with members below it says so with `.`; a leaf is its empty object.
  for (const node of members) if (Object.keys(node).some((k) => k !== '.')) node['.'] = {};
  return root;
}

export function fromFieldsV1(tree: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: string[]) => {
    if (!isPlainObject(node)) return;
    const children = Object.keys(node).filter((k) => k !== '.');
    if (path.length > 0 && ('.' in node || children.length === 0)) out.add(pathKey(path));
    for (const k of children) walk(node[k], [...path, k]);
  };
  walk(tree, []);
  return out;
}

/** A path as Kubernetes prints it: `.spec.template.spec.containers[name="web"].image`. */
export function pathString(key: string): string {
  return pathOf(key)
    .map((element) => {
      const body = element.slice(2);
      if (element.startsWith('f:')) return `.${body}`;
      if (element.startsWith('v:')) return `[=${body}]`;
      const keys = JSON.parse(body) as PlainObject;
      return `[${Object.entries(keys)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    })
    .join('');
}

/**
 * `object` without the field at `path` (a map's key, a list item, a set's value), and without
 * the maps that held only it, unless `kept` says a map is owned itself.
 */
export function removeField(object: PlainObject, key: string, kept: (key: string) => boolean): void {
  const path = pathOf(key);
  const parents: { container: PlainObject | unknown[]; element: string }[] = [];
  let here: unknown = object;
  for (const element of path) {
    const next = step(here, element);
    if (next === undefined) return;
    parents.push({ container: here as PlainObject | unknown[], element });
    here = next;
  }
  for (let i = parents.length - 1; i >= 0; i--) {
    const { container, element } = parents[i] as (typeof parents)[number];
    if (i < parents.length - 1) {
      // A parent emptied by the removal goes too, unless it is a member of someone's set.
      const child = step(container, element);
      const empty = isPlainObject(child)
        ? Object.keys(child).length === 0
        : Array.isArray(child) && !child.length;
      if (!empty || kept(pathKey(path.slice(0, i + 1)))) return;
    }
    drop(container, element);
  }
}

function step(container: unknown, element: string): unknown {
  const body = element.slice(2);
  if (element.startsWith('f:')) return isPlainObject(container) ? container[body] : undefined;
  if (!Array.isArray(container)) return undefined;
  if (element.startsWith('v:')) return container.find((v) => canonical(v) === canonical(JSON.parse(body)));
  const keys = Object.entries(JSON.parse(body) as PlainObject);
  return container.find(
    (item) => isPlainObject(item) && keys.every(([k, v]) => canonical(item[k]) === canonical(v)),
  );
}

function drop(container: PlainObject | unknown[], element: string): void {
  if (!Array.isArray(container)) {
    delete container[element.slice(2)];
    return;
  }
  const target = step(container, element);
  const at = container.indexOf(target);
  if (at >= 0) container.splice(at, 1);
}
