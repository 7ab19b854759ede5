import type { SecretData, SecretType } from '../../common/secret.ts';
import { secrets } from '../../db/schema/index.ts';
import { unavailable } from '../errors.ts';
import { openSecret, sealSecret } from '../secret-box.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';

export type SecretRow = typeof secrets.$inferSelect;

/** A secret's spec is its type and values; only key names are stored in clear. */
export interface SecretSpec {
  type: SecretType;
  data: SecretData;
}

/** The ciphertext is bound to the secret's namespace and name: it cannot be moved to another. */
export const secretBinding = (namespace: string, name: string) => `${namespace}/${name}`;

export function requireSecretKey(key: string | undefined): string {
  if (!key) throw unavailable('secrets are disabled: BERTH_SECRET_KEY is not configured');
  return key;
}

/**
 * Secrets in the object store, for a control plane holding `key`. Comparing a write with the
 * stored secret needs its values, so the stored row is decrypted first.
 */
export function secretKind(key: string | undefined): ObjectKind<SecretRow, SecretSpec> {
  return {
    noun: 'secret',
    table: secrets,
    generation: false,
    stateOf: async (row) => ({
      spec: {
        type: row.type,
        data: await openSecret(requireSecretKey(key), secretBinding(row.namespace, row.name), row.ciphertext),
      },
      labels: row.labels,
      annotations: row.annotations,
    }),
    columns: async (next, { namespace, name }) => ({
      type: next.spec.type,
      keys: Object.keys(next.spec.data).sort(),
      ciphertext: await sealSecret(requireSecretKey(key), secretBinding(namespace, name), next.spec.data),
    }),
  };
}

/** What any read returns: key names, never values. */
export function toSecretObject(row: SecretRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Secret' as const,
    metadata: objectMetadata(row),
    type: row.type,
    keys: row.keys,
  };
}
