import { asc, eq } from 'drizzle-orm';
import type { TrustRuleInput } from '../../common/trust-rule.ts';
import type { Database } from '../../db/database.ts';
import { trustRules } from '../../db/schema/index.ts';
import { invalid } from '../errors.ts';
import {
  TRUST_RULE_NAMESPACE,
  type TrustRuleRow,
  toTrustRuleObject,
  trustRuleKind,
} from '../kinds/trust-rule.ts';
import { applyObject, deleteObject, getObject, type WriteOptions, type Written } from '../store/objects.ts';

export { toTrustRuleObject };

/** Create or replace a trust rule (admins only; the route and the apply path check). */
export function applyTrustRule(
  db: Database,
  name: string,
  input: Pick<TrustRuleInput, 'metadata' | 'spec'>,
  write: WriteOptions,
): Promise<Written<TrustRuleRow>> {
  const meta = input.metadata;
  if (meta.namespace !== undefined)
    throw invalid([
      { path: 'metadata.namespace', message: 'a trust rule is cluster-scoped: remove the namespace' },
    ]);
  return applyObject(
    db,
    trustRuleKind,
    {
      ...write,
      namespace: TRUST_RULE_NAMESPACE,
      name,
      metadata: { name: meta.name },
      resourceVersion: meta.resourceVersion,
    },
    { spec: input.spec, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
  );
}

export async function readTrustRule(db: Database, name: string) {
  return toTrustRuleObject(await getObject(db, trustRuleKind, TRUST_RULE_NAMESPACE, name));
}

/** Every rule, by name: the exchange reads them all (an admin writes a handful, not thousands). */
export function listTrustRuleRows(db: Database): Promise<TrustRuleRow[]> {
  return db
    .select()
    .from(trustRules)
    .where(eq(trustRules.namespace, TRUST_RULE_NAMESPACE))
    .orderBy(asc(trustRules.name));
}

export async function listTrustRules(db: Database) {
  return (await listTrustRuleRows(db)).map(toTrustRuleObject);
}

export async function deleteTrustRule(db: Database, name: string) {
  return toTrustRuleObject(await deleteObject(db, trustRuleKind, TRUST_RULE_NAMESPACE, name));
}
