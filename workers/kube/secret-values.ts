import { encodeBase64Text } from '../../common/base64.ts';
import { SECRET_KEYS_ANNOTATION } from './more-objects.ts';
import type { KubeObject } from './objects.ts';

/**
 * A Secret's values through the Kubernetes face, pure. The face never shows them, yet kubectl
 * writes back what it reads: `label`, `annotate`, `edit`, a PUT of an object read. So a patch
 * applies to the object with each stored key standing for its value (KEPT), and a write that
 * keeps a key, or names no values at all, keeps the stored value: nothing kubectl read back can
 * empty a Secret. To empty one, write `data: {}`.
 */

/** Stands for a stored value in a patch's base; not base64, so it can never be taken for a value. */
export const KEPT = '(the stored value)';

/** The object a patch of a Secret applies to: as shown, with its stored keys in `data`. */
export function withKeptValues(object: KubeObject, keys: readonly string[]): KubeObject {
  return keys.length ? { ...object, data: Object.fromEntries(keys.map((k) => [k, KEPT])) } : object;
}

/**
 * Which stored values a written Secret (a v1 manifest) keeps: `all` when it names neither `data`
 * nor `stringData`, otherwise the keys of `data` that still stand for theirs. Takes out the key
 * names the face shows in an annotation (they are the stored ones, not the caller's).
 */
export function keptValues(doc: Record<string, unknown>): 'all' | string[] {
  const metadata = doc.metadata as { annotations?: Record<string, unknown> } | undefined;
  if (metadata?.annotations && typeof metadata.annotations === 'object') {
    delete metadata.annotations[SECRET_KEYS_ANNOTATION];
    if (Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  }
  if (doc.data === undefined && doc.stringData === undefined) return 'all';
  const data = doc.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return [];
  return Object.entries(data)
    .filter(([, v]) => v === KEPT)
    .map(([k]) => k);
}

/**
 * `doc` with the kept keys' stored values (base64, as a v1 Secret carries them); a kept key no
 * longer stored is left out.
 */
export function fillKeptValues(
  doc: Record<string, unknown>,
  kept: 'all' | string[],
  stored: Record<string, string>,
): void {
  const data = (kept === 'all' ? {} : doc.data) as Record<string, unknown>;
  for (const key of kept === 'all' ? Object.keys(stored) : kept) {
    const value = stored[key];
    if (value === undefined) delete data[key];
    else data[key] = encodeBase64Text(value);
  }
  doc.data = data;
}
