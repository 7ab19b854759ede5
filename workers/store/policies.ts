import { and, eq, inArray } from 'drizzle-orm';
import { DEFAULT_POLICY, type NamespacePolicySpec } from '../../common/policy.ts';
import type { Database } from '../../db/database.ts';
import { namespacePolicies } from '../../db/schema/index.ts';

/** The policy of a namespace: its own, or the default one. */
export async function loadPolicy(db: Database, namespace: string): Promise<NamespacePolicySpec> {
  const [row] = await db
    .select({ spec: namespacePolicies.spec })
    .from(namespacePolicies)
    .where(and(eq(namespacePolicies.namespace, namespace), eq(namespacePolicies.name, namespace)));
  return row?.spec ?? DEFAULT_POLICY;
}

/** The policies of several namespaces at once, each defaulting as `loadPolicy` does. */
export async function loadPolicies(
  db: Database,
  names: readonly string[],
): Promise<Map<string, NamespacePolicySpec>> {
  const out = new Map<string, NamespacePolicySpec>(names.map((n) => [n, DEFAULT_POLICY]));
  if (names.length === 0) return out;
  const rows = await db
    .select({ namespace: namespacePolicies.namespace, spec: namespacePolicies.spec })
    .from(namespacePolicies)
    .where(inArray(namespacePolicies.namespace, [...names]));
  for (const r of rows) out.set(r.namespace, r.spec);
  return out;
}
