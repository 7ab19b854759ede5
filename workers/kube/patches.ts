import { applyMergePatch } from '../verbs/merge-patch.ts';
import { applyJsonPatch } from './json-patch.ts';
import { REVISION_ANNOTATION } from './objects.ts';
import { PatchError, strategicMerge } from './strategic-merge.ts';

/**
 * The four patch types kubectl sends, applied to the object as the face shows it, pure. The
 * result is then written exactly as a PUT of it would be (writes.ts).
 */

export const PATCH_TYPES = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
} as const;
export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

export function patchTypeOf(mediaType: string): PatchType | undefined {
  return Object.hasOwn(PATCH_TYPES, mediaType)
    ? PATCH_TYPES[mediaType as keyof typeof PATCH_TYPES]
    : undefined;
}

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `current` with `patch` applied. For server-side apply (`apply`) this is only the merge: the
 * applied configuration's fields replace the ones it names, lists of objects merging on the same
 * keys as a strategic merge. The face applies through field-ownership.ts, which merges the same
 * way and also removes what the applier stopped naming and refuses other writers' fields.
 */
export function applyPatch(type: PatchType, kind: string, current: unknown, patch: unknown): unknown {
  switch (type) {
    case 'merge':
      if (!isPlainObject(patch)) throw new PatchError('a merge patch must be a JSON object');
      return applyMergePatch(current, patch);
    case 'json':
      return applyJsonPatch(current, patch);
    case 'strategic':
      return strategicMerge(kind, current, patch);
    case 'apply': {
      if (!isPlainObject(patch)) throw new PatchError('an applied configuration must be an object');
      const { managedFields: _, ...metadata } = isPlainObject(patch.metadata) ? patch.metadata : {};
      return strategicMerge(kind, current, { ...patch, metadata });
    }
  }
}

/** Whether the patch itself names a resourceVersion (a precondition of the caller's, not a retry's). */
export function patchNamesResourceVersion(type: PatchType, patch: unknown): boolean {
  if (type === 'json')
    return (
      Array.isArray(patch) && patch.some((op) => isPlainObject(op) && op.path === '/metadata/resourceVersion')
    );
  return isPlainObject(patch) && isPlainObject(patch.metadata) && patch.metadata.resourceVersion != null;
}

/**
 * A Kubernetes object sent to the face (a body, or the result of a patch) as the manifest
 * `POST /v1/apply` reads: what the face adds when it shows an object (the revision annotation,
 * status) is taken out again, and its resourceVersion returned apart, as the write's precondition.
 */
export function toManifest(object: unknown): { doc: PlainObject; resourceVersion: string | undefined } {
  if (!isPlainObject(object)) throw new PatchError('the object must be a JSON object');
  const doc = structuredClone(object);
  delete doc.status;
  const metadata = isPlainObject(doc.metadata) ? doc.metadata : undefined;
  let resourceVersion: string | undefined;
  if (metadata) {
    const rv = metadata.resourceVersion;
    if (rv !== undefined && rv !== null && rv !== '') {
      if (typeof rv !== 'string') throw new PatchError('metadata.resourceVersion must be a string');
      resourceVersion = rv;
    }
    delete metadata.resourceVersion;
    const annotations = metadata.annotations;
    if (isPlainObject(annotations)) {
      delete annotations[REVISION_ANNOTATION];
      if (Object.keys(annotations).length === 0) delete metadata.annotations;
    }
  }
  return { doc, resourceVersion };
}

/**
 * A Deployment stored without a selector is shown with its template's labels as one (apps/v1
 * requires it); the same selector written back still means "none", so a patch of something else
 * changes nothing in the spec. Takes it out of the converted spec; pure.
 */
export function withoutImpliedSelector<S extends { selector?: unknown }>(spec: S, implied: unknown): S {
  if (implied === undefined || !same(spec.selector, implied)) return spec;
  const { selector: _, ...rest } = spec;
  return rest as S;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical(v[k])]),
  );
}
