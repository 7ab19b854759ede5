import { asc } from 'drizzle-orm';
import { DEFAULT_POLICY, type NamespacePolicyInput } from '../../common/policy.ts';
import type { Database } from '../../db/database.ts';
import { namespacePolicies } from '../../db/schema/index.ts';
import {
  type NamespacePolicyRow,
  namespacePolicyKind,
  toNamespacePolicyObject,
} from '../kinds/namespace-policy.ts';
import { applyObject, deleteObject, getObject, type WriteOptions, type Written } from '../store/objects.ts';

export { toNamespacePolicyObject };

/** Create or replace the policy of a namespace (admins only; the route checks). */
export function applyPolicy(
  db: Database,
  namespace: string,
  input: NamespacePolicyInput,
  write: WriteOptions,
): Promise<Written<NamespacePolicyRow>> {
  const meta = input.metadata;
  return applyObject(
    db,
    namespacePolicyKind,
    {
      ...write,
      namespace,
      name: namespace,
      // A policy is named after its namespace: metadata.name, when given, must be that name.
      metadata: { name: meta.name, namespace: meta.namespace },
      resourceVersion: meta.resourceVersion,
    },
    { spec: input.spec, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
  );
}

/** The policy in force: the namespace's own, or the default (marked as such). */
export async function readPolicy(db: Database, namespace: string) {
  try {
    return toNamespacePolicyObject(await getObject(db, namespacePolicyKind, namespace, namespace));
  } catch (e) {
    if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    return {
      apiVersion: 'berth.dev/v1' as const,
      kind: 'NamespacePolicy' as const,
      metadata: { name: namespace, namespace, annotations: { 'berth.dev/default': 'true' } },
      spec: DEFAULT_POLICY,
    };
  }
}

export async function listPolicies(db: Database) {
  const rows = await db.select().from(namespacePolicies).orderBy(asc(namespacePolicies.namespace));
  return rows.map(toNamespacePolicyObject);
}

/** Back to the default policy. */
export const deletePolicy = (db: Database, namespace: string) =>
  deleteObject(db, namespacePolicyKind, namespace, namespace);
