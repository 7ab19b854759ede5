import { canonicalJson } from '../../common/canonical-json.ts';
import {
  appliedFields,
  diffFields,
  type FieldsV1,
  fromFieldsV1,
  leafValues,
  pathString,
  removeField,
  toFieldsV1,
  within,
} from './field-sets.ts';
import { strategicMerge } from './strategic-merge.ts';

/**
 * Kubernetes' field ownership (`metadata.managedFields`), pure: who set which field of an object,
 * so that server-side apply can remove what an applier stopped naming and refuse to change what
 * another writer set. Each writer ("manager") has an entry per operation: `Apply` holds exactly
 * the fields of its last applied configuration; `Update` (any other write: PUT, a patch, scale,
 * create) gathers the fields its writes changed. A field changed by one writer is taken from
 * every other writer's entries; an entry left with no field is dropped.
 *
 * The face reads the stored entries, computes the next ones here, and writes them in the same
 * versioned write as the object (writes.ts), so a write in between makes it start over.
 */

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldsV1;
  subresource?: string;
}

/** Who writes, in what version of the kind, through which subresource (`scale`), and when. */
export interface FieldWriter {
  manager: string;
  apiVersion: string;
  subresource?: string;
  now: Date;
}

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Owner {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource?: string;
  apiVersion: string;
  fields: Set<string>;
  /** The stored entry, whose time stays when its fields do. */
  stored?: ManagedFieldsEntry;
}

/** One field another writer holds that an apply would change. */
export interface FieldConflict {
  /** As Kubernetes prints a manager: `"kubectl-scale" with subresource "scale" using apps/v1`. */
  manager: string;
  /** `.spec.replicas` */
  field: string;
}

/** An apply that would change fields other writers hold, without `force`. */
export class ApplyConflict extends Error {
  constructor(readonly conflicts: readonly FieldConflict[]) {
    super(conflictMessage(conflicts));
  }
}

/**
 * Server-side apply of `config` by `writer` to `live` (undefined: the object is created). The
 * configuration is merged in as a strategic merge would; a field the writer's last apply named and
 * this one does not is removed, unless another entry holds it (or something below it). A field
 * another writer holds that would get a different value is a conflict, unless `force` hands it over.
 */
export function applyFields(args: {
  kind: string;
  live: PlainObject | undefined;
  managedFields: unknown;
  config: PlainObject;
  writer: FieldWriter;
  force: boolean;
}): { object: PlainObject; managedFields: ManagedFieldsEntry[] } {
  const { kind, writer } = args;
  const owners = readEntries(args.managedFields);
  const config = withoutManagedFields(args.config);
  const applied = appliedFields(kind, config);
  const live = args.live ?? {};
  const object = strategicMerge(kind, live, config) as PlainObject;

  const mine = owners.find((o) => same(o, writer.manager, 'Apply', writer.subresource));
  const others = owners.filter((o) => o !== mine);
  const before = leafValues(kind, live);
  const after = leafValues(kind, object);
  const conflicts: { owner: Owner; key: string }[] = [];
  for (const key of applied) {
    const was = before.get(key);
    if (was === undefined || was === after.get(key)) continue;
    for (const owner of others) if (owner.fields.has(key)) conflicts.push({ owner, key });
  }
  if (conflicts.length && !args.force)
    throw new ApplyConflict(
      conflicts.map((c) => ({ manager: managerName(c.owner), field: pathString(c.key) })),
    );
  for (const { owner, key } of conflicts) owner.fields.delete(key);

  // What this writer stopped naming goes, unless someone else still holds it.
  const dropped = [...(mine?.fields ?? [])].filter((key) => !applied.has(key));
  const heldElsewhere = (key: string) => others.some((o) => [...o.fields].some((k) => within(k, key)));
  const held = (key: string) => applied.has(key) || others.some((o) => o.fields.has(key));
  for (const key of dropped) if (!heldElsewhere(key)) removeField(object, key, held);

  const next: Owner = {
    manager: writer.manager,
    operation: 'Apply',
    ...(writer.subresource ? { subresource: writer.subresource } : {}),
    apiVersion: writer.apiVersion,
    fields: applied,
    ...(mine?.stored ? { stored: mine.stored } : {}),
  };
  const ordered = mine ? owners.map((o) => (o === mine ? next : o)) : [...owners, next];
  return { object, managedFields: writeEntries(ordered, writer.now) };
}

