import { and, eq, inArray } from 'drizzle-orm';
import type { ConfigMapInput } from '../../common/config-map.ts';
import type { Database } from '../../db/database.ts';
import { configMaps } from '../../db/schema/index.ts';
import { type ConfigMapRow, configMapKind, toConfigMapObject } from '../kinds/config-map.ts';
import { bumpConfigMapWaiters } from '../store/assignments.ts';
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

/**
 * Create or replace a ConfigMap. Replicas waiting for it get it in the same transaction: their
 * nodes' assignments are bumped with the write. Replicas already started keep the values they
 * were sent (replicas.configMapData): a container's environment never changes under it.
 */
export function applyConfigMap(
  db: Database,
  args: { namespace: string; name: string; input: ConfigMapInput },
  write: WriteOptions,
): Promise<ConfigMapWritten> {
  if (write.dryRun) return writeConfigMap(db, args, write).then((w) => ({ ...w, wakeNodes: [] }));
  return db.transaction(async (tx) => {
    const written = await writeConfigMap(tx, args, write);
    const wakeNodes = written.changed ? await bumpConfigMapWaiters(tx, args.namespace, args.name) : [];
    return { ...written, wakeNodes };
  });
}

function writeConfigMap(
  db: Database,
  args: { namespace: string; name: string; input: ConfigMapInput },
  write: WriteOptions,
): Promise<Written<ConfigMapRow>> {
  const { input } = args;
  return applyObject(
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
}

export const getConfigMap = (db: Database, namespace: string, name: string) =>
  getObject(db, configMapKind, namespace, name);

export const listConfigMaps = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, configMapKind, namespace, labelSelector);

/** The data of the named ConfigMaps of one namespace, for building a node's assignments. */
export async function resolveConfigMaps(
  db: Database,
  namespace: string,
  names: string[],
): Promise<Map<string, Record<string, string>>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ name: configMaps.name, data: configMaps.data })
    .from(configMaps)
    .where(and(eq(configMaps.namespace, namespace), inArray(configMaps.name, names)));
  return new Map(rows.map((r) => [r.name, r.data]));
}

export const deleteConfigMap = (db: Database, namespace: string, name: string) =>
  deleteObject(db, configMapKind, namespace, name);
