import { and, eq, inArray } from 'drizzle-orm';
import type { PodSpec } from '../../common/deployment.ts';
import { withInitContainers } from '../../common/init-containers.ts';
import type { SecretInput } from '../../common/secret.ts';
import type { Database } from '../../db/database.ts';
import { secrets } from '../../db/schema/index.ts';
import {
  requireSecretKey,
  type SecretRow,
  secretBinding,
  secretKind,
  toSecretObject,
  withoutAppliedValues,
} from '../kinds/secret.ts';
import { openSecret } from '../secret-box.ts';
import { bumpSecretWaiters } from '../store/assignments.ts';
import {
  applyObject,
  deleteObject,
  getObject,
  listObjects,
  type WriteOptions,
  type Written,
} from '../store/objects.ts';
import { missingVolumeRefs, resolveVolumeConfigMaps, volumeObjectNames } from './pod-volumes.ts';
import { configMapNamesOf, missingSecretRefs, secretNamesOf } from './secret-refs.ts';

export { toSecretObject };

/** A secret written, and the nodes whose agents must be woken after commit to read it. */
export interface SecretWritten extends Written<SecretRow> {
  wakeNodes: string[];
}

/**
 * Create or replace a secret. Replicas waiting for it (a CreateContainerConfigError) get it in
 * the same transaction: their nodes' assignments are bumped with the write, so the agents, once
 * woken, start them within a poll.
 */
export function applySecret(
  db: Database,
  key: string | undefined,
  args: { namespace: string; name: string; input: SecretInput },
  write: WriteOptions,
): Promise<SecretWritten> {
  requireSecretKey(key);
  if (write.dryRun) return writeSecret(db, key, args, write).then((w) => ({ ...w, wakeNodes: [] }));
  return db.transaction(async (tx) => {
    const written = await writeSecret(tx, key, args, write);
    const wakeNodes = written.changed ? await bumpSecretWaiters(tx, args.namespace, args.name) : [];
    return { ...written, wakeNodes };
  });
}

function writeSecret(
  db: Database,
  key: string | undefined,
  args: { namespace: string; name: string; input: SecretInput },
  write: WriteOptions,
): Promise<Written<SecretRow>> {
  const { input } = args;
  return applyObject(
    db,
    secretKind(key),
    {
      ...write,
      namespace: args.namespace,
      name: args.name,
      metadata: input.metadata,
      resourceVersion: input.metadata.resourceVersion,
    },
    {
      spec: { type: input.type, data: input.data },
      labels: input.metadata.labels ?? {},
      // Values are stored sealed only: never in clear in kubectl's copy of the manifest either.
      annotations: withoutAppliedValues(input.metadata.annotations ?? {}),
    },
  );
}

export const getSecret = (db: Database, namespace: string, name: string) =>
  getObject(db, secretKind(undefined), namespace, name);

export const listSecrets = (db: Database, namespace: string, labelSelector?: string) =>
  listObjects(db, secretKind(undefined), namespace, labelSelector);

export const deleteSecret = (db: Database, namespace: string, name: string) =>
  deleteObject(db, secretKind(undefined), namespace, name);

/** Decrypted values of the named secrets of one namespace, for building a node's assignments. */
export async function resolveSecrets(
  db: Database,
  key: string | undefined,
  namespace: string,
  names: string[],
): Promise<Map<string, { type: string; data: Record<string, string> }>> {
  const out = new Map<string, { type: string; data: Record<string, string> }>();
  if (names.length === 0 || !key) return out;
  const rows = await db
    .select()
    .from(secrets)
    .where(and(eq(secrets.namespace, namespace), inArray(secrets.name, names)));
  for (const row of rows) {
    out.set(row.name, {
      type: row.type,
      data: await openSecret(key, secretBinding(namespace, row.name), row.ciphertext),
    });
  }
  return out;
}

/**
 * What a pod spec lacks of its namespace's secrets and ConfigMaps, as the warnings of the write
 * that stored it (`secret "db" not found: ...`), read in that write's transaction where there is
 * one. Only secrets' key names are read, never their values.
 */
export async function missingSecretWarnings(
  db: Database,
  namespace: string,
  pod: Pick<PodSpec, 'containers' | 'initContainers' | 'imagePullSecrets' | 'volumes'>,
): Promise<string[]> {
  // Init containers name secrets and ConfigMaps as containers do.
  const spec = withInitContainers(pod);
  const mounted = volumeObjectNames(spec);
  const names = [...new Set([...secretNamesOf(spec), ...mounted.secrets])];
  const mapNames = [...new Set([...configMapNamesOf(spec), ...mounted.configMaps])];
  if (names.length === 0 && mapNames.length === 0) return [];
  const rows = names.length
    ? await db
        .select({ name: secrets.name, keys: secrets.keys })
        .from(secrets)
        .where(and(eq(secrets.namespace, namespace), inArray(secrets.name, names)))
    : [];
  const keys = new Map(rows.map((r) => [r.name, r.keys]));
  const maps = await resolveVolumeConfigMaps(db, namespace, mapNames);
  // env reads `data`; a volume's files are binaryData's keys too.
  const mapKeys = (name: string) => {
    const found = maps.get(name);
    return found ? Object.keys(found.data) : undefined;
  };
  const fileKeys = (name: string) => {
    const found = maps.get(name);
    return found ? [...Object.keys(found.data), ...Object.keys(found.binaryData)] : undefined;
  };
  return [
    ...new Set([
      ...missingSecretRefs(spec, (name) => keys.get(name), mapKeys),
      ...missingVolumeRefs(spec, (name) => keys.get(name), fileKeys),
    ]),
  ].map((reason) => `${reason}: its replicas stay Pending (CreateContainerConfigError) until it exists`);
}
