import { stringify } from 'yaml';
import { applyProblemDetail, objectLabel } from '../common/manifest-issues.ts';
import type { FieldError } from '../common/problem.ts';
import { ApiError, type ApplyAnswer, type BerthClient } from './client.ts';
import { CliError, EXIT, UsageError } from './exit-codes.ts';
import type { ManifestFile } from './manifest-files.ts';
import type { AppliedObject, ApplyWarning } from './resources.ts';

/**
 * Turning manifest files into one `POST /v1/apply`, with the two edits the CLI (-n) and the
 * Action (namespace, image inputs) make on the way: a namespace for documents that name none,
 * and image overrides for containers of every Deployment, Job and CronJob. Shared by both.
 */

export interface ImageOverride {
  container: string;
  image: string;
}

export interface ApplyEdits {
  /** For documents that name no namespace. */
  namespace?: string;
  /** When the namespace was asked for explicitly (-n), a document naming another one is an error. */
  strictNamespace?: boolean;
  images?: ImageOverride[];
  /**
   * The manifests are one part of a larger set (the Action applies Jobs first): an override none of
   * these containers takes is not an error here, the caller checks the whole set.
   */
  partial?: boolean;
}

/** "web=registry/web:1.2" (several separated by newlines or commas). */
export function parseImageOverrides(text: string): ImageOverride[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const eq = entry.indexOf('=');
      const container = entry.slice(0, eq).trim();
      const image = entry.slice(eq + 1).trim();
      if (eq <= 0 || !image || /\s/.test(image)) {
        throw new UsageError(`an image override must look like CONTAINER=IMAGE, got "${entry}"`);
      }
      return { container, image };
    });
}

type Doc = Record<string, unknown>;
const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Documents of a v1 List are edited like top-level ones. */
export function eachObject(doc: unknown, fn: (obj: Doc) => void): void {
  if (!isObject(doc)) return;
  if (doc.kind === 'List' && Array.isArray(doc.items)) for (const item of doc.items) eachObject(item, fn);
  else fn(doc);
}

/** The Deployments the files name, as namespace and name (`namespace` for those naming none). */
export function deploymentsIn(
  files: ManifestFile[],
  namespace: string,
): { namespace: string; name: string }[] {
  const found: { namespace: string; name: string }[] = [];
  for (const f of files)
    for (const doc of f.docs)
      eachObject(doc, (obj) => {
        const meta = isObject(obj.metadata) ? obj.metadata : {};
        if (obj.kind === 'Deployment' && typeof meta.name === 'string')
          found.push({
            namespace: typeof meta.namespace === 'string' ? meta.namespace : namespace,
            name: meta.name,
          });
      });
  return found;
}

export interface PreparedApply {
  /** The YAML sent: the file as written when nothing was edited, else the edited documents. */
  yaml: string;
  /** Where each document came from, by its index in the request. */
  sources: string[];
  /** The same as file and number: documents are counted from 1 in each file, as the server counts in the request. */
  origins: DocumentOrigin[];
}

export interface DocumentOrigin {
  file: string;
  /** Only for a file holding several documents. */
  number?: number;
}

/** `b.yaml (document 2, Service "web")`: the file, the document's number in it, and the object. */
export function sourceLabel(origin: DocumentOrigin, object = ''): string {
  const parts = [origin.number === undefined ? '' : `document ${origin.number}`, object].filter(Boolean);
  return parts.length ? `${origin.file} (${parts.join(', ')})` : origin.file;
}

export function prepareApply(files: ManifestFile[], edits: ApplyEdits = {}): PreparedApply {
  const entries = files.flatMap((f) =>
    f.docs.map((doc, i) => {
      const origin = { file: f.source, ...(f.docs.length > 1 ? { number: i + 1 } : {}) };
      return { doc, origin, source: sourceLabel(origin) };
    }),
  );
  const sources = entries.map((e) => e.source);
  const origins = entries.map((e) => e.origin);
  const images = edits.images ?? [];
  const editing = edits.namespace !== undefined || images.length > 0;
  if (!editing && files.length === 1 && files[0]!.format === 'yaml')
    return { yaml: files[0]!.text, sources, origins };

  const docs = entries.map(({ doc, source }) => ({ doc: structuredClone(doc), source }));
  const matched = new Map<string, number>(images.map((o) => [o.container, 0]));
  for (const { doc, source } of docs) {
    eachObject(doc, (obj) => {
      if (edits.namespace !== undefined)
        setNamespace(obj, edits.namespace, source, edits.strictNamespace ?? false);
      if (WORKLOAD_KINDS.has(String(obj.kind))) {
        for (const container of containersOf(obj)) {
          for (const o of images) {
            if (container.name === o.container) {
              container.image = o.image;
              matched.set(o.container, (matched.get(o.container) ?? 0) + 1);
            }
          }
        }
      }
    });
  }
  for (const [container, count] of matched) {
    if (count === 0 && !edits.partial)
      throw new UsageError(
        `no Deployment, Job or CronJob in the manifests has a container named "${container}"`,
      );
  }
  return {
    yaml: docs.map(({ doc }) => stringify(doc, { lineWidth: 0 })).join('---\n'),
    sources,
    origins,
  };
}

