import { and, eq, inArray } from 'drizzle-orm';
import type { ServiceAccountInput, ServiceAccountSpec } from '../../common/service-account.ts';
import type { Database } from '../../db/database.ts';
import { serviceAccounts } from '../../db/schema/index.ts';
import {
  type ServiceAccountRow,
  serviceAccountKind,
  toServiceAccountObject,
} from '../kinds/service-account.ts';
import { bumpServiceAccountWaiters } from '../store/assignments.ts';
import {
  applyObject,
  deleteObject,
  getObject,
  listObjects,
  type WriteOptions,
  type Written,
} from '../store/objects.ts';

export { toServiceAccountObject };

/** A ServiceAccount written, and the nodes whose agents must be woken after commit to read it. */
export interface ServiceAccountWritten extends Written<ServiceAccountRow> {
  wakeNodes: string[];
}

/**
 * Create or replace a ServiceAccount. Replicas waiting for it (their pod names it, and it did not
 * exist) get it in the same transaction: their nodes' assignments are bumped with the write.
 */
export function applyServiceAccount(
  db: Database,
  args: { namespace: string; name: string; input: ServiceAccountInput },
  write: WriteOptions,
): Promise<ServiceAccountWritten> {
  if (write.dryRun) return writeServiceAccount(db, args, write).then((w) => ({ ...w, wakeNodes: [] }));
  return db.transaction(async (tx) => {
    const written = await writeServiceAccount(tx, args, write);
    const wakeNodes = written.created ? await bumpServiceAccountWaiters(tx, args.namespace, args.name) : [];
    return { ...written, wakeNodes };
  });
}

function writeServiceAccount(
  db: Database,
  args: { namespace: string; name: string; input: ServiceAccountInput },
  write: WriteOptions,
): Promise<Written<ServiceAccountRow>> {
  const { input } = args;
  const spec: ServiceAccountSpec =
    input.automountServiceAccountToken === undefined
      ? {}
      : { automountServiceAccountToken: input.automountServiceAccountToken };
  return applyObject(
    db,
    serviceAccountKind,
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: input.metadata,
      resourceVersion: input.metadata.resourceVersion,
    },
    { spec, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
  );
}

export const getServiceAccount = (db: Database, namespace: string, name: string) =>
  getObject(db, serviceAccountKind, namespace, name);

export const listServiceAccounts = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, serviceAccountKind, namespace, labelSelector);

export const deleteServiceAccount = (db: Database, namespace: string, name: string) =>
  deleteObject(db, serviceAccountKind, namespace, name);

/** Of `names`, those stored in `namespace`, each with its automountServiceAccountToken (null: unsaid). */
export async function findServiceAccounts(
  db: Database,
  namespace: string,
  names: string[],
): Promise<Map<string, boolean | null>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ name: serviceAccounts.name, automount: serviceAccounts.automountServiceAccountToken })
    .from(serviceAccounts)
    .where(and(eq(serviceAccounts.namespace, namespace), inArray(serviceAccounts.name, names)));
  return new Map(rows.map((r) => [r.name, r.automount]));
}
