import type { TrustRuleSpec } from '../../common/trust-rule.ts';
import { trustRules } from '../../db/schema/index.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';

export type TrustRuleRow = typeof trustRules.$inferSelect;

/** Trust rules are cluster-scoped: the store keeps them under the namespace ''. */
export const TRUST_RULE_NAMESPACE = '';

export const trustRuleKind: ObjectKind<TrustRuleRow, TrustRuleSpec> = {
  noun: 'trust rule',
  table: trustRules,
  generation: true,
  stateOf: (row) => ({ spec: row.spec, labels: row.labels, annotations: row.annotations }),
  columns: (next) => ({ spec: next.spec }),
};

export function toTrustRuleObject(row: TrustRuleRow) {
  const { namespace: _cluster, ...metadata } = objectMetadata(row);
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'TrustRule' as const,
    metadata,
    spec: row.spec,
  };
}
