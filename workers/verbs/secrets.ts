import { and, asc, eq, inArray } from 'drizzle-orm';
import type { SecretInput } from '../../common/secret.ts';
import type { Database } from '../../db/database.ts';
import { secrets } from '../../db/schema/index.ts';
import { pgErrorCode } from '../../db/unavailable.ts';
import { conflict, DomainError, invalid, notFound } from '../errors.ts';
import { openSecret, sealSecret } from '../secret-box.ts';
import { ensureNamespace } from '../store/namespaces.ts';

type SecretRow = typeof secrets.$inferSelect;

const binding = (namespace: string, name: string) => `${namespace}/${name}`;

/** What any read returns: key names, never values. */
export function toSecretObject(row: SecretRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Secret' as const,
    metadata: {
      name: row.name,
      namespace: row.namespace,
      uid: row.id,
      labels: row.labels,
      resourceVersion: String(row.resourceVersion),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    },
    type: row.type,
    keys: row.keys,
  };
}

function requireKey(key: string | undefined): string {
  if (!key) throw new DomainError('UNAVAILABLE', 'secrets are disabled: BERTH_SECRET_KEY is not configured');
  return key;
}

export async function applySecret(
  db: Database,
  key: string | undefined,
  args: { namespace: string; name: string; input: SecretInput; now: Date },
): Promise<{ row: SecretRow; created: boolean; changed: boolean }> {
  const { namespace, name, input, now } = args;
  if (input.metadata.name !== undefined && input.metadata.name !== name)
    throw invalid([{ path: 'metadata.name', message: `must match the name in the URL ("${name}")` }]);
  const secretKey = requireKey(key);
  const keys = Object.keys(input.data).sort();
  const attempt = () =>
    db.transaction(async (tx) => {
      const [existing] = await tx
        .select()
        .from(secrets)
        .where(and(eq(secrets.namespace, namespace), eq(secrets.name, name)))
        .for('update');
      if (existing) {
        if (
          input.metadata.resourceVersion !== undefined &&
          input.metadata.resourceVersion !== String(existing.resourceVersion)
        )
          throw conflict(`secret "${namespace}/${name}" was modified; read it again and retry`);
        const current = await openSecret(secretKey, binding(namespace, name), existing.ciphertext);
        const same =
          existing.type === input.type &&
          JSON.stringify(sorted(current)) === JSON.stringify(sorted(input.data)) &&
          JSON.stringify(existing.labels) === JSON.stringify(input.metadata.labels ?? {});
        if (same) return { row: existing, created: false, changed: false };
        const [row] = await tx
          .update(secrets)
          .set({
            type: input.type,
            keys,
            labels: input.metadata.labels ?? {},
            ciphertext: await sealSecret(secretKey, binding(namespace, name), input.data),
            resourceVersion: existing.resourceVersion + 1,
            updatedAt: now,
          })
          .where(eq(secrets.id, existing.id))
          .returning();
        return { row: row!, created: false, changed: true };
      }
      if (input.metadata.resourceVersion !== undefined)
        throw conflict(`secret "${namespace}/${name}" does not exist`);
      await ensureNamespace(tx, namespace);
      const [row] = await tx
        .insert(secrets)
        .values({
          id: crypto.randomUUID(),
          namespace,
          name,
          labels: input.metadata.labels ?? {},
          type: input.type,
          keys,
          ciphertext: await sealSecret(secretKey, binding(namespace, name), input.data),
          resourceVersion: 1,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      return { row: row!, created: true, changed: true };
    });
  try {
    return await attempt();
  } catch (e) {
    if (pgErrorCode(e) === '23505') return attempt();
    throw e;
  }
}

function sorted(data: Record<string, string>) {
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b)));
}

export async function getSecret(db: Database, namespace: string, name: string): Promise<SecretRow> {
  const [row] = await db
    .select()
    .from(secrets)
    .where(and(eq(secrets.namespace, namespace), eq(secrets.name, name)));
  if (!row) throw notFound(`secret "${namespace}/${name}"`);
  return row;
}

export function listSecrets(db: Database, namespace: string) {
  return db.select().from(secrets).where(eq(secrets.namespace, namespace)).orderBy(asc(secrets.name));
}

export async function deleteSecret(db: Database, namespace: string, name: string): Promise<SecretRow> {
  const [row] = await db
    .delete(secrets)
    .where(and(eq(secrets.namespace, namespace), eq(secrets.name, name)))
    .returning();
  if (!row) throw notFound(`secret "${namespace}/${name}"`);
  return row;
}

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
      data: await openSecret(key, binding(namespace, row.name), row.ciphertext),
    });
  }
  return out;
}
