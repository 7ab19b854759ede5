import type { ServiceAccountSpec } from '../../common/service-account.ts';
import { serviceAccounts } from '../../db/schema/index.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';

export type ServiceAccountRow = typeof serviceAccounts.$inferSelect;

const specOf = (row: ServiceAccountRow): ServiceAccountSpec =>
  row.automountServiceAccountToken === null
    ? {}
    : { automountServiceAccountToken: row.automountServiceAccountToken };

/** ServiceAccounts in the object store: a name and whether Kubernetes would mount its token. */
export const serviceAccountKind: ObjectKind<ServiceAccountRow, ServiceAccountSpec> = {
  noun: 'serviceaccount',
  table: serviceAccounts,
  generation: false,
  stateOf: (row) => ({ spec: specOf(row), labels: row.labels, annotations: row.annotations }),
  columns: (next) => ({ automountServiceAccountToken: next.spec.automountServiceAccountToken ?? null }),
};

export function toServiceAccountObject(row: ServiceAccountRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'ServiceAccount' as const,
    metadata: objectMetadata(row),
    ...specOf(row),
  };
}