/**
 * Any other write by `writer` (PUT, a patch, scale, create: `before` undefined): the fields it
 * changed become its Update entry's and are taken from every other entry; fields it removed are
 * nobody's any more.
 */
export function updateFields(args: {
  kind: string;
  before: unknown;
  after: unknown;
  managedFields: unknown;
  writer: FieldWriter;
}): ManagedFieldsEntry[] {
  const { writer } = args;
  const owners = readEntries(args.managedFields);
  const { changed, removed } = diffFields(args.kind, args.before ?? {}, args.after);
  const mine = owners.find((o) => same(o, writer.manager, 'Update', writer.subresource));
  for (const owner of owners) {
    for (const key of removed) owner.fields.delete(key);
    if (owner !== mine) for (const key of changed) owner.fields.delete(key);
  }
  const next: Owner = {
    manager: writer.manager,
    operation: 'Update',
    ...(writer.subresource ? { subresource: writer.subresource } : {}),
    apiVersion: writer.apiVersion,
    fields: new Set([...(mine?.fields ?? []), ...changed]),
    ...(mine?.stored ? { stored: mine.stored } : {}),
  };
  const ordered = mine ? owners.map((o) => (o === mine ? next : o)) : [...owners, next];
  return writeEntries(ordered, args.writer.now);
}

/**
 * Kubernetes' words for a refused apply, which kubectl prints after `error: ` and follows with its
 * hint about `--force-conflicts`.
 */
export function conflictMessage(conflicts: readonly FieldConflict[]): string {
  if (conflicts.length === 1) {
    const [c] = conflicts as [FieldConflict];
    return `Apply failed with 1 conflict: conflict with ${c.manager}: ${c.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
  const lines = [...byManager.keys()]
    .sort()
    .flatMap((m) => [`conflicts with ${m}:`, ...(byManager.get(m) ?? []).map((f) => `- ${f}`)]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** A manager as Kubernetes names one in a conflict: an Update's says which version it wrote. */
function managerName(o: Owner): string {
  const name = `${JSON.stringify(o.manager)}${o.subresource ? ` with subresource ${JSON.stringify(o.subresource)}` : ''}`;
  return o.operation === 'Update' ? `${name} using ${o.apiVersion}` : name;
}

const same = (o: Owner, manager: string, operation: Owner['operation'], subresource: string | undefined) =>
  o.manager === manager && o.operation === operation && (o.subresource ?? '') === (subresource ?? '');

/** The stored entries; anything unreadable in them is left out rather than trusted. */
function readEntries(raw: unknown): Owner[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((e): Owner[] => {
    if (!isPlainObject(e) || typeof e.manager !== 'string') return [];
    if (e.operation !== 'Apply' && e.operation !== 'Update') return [];
    return [
      {
        manager: e.manager,
        operation: e.operation,
        ...(typeof e.subresource === 'string' && e.subresource ? { subresource: e.subresource } : {}),
        apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
        fields: fromFieldsV1(e.fieldsV1),
        stored: e as unknown as ManagedFieldsEntry,
      },
    ];
  });
}

/**
 * The entries to store: an entry whose fields and version did not change keeps its time, so a
 * write that changes nothing leaves the object as it was; an entry with no field is dropped.
 */
function writeEntries(owners: readonly Owner[], now: Date): ManagedFieldsEntry[] {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return owners
    .filter((o) => o.fields.size > 0)
    .map((o) => {
      const fieldsV1 = toFieldsV1(o.fields);
      const kept =
        o.stored &&
        o.stored.apiVersion === o.apiVersion &&
        canonicalJson(o.stored.fieldsV1) === canonicalJson(fieldsV1);
      return {
        manager: o.manager,
        operation: o.operation,
        apiVersion: o.apiVersion,
        time: kept && o.stored ? o.stored.time : time,
        fieldsType: 'FieldsV1' as const,
        fieldsV1,
        ...(o.subresource ? { subresource: o.subresource } : {}),
      };
    });
}

function withoutManagedFields(config: PlainObject): PlainObject {
  if (!isPlainObject(config.metadata)) return config;
  const { managedFields: _, ...metadata } = config.metadata;
  return { ...config, metadata };
}