function setNamespace(obj: Doc, namespace: string, source: string, strict: boolean): void {
  const metadata = isObject(obj.metadata) ? obj.metadata : {};
  if (typeof metadata.namespace === 'string' && metadata.namespace !== namespace) {
    if (!strict) return;
    throw new UsageError(
      `${source}: ${String(obj.kind).toLowerCase()}/${String(metadata.name)} names namespace "${metadata.namespace}", not "${namespace}"`,
    );
  }
  obj.metadata = { ...metadata, namespace };
}

/** The kinds whose pod template an image override edits. */
const WORKLOAD_KINDS = new Set(['Deployment', 'Job', 'CronJob']);

/** A workload's containers: its pod template's (a CronJob's is in its job template). */
function containersOf(workload: Doc): Doc[] {
  const outer = workload.spec;
  const jobTemplate = workload.kind === 'CronJob' && isObject(outer) ? outer.jobTemplate : undefined;
  const spec = jobTemplate === undefined ? outer : isObject(jobTemplate) ? jobTemplate.spec : undefined;
  const template = isObject(spec) ? spec.template : undefined;
  const podSpec = isObject(template) ? template.spec : undefined;
  const containers = isObject(podSpec) ? podSpec.containers : undefined;
  return Array.isArray(containers) ? containers.filter(isObject) : [];
}

export async function applyManifests(
  client: BerthClient,
  files: ManifestFile[],
  edits: ApplyEdits = {},
): Promise<ApplyAnswer> {
  const prepared = prepareApply(files, edits);
  let answer: ApplyAnswer;
  try {
    answer = await client.apply({ yaml: prepared.yaml });
  } catch (err) {
    throw err instanceof ApiError ? withSources(err, prepared.origins) : err;
  }
  if (!Array.isArray(answer.items)) throw new CliError('the server sent no apply results', EXIT.UNAVAILABLE);
  return answer;
}

/**
 * Names the file, document and object of each field error, since the server only knows the
 * request; the summary's first problem is named the same way.
 */
function withSources(err: ApiError, origins: DocumentOrigin[]): ApiError {
  const label = (e: FieldError) => {
    const origin = e.document === undefined ? undefined : origins[e.document];
    return origin ? sourceLabel(origin, objectLabel(e)) : undefined;
  };
  const errors = err.fieldErrors.map((e) => {
    const source = label(e);
    return source ? { ...e, path: e.path ? `${source}: ${e.path}` : source } : e;
  });
  const named = err.fieldErrors.every((e) => label(e) !== undefined);
  const detail =
    err.status === 422 && named && err.fieldErrors.length
      ? applyProblemDetail(err.fieldErrors, (e) => label(e) ?? '')
      : err.problem.detail;
  return new ApplyRefused(err.status, { ...err.problem, detail, errors }, err.retryAfter, err.fieldErrors);
}

/** A refused apply, its field errors named by file; `sent` keeps them as the server sent them. */
export class ApplyRefused extends ApiError {
  constructor(
    status: number,
    problem: ApiError['problem'],
    retryAfter: number | undefined,
    readonly sent: FieldError[],
  ) {
    super(status, problem, retryAfter);
  }
}

/** "deployment/web created" */
export function applyLine(result: AppliedObject): string {
  return `${result.kind.toLowerCase()}/${result.name} ${result.action}`;
}

/** "deployment/web: secret "db" not found: ..." (the CLI prefixes "Warning: ", as kubectl does). */
export function warningLine(warning: ApplyWarning): string {
  return `${String(warning.kind).toLowerCase()}/${warning.name}: ${warning.message}`;
}
