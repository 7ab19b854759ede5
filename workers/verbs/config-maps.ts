import type { ConfigMapInput } from '../../common/config-map.ts';
import type { Database } from '../../db/database.ts';
import { type ConfigMapRow, configMapKind, toConfigMapObject } from '../kinds/config-map.ts';
import {
  applyObject,
  deleteObject,
  getObject,
  listObjects,
  type WriteOptions,
  type Written,
} from '../store/objects.ts';

export { toConfigMapObject };

/** A ConfigMap written, and the nodes whose agents must be woken after commit to read it. */
export interface ConfigMapWritten extends Written<ConfigMapRow> {
  wakeNodes: string[];
}

/** Create or replace a ConfigMap. */
export async function applyConfigMap(
  db: Database,
  args: { namespace: string; name: string; input: ConfigMapInput },
  write: WriteOptions,
): Promise<ConfigMapWritten> {
  const { input } = args;
  const written = await applyObject(
    db,
    configMapKind,
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: input.metadata,
      resourceVersion: input.metadata.resourceVersion,
    },
    {
      spec: { data: input.data, binaryData: input.binaryData, immutable: input.immutable ?? false },
      labels: input.metadata.labels ?? {},
      annotations: input.metadata.annotations ?? {},
    },
  );
  return { ...written, wakeNodes: [] };
}

export const getConfigMap = (db: Database, namespace: string, name: string) =>
  getObject(db, configMapKind, namespace, name);

export const listConfigMaps = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, configMapKind, namespace, labelSelector);

export const deleteConfigMap = (db: Database, namespace: string, name: string) =>
  deleteObject(db, configMapKind, namespace, name);
