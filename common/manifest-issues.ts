import type { FieldError } from './problem.ts';

/**
 * How a problem in a manifest names its document, the same on the server and in the CLI: by its
 * number (counted from 1, in request order, empty documents not counted; the wire's `document` is
 * that number's 0-based index) and by kind and name, as kubectl names objects.
 */

export interface DocumentIdentity {
  kind?: string;
  name?: string;
}

type PlainObject = Record<string, unknown>;
const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/**
 * The kind and name of the object a path in a document points into: the document itself, or the
 * item of a v1 List that the path starts in (`items[2].spec...`).
 */
export function documentIdentity(doc: unknown, path = ''): DocumentIdentity {
  if (!isPlainObject(doc)) return {};
  const item = /^items\[(\d+)\]/.exec(path);
  if (item && doc.kind === 'List' && Array.isArray(doc.items))
    return documentIdentity(doc.items[Number(item[1])], path.slice(item[0].length).replace(/^\./, ''));
  const metadata = isPlainObject(doc.metadata) ? doc.metadata : {};
  const kind = text(doc.kind);
  const name = text(metadata.name);
  return { ...(kind ? { kind } : {}), ...(name ? { name } : {}) };
}

/** `Service "web"`, `Service`, or '' when the document says neither. */
export function objectLabel({ kind, name }: DocumentIdentity): string {
  if (kind && name) return `${kind} "${name}"`;
  return kind ?? (name ? `"${name}"` : '');
}

/** `document 3 (Service "web")` for the error's 0-based index 2. */
export function documentLabel(e: Pick<FieldError, 'document' | 'kind' | 'name'>): string {
  const object = objectLabel(e);
  const number = e.document === undefined ? 'the manifests' : `document ${e.document + 1}`;
  return object ? `${number} (${object})` : number;
}

/** The problem's detail for an apply that failed validation: how many, and the first in full. */
export function applyProblemDetail(
  errors: FieldError[],
  label: (e: FieldError) => string = documentLabel,
): string {
  const first = errors[0];
  const count = `${errors.length} problem${errors.length === 1 ? '' : 's'} in the manifests; nothing was applied.`;
  return first ? `${count} First: ${label(first)}: ${first.path || '(root)'}: ${first.message}` : count;
}

/** Problems found in documents → the problem's `errors[]`, each naming its document's kind and name. */
export function manifestFieldErrors(
  docs: readonly unknown[],
  issues: readonly { document: number; path: string; message: string }[],
): FieldError[] {
  return issues.map(({ document, path, message }) => ({
    path,
    message,
    document,
    ...documentIdentity(docs[document], path),
  }));
}
