import type { NamespacePolicySpec } from '../../common/policy.ts';
import { namespacePolicies } from '../../db/schema/index.ts';
import type { ObjectKind } from '../store/objects.ts';

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
    metadata: {
      name: row.name,
      namespace: row.namespace,
      uid: row.id,
      labels: row.labels,
      ...(Object.keys(row.annotations).length ? { annotations: row.annotations } : {}),
      resourceVersion: String(row.resourceVersion),
      generation: row.generation,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    },
    spec: row.spec,
  };
}
