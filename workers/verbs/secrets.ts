import { and, eq, inArray } from 'drizzle-orm';
import type { SecretInput } from '../../common/secret.ts';
import type { Database } from '../../db/database.ts';
import { secrets } from '../../db/schema/index.ts';
import {
  requireSecretKey,
  type SecretRow,
  secretBinding,
  secretKind,
  toSecretObject,
} from '../kinds/secret.ts';
import { openSecret } from '../secret-box.ts';
import { applyObject, deleteObject, getObject, listObjects, type Written } from '../store/objects.ts';

export { toSecretObject };

export function applySecret(
  db: Database,
  key: string | undefined,
  args: { namespace: string; name: string; input: SecretInput; now: Date; dryRun?: boolean },
): Promise<Written<SecretRow>> {
  const { input } = args;
  requireSecretKey(key);
  return applyObject(
    db,
    secretKind(key),
    {
      namespace: args.namespace,
      name: args.name,
      metadata: input.metadata,
      resourceVersion: input.metadata.resourceVersion,
      now: args.now,
      ...(args.dryRun ? { dryRun: true } : {}),
    },
    {
      spec: { type: input.type, data: input.data },
      labels: input.metadata.labels ?? {},
      annotations: input.metadata.annotations ?? {},
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
