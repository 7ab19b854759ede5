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

/** kubectl's client-side apply keeps the whole manifest it applied in this annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** What a value becomes in that annotation: the key stays, so kubectl still sees a key dropped. */
export const REDACTED_VALUE = '<redacted>';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A Secret's annotations with the values taken out of kubectl's last-applied configuration: kept
 * as they were, it would be a readable copy of every value. Each key of `data` and `stringData`
 * stays (kubectl's next apply computes a key's removal from them) with its value redacted; an
 * annotation that is not a JSON object cannot be told safe, and is dropped. Idempotent, pure.
 */
export function withoutAppliedValues(annotations: Record<string, string>): Record<string, string> {
  const applied = annotations[LAST_APPLIED_ANNOTATION];
  if (applied === undefined) return annotations;
  const { [LAST_APPLIED_ANNOTATION]: _, ...rest } = annotations;
  let manifest: unknown;
  try {
    manifest = JSON.parse(applied);
  } catch {
    return rest;
  }
  if (!isPlainObject(manifest)) return rest;
  for (const field of ['data', 'stringData']) {
    const values = manifest[field];
    if (values === undefined || values === null) continue;
    manifest[field] = isPlainObject(values)
      ? Object.fromEntries(Object.keys(values).map((k) => [k, REDACTED_VALUE]))
      : REDACTED_VALUE;
  }
  // kubectl ends the annotation with a newline; kept, so a redacted one compares equal to the next.
  const text = JSON.stringify(manifest) + (applied.endsWith('\n') ? '\n' : '');
  return { ...rest, [LAST_APPLIED_ANNOTATION]: text };
}

/**
 * What any read returns: key names, never values (nor a last-applied copy of them, should a row
 * written before they were taken out still hold one).
 */
export function toSecretObject(row: SecretRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Secret' as const,
    metadata: objectMetadata({ ...row, annotations: withoutAppliedValues(row.annotations) }),
    type: row.type,
    keys: row.keys,
  };
}
