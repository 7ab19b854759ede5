import type { NamespacePolicySpec } from '../../common/policy.ts';
import { namespacePolicies } from '../../db/schema/index.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';

export type NamespacePolicyRow = typeof namespacePolicies.$inferSelect;

/** Namespace policies in the object store: one per namespace, named after it. */
export const namespacePolicyKind: ObjectKind<NamespacePolicyRow, NamespacePolicySpec> = {
  noun: 'namespace policy',
  table: namespacePolicies,
  generation: true,
  stateOf: (row) => ({ spec: row.spec, labels: row.labels, annotations: row.annotations }),
  columns: (next) => ({ spec: next.spec }),
};

export function toNamespacePolicyObject(row: NamespacePolicyRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'NamespacePolicy' as const,
    metadata: objectMetadata(row),
    spec: row.spec,
  };
}
