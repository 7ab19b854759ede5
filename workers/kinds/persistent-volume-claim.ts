import { canonicalJson } from '../../common/canonical-json.ts';
import { type PersistentVolumeClaimSpec, storageBytes } from '../../common/persistent-volume-claim.ts';
import { persistentVolumeClaims } from '../../db/schema/index.ts';
import { type FieldError, invalid } from '../errors.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';

export type ClaimRow = typeof persistentVolumeClaims.$inferSelect;

const specOf = (row: ClaimRow): PersistentVolumeClaimSpec => ({
  accessModes: row.accessModes,
  storage: row.storage,
  storageClassName: row.storageClassName,
  volumeMode: row.volumeMode,
});

const IMMUTABLE =
  'spec is immutable after creation except resources.requests.storage, which may only grow (as in Kubernetes)';

/**
 * PersistentVolumeClaims in the object store. As in Kubernetes, a claim's spec never changes once
 * created but for its size, which may grow: the local volume driver does not cap a volume, so the
 * new size is recorded and shown at once (status.capacity) with nothing to resize.
 */
export const persistentVolumeClaimKind: ObjectKind<ClaimRow, PersistentVolumeClaimSpec> = {
  noun: 'persistentvolumeclaim',
  table: persistentVolumeClaims,
  generation: false,
  stateOf: (row) => ({ spec: specOf(row), labels: row.labels, annotations: row.annotations }),
  columns: (next) => ({
    accessModes: next.spec.accessModes,
    storage: next.spec.storage,
    storageClassName: next.spec.storageClassName,
    volumeMode: next.spec.volumeMode,
  }),
  admit: async (_tx, next, { existing }) => {
    if (!existing) return;
    const errors: FieldError[] = [];
    const was = specOf(existing);
    if (canonicalJson(next.spec.accessModes) !== canonicalJson(was.accessModes))
      errors.push({ path: 'spec.accessModes', message: IMMUTABLE });
    if (next.spec.storageClassName !== was.storageClassName)
      errors.push({ path: 'spec.storageClassName', message: IMMUTABLE });
    if (storageBytes(next.spec.storage) < storageBytes(was.storage))
      errors.push({
        path: 'spec.resources.requests.storage',
        message: `field can not be less than previous value (${was.storage})`,
      });
    if (errors.length) throw invalid(errors);
  },
};

/** What any read returns: spec as Kubernetes writes it, and the status Berth keeps. */
export function toClaimObject(row: ClaimRow) {
  const bound = row.nodeName !== null;
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'PersistentVolumeClaim' as const,
    metadata: {
      ...objectMetadata(row),
      ...(row.deletingAt ? { deletionTimestamp: row.deletingAt.toISOString() } : {}),
    },
    spec: {
      accessModes: row.accessModes,
      resources: { requests: { storage: row.storage } },
      ...(row.storageClassName !== null ? { storageClassName: row.storageClassName } : {}),
      volumeMode: row.volumeMode,
    },
    status: bound
      ? {
          phase: 'Bound' as const,
          nodeName: row.nodeName!,
          capacity: { storage: row.storage },
          accessModes: row.accessModes,
        }
      : { phase: 'Pending' as const },
  };
}
