import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { canonicalJson } from '../../common/canonical-json.ts';
import {
  equalityLabels,
  matchesSelector,
  parseLabelSelector,
  type Requirement,
} from '../../common/label-selector.ts';
import type { Database } from '../../db/database.ts';
import { pgErrorCode } from '../../db/unavailable.ts';
import { conflict, type FieldError, invalid, notFound } from '../errors.ts';
import { ensureNamespace } from './namespaces.ts';

/**
 * One way to store every versioned, namespaced object (deployments, services, secrets, and the
 * kinds that follow), as Kubernetes' generic registry store does: name and namespace checks,
 * resourceVersion preconditions, "nothing changed" detection on canonical JSON, generation for
 * spec changes, the duplicate-key retry of two concurrent creates. A kind supplies its table,
 * how its stored row reads as desired state, its own columns and the rules that need the rest
 * of the database; PUT, PATCH, `/v1/apply` and dry runs all come through here.
 */

/** The columns every stored object has. */
export interface ObjectRow {
  id: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resourceVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

type ObjectTable = PgTable & {
  id: AnyPgColumn;
  namespace: AnyPgColumn;
  name: AnyPgColumn;
  labels: AnyPgColumn;
};

/**
 * `metadata` as every kind returns it (API.md "Conventions"): annotations only when there are
 * some; `generation` for the kinds that count spec changes.
 */
export function objectMetadata(row: ObjectRow & { generation?: number }) {
  return {
    name: row.name,
    namespace: row.namespace,
    uid: row.id,
    labels: row.labels,
    ...(Object.keys(row.annotations).length ? { annotations: row.annotations } : {}),
    resourceVersion: String(row.resourceVersion),
    ...(row.generation !== undefined ? { generation: row.generation } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** What a write asks an object to be. Spec changes count in `generation`; metadata changes do not. */
export interface ObjectState<Spec> {
  spec: Spec;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * Who is writing, for the rules that depend on it: a namespace policy's allowances (hosts, host
 * ports) bind deployers, not admins; the API's own host names bind everyone.
 */
export interface Admission {
  admin: boolean;
  apiHosts: readonly string[];
  /** Where services' cluster IPs and node ports come from (absent: the defaults of workers/config.ts). */
  serviceAddresses?: { serviceCidr: string; nodePortRange: { min: number; max: number } };
  /** Whether this control plane serves an Ingress's `tls` Secret (Node with HTTPS of its own). */
  hostCertificates?: boolean;
}

/** How a verb writes: when, for whom, and whether for real. */
export interface WriteOptions {
  now: Date;
  admission: Admission;
  dryRun?: boolean;
  /** POST semantics: an object of this name must not exist yet (409). */
  createOnly?: boolean;
  /**
   * Kubernetes' field ownership to keep with the object (workers/kube/field-ownership.ts), written
   * in the object's own write; absent, what is stored stays. Only the kinds the Kubernetes face
   * writes have the column.
   */
  managedFields?: readonly Record<string, unknown>[];
}

/** What a kind's hooks know of the write under way. */
export interface ObjectWrite<Row> {
  namespace: string;
  name: string;
  existing: Row | undefined;
  specChanged: boolean;
  now: Date;
  admission: Admission;
}

export interface ObjectKind<Row extends ObjectRow, Spec> {
  /** As in messages: `deployment "shop/web" not found`. */
  noun: string;
  table: ObjectTable;
  /** Rows the API sees (a deleted deployment stays until the controller has stopped its replicas). */
  live?: SQL;
  /** Whether spec changes count in a `generation` column. */
  generation: boolean;
  /** The desired state a stored row holds (a promise where it must be decrypted first). */
  stateOf(row: Row): ObjectState<Spec> | Promise<ObjectState<Spec>>;
  /** The kind's own columns for a write of `next` (the store sets the common ones). */
  columns(
    next: ObjectState<Spec>,
    write: ObjectWrite<Row>,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * Fills what a write may leave out from what is stored (an assigned address), and refuses what
   * may not change, before "nothing changed" is judged. Pure.
   */
  prepare?(next: ObjectState<Spec>, stored: ObjectState<Spec> | undefined): ObjectState<Spec>;
  /** Whether a stored object still lacks what its kind now assigns: its next write counts as a change. */
  incomplete?(stored: ObjectState<Spec>): boolean;
  /**
   * Rules that need the rest of the database, checked in the write's transaction before it writes;
   * may return the state to write instead (with what it assigned).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most kinds' admit returns nothing
  admit?(tx: Database, next: ObjectState<Spec>, write: ObjectWrite<Row>): Promise<ObjectState<Spec> | void>;
  /** Rows of other tables that follow the object's own, written in the same transaction. */
  afterWrite?(tx: Database, row: Row, next: ObjectState<Spec>): Promise<void>;
}

export interface Written<Row> {
  row: Row;
  created: boolean;
  changed: boolean;
}

/** Where a write is aimed, and what its metadata claims about it. */
export interface WriteTarget {
  namespace: string;
  name: string;
  /** `metadata` as sent: its name and namespace must agree with the target's. */
  metadata?: { name?: string | undefined; namespace?: string | undefined };
  /** Succeed only if the stored object has this resourceVersion (API.md "Optimistic concurrency"). */
  resourceVersion?: string | undefined;
  now: Date;
  admission: Admission;
  /** POST semantics: an object of this name must not exist yet. */
  createOnly?: boolean;
  /** Check everything, write nothing: the answer is what the write would have stored. */
  dryRun?: boolean;
  /** See WriteOptions. */
  managedFields?: readonly Record<string, unknown>[] | undefined;
}

/** The live object of this name (for a kind's own writes, such as a soft delete). */
export const whereName = <Row extends ObjectRow, Spec>(
  kind: ObjectKind<Row, Spec>,
  namespace: string,
  name: string,
) => and(eq(kind.table.namespace, namespace), eq(kind.table.name, name), kind.live);

const title = (kind: { noun: string }, namespace: string, name: string) =>
  `${kind.noun} "${namespace ? `${namespace}/` : ''}${name}"`;

export async function getObject<Row extends ObjectRow, Spec>(
  db: Database,
  kind: ObjectKind<Row, Spec>,
  namespace: string,
  name: string,
): Promise<Row> {
  const [row] = await db
    .select()
    .from(kind.table)
    .where(whereName(kind, namespace, name));
  if (!row) throw notFound(title(kind, namespace, name));
  return row as Row;
}

/** A namespace's objects of one kind, by name, that match a label selector (`app=web,tier!=db`). */
export async function listObjects<Row extends ObjectRow, Spec>(
  db: Database,
  kind: ObjectKind<Row, Spec>,
  namespace: string,
  labelSelector?: string,
): Promise<Row[]> {
  let requirements: Requirement[] = [];
  try {
    requirements = labelSelector ? parseLabelSelector(labelSelector) : [];
  } catch (e) {
    throw invalid([{ path: 'labelSelector', message: (e as Error).message }]);
  }
  // Equalities narrow the scan through the labels' containment; the rest is checked here.
  const equal = equalityLabels(requirements);
  const where = [eq(kind.table.namespace, namespace), kind.live];
  if (Object.keys(equal).length) where.push(sql`${kind.table.labels} @> ${JSON.stringify(equal)}::jsonb`);
  const rows = (await db
    .select()
    .from(kind.table)
    .where(and(...where))
    .orderBy(asc(kind.table.name))) as Row[];
  return rows.filter((r) => matchesSelector(r.labels, requirements));
}

/** Create or replace an object with `next`. An identical write changes nothing, resourceVersion included. */
export async function applyObject<Row extends ObjectRow, Spec>(
  db: Database,
  kind: ObjectKind<Row, Spec>,
  target: WriteTarget,
  next: ObjectState<Spec>,
): Promise<Written<Row>> {
  const { namespace, name } = target;
  const errors: FieldError[] = [];
  if (target.metadata?.name !== undefined && target.metadata.name !== name)
    errors.push({ path: 'metadata.name', message: `must match the name in the URL ("${name}")` });
  if (target.metadata?.namespace !== undefined && target.metadata.namespace !== namespace)
    errors.push({
      path: 'metadata.namespace',
      message: `must match the namespace in the URL ("${namespace}")`,
    });
  if (errors.length) throw invalid(errors);

  const attempt = () =>
    maybeDryRun(db, target.dryRun ?? false, (work) =>
      work.transaction(async (tx) => {
        const [found] = await tx
          .select()
          .from(kind.table)
          .where(whereName(kind, namespace, name))
          .for('update');
        const existing = found as Row | undefined;
        if (existing && target.createOnly) throw conflict(`${title(kind, namespace, name)} already exists`);
        return writeObject(tx, kind, existing, next, target);
      }),
    );
  try {
    return await attempt();
  } catch (e) {
    // Two concurrent creates of one name: the loser retries as an update of the winner's row.
    if (pgErrorCode(e) === '23505') return attempt();
    throw e;
  }
}

/**
 * Read-modify-write of an existing object under its row lock (scale, pause, rollback, merge
 * patch): `change` sees the stored row and returns the state to write.
 */
export async function mutateObject<Row extends ObjectRow, Spec>(
  db: Database,
  kind: ObjectKind<Row, Spec>,
  target: { namespace: string; name: string; now: Date; admission: Admission; dryRun?: boolean },
  change: (current: Row, tx: Database) => Promise<{ next: ObjectState<Spec>; resourceVersion?: string }>,
): Promise<Written<Row>> {
  return maybeDryRun(db, target.dryRun ?? false, (work) =>
    work.transaction(async (tx) => {
      const [found] = await tx
        .select()
        .from(kind.table)
        .where(whereName(kind, target.namespace, target.name))
        .for('update');
      if (!found) throw notFound(title(kind, target.namespace, target.name));
      const { next, resourceVersion } = await change(found as Row, tx);
      return writeObject(tx, kind, found as Row, next, { ...target, resourceVersion });
    }),
  );
}

/** Delete an object's row; its kind's foreign keys and triggers do the rest. */
export async function deleteObject<Row extends ObjectRow, Spec>(
  db: Database,
  kind: ObjectKind<Row, Spec>,
  namespace: string,
  name: string,
): Promise<Row> {
  const [row] = await db
    .delete(kind.table)
    .where(whereName(kind, namespace, name))
    .returning();
  if (!row) throw notFound(title(kind, namespace, name));
  return row as unknown as Row;
}

async function writeObject<Row extends ObjectRow, Spec>(
  tx: Database,
  kind: ObjectKind<Row, Spec>,
  existing: Row | undefined,
  next: ObjectState<Spec>,
  target: WriteTarget,
): Promise<Written<Row>> {
  const { namespace, name, now } = target;
  const sent = target.resourceVersion;
  if (!existing && sent !== undefined)
    throw conflict(`${title(kind, namespace, name)} does not exist, so resourceVersion cannot match`);
  if (existing && sent !== undefined && sent !== String(existing.resourceVersion))
    throw conflict(
      `${title(kind, namespace, name)} was modified (resourceVersion ${existing.resourceVersion}, you sent ${sent}); read it again and retry`,
    );
  const stored = existing ? await kind.stateOf(existing) : undefined;
  if (kind.prepare) next = kind.prepare(next, stored);
  const specChanged =
    !stored ||
    canonicalJson(next.spec) !== canonicalJson(stored.spec) ||
    (kind.incomplete?.(stored) ?? false);
  const metadataChanged =
    !stored ||
    canonicalJson(next.labels) !== canonicalJson(stored.labels) ||
    canonicalJson(next.annotations) !== canonicalJson(stored.annotations);
  // Ownership alone changing is a write too (another writer now shares a field), as in Kubernetes.
  const fieldsChanged =
    target.managedFields !== undefined &&
    canonicalJson(target.managedFields) !==
      canonicalJson((existing as { managedFields?: unknown } | undefined)?.managedFields ?? []);
  if (existing && !specChanged && !metadataChanged && !fieldsChanged)
    return { row: existing, created: false, changed: false };

  const write: ObjectWrite<Row> = {
    namespace,
    name,
    existing,
    specChanged,
    now,
    admission: target.admission,
  };
  next = (await kind.admit?.(tx, next, write)) ?? next;
  const values: Record<string, unknown> = {
    labels: next.labels,
    annotations: next.annotations,
    ...(target.managedFields !== undefined ? { managedFields: target.managedFields } : {}),
    ...(await kind.columns(next, write)),
    updatedAt: now,
  };
  if (!existing) {
    // '' is no namespace: a cluster-scoped kind (trust rules) stores it and creates none.
    if (namespace !== '') await ensureNamespace(tx, namespace);
    const [row] = await tx
      .insert(kind.table)
      .values({
        ...values,
        id: crypto.randomUUID(),
        namespace,
        name,
        ...(kind.generation ? { generation: 1 } : {}),
        resourceVersion: 1,
        createdAt: now,
      } as never)
      .returning();
    await kind.afterWrite?.(tx, row as unknown as Row, next);
    return { row: row as unknown as Row, created: true, changed: true };
  }
  const generation = (existing as Row & { generation?: number }).generation ?? 0;
  const [row] = await tx
    .update(kind.table)
    .set({
      ...values,
      ...(kind.generation ? { generation: specChanged ? generation + 1 : generation } : {}),
      resourceVersion: existing.resourceVersion + 1,
    } as never)
    .where(eq(kind.table.id, existing.id))
    .returning();
  await kind.afterWrite?.(tx, row as unknown as Row, next);
  return { row: row as unknown as Row, created: false, changed: true };
}

/** Thrown to roll a dry run back once everything it would write has been checked. */
class DryRunRollback extends Error {
  constructor(readonly value: unknown) {
    super('dry run');
  }
}

/**
 * Run `work` in a transaction that commits, or for a dry run is rolled back after every check
 * (preconditions, admission rules, a host another service holds) has passed, so a dry run says
 * exactly what the real write would.
 */
export async function maybeDryRun<T>(
  db: Database,
  dryRun: boolean,
  work: (tx: Database) => Promise<T>,
): Promise<T> {
  if (!dryRun) return work(db);
  try {
    await db.transaction(async (tx) => {
      throw new DryRunRollback(await work(tx));
    });
  } catch (e) {
    if (e instanceof DryRunRollback) return e.value as T;
    throw e;
  }
  throw new Error('unreachable: a dry run always rolls back');
}
