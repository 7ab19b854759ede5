import { canonicalJson } from '../../common/canonical-json.ts';
import type { ConfigMapSpec } from '../../common/config-map.ts';
import { configMaps } from '../../db/schema/index.ts';
import { invalid } from '../errors.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';

export type ConfigMapRow = typeof configMaps.$inferSelect;

const specOf = (row: ConfigMapRow): ConfigMapSpec => ({
  data: row.data,
  binaryData: row.binaryData,
  immutable: row.immutable,
});

/**
 * ConfigMaps in the object store. One marked immutable keeps its data for good, as in Kubernetes
 * (kubelets there stop watching it; here it is the promise a reader relies on): only its metadata
 * may change, and it cannot be made mutable again.
 */
export const configMapKind: ObjectKind<ConfigMapRow, ConfigMapSpec> = {
  noun: 'configmap',
  table: configMaps,
  generation: false,
  stateOf: (row) => ({ spec: specOf(row), labels: row.labels, annotations: row.annotations }),
  columns: (next) => ({
    data: next.spec.data,
    binaryData: next.spec.binaryData,
    immutable: next.spec.immutable,
  }),
  admit: async (_tx, next, { existing }) => {
    if (!existing?.immutable) return;
    const errors = [];
    if (!next.spec.immutable)
      errors.push({ path: 'immutable', message: 'field is immutable when `immutable` is set' });
    if (canonicalJson(next.spec.data) !== canonicalJson(existing.data))
      errors.push({ path: 'data', message: 'field is immutable when `immutable` is set' });
    if (canonicalJson(next.spec.binaryData) !== canonicalJson(existing.binaryData))
      errors.push({ path: 'binaryData', message: 'field is immutable when `immutable` is set' });
    if (errors.length) throw invalid(errors);
  },
};

/** What any read returns: everything, as ConfigMaps hold no secrets. */
export function toConfigMapObject(row: ConfigMapRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'ConfigMap' as const,
    metadata: objectMetadata(row),
    data: row.data,
    ...(Object.keys(row.binaryData).length ? { binaryData: row.binaryData } : {}),
    ...(row.immutable ? { immutable: true } : {}),
  };
}
