import { sha256Hex } from '../crypto.ts';
import { buildSchemas } from './openapi-build.ts';
import { PATCH, ref } from './openapi-schema.ts';
import { KUBE_TYPES, kindSchema } from './openapi-types.ts';
import { groupVersion, KUBE_GROUPS, type KubeResource, resourcesOf } from './resources.ts';

/**
 * The OpenAPI v3 documents (`/openapi/v3`), one per served group version, as Kubernetes serves
 * them: the paths of every resource with their kind (`x-kubernetes-group-version-kind`, which
 * `kubectl explain` starts from), the write operations with `fieldValidation` (so `kubectl
 * apply`'s default `--validate=strict` leaves validation to Berth), and the schemas of the kinds
 * (openapi-types.ts), with Kubernetes' list metadata: kubectl computes a client-side apply's
 * strategic merge patch from them once a patch operation takes that content type.
 */

const QUERY = ['dryRun', 'fieldManager', 'fieldValidation'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string' },
}));

/** The patch content types Berth takes (patches.ts), each as Kubernetes lists it. */
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

const GROUP_VERSIONS = ['', ...KUBE_GROUPS].map((g) => (g ? `apis/${g}/v1` : 'api/v1'));

function basePath(r: KubeResource): string {
  const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
}

const ok = (kind: string) => ({
  '200': { description: 'OK', content: { 'application/json': { schema: ref(kind) } } },
});

function operations(r: KubeResource) {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const schema = kindSchema(r.group, r.kind);
  const op = (action: string, id: string, extra: object = {}) => ({
    operationId: `${id}${r.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    responses: ok(schema),
    ...extra,
  });
  const body = (types: string[], s: string) => ({
    requestBody: { content: Object.fromEntries(types.map((t) => [t, { schema: ref(s) }])) },
  });
  const can = (v: string) => r.verbs.includes(v as KubeResource['verbs'][number]);
  const collection: Record<string, unknown> = { get: op('list', 'list') };
  if (can('create'))
    collection.post = op('post', 'create', { parameters: QUERY, ...body(['application/json'], schema) });
  const item: Record<string, unknown> = { get: op('get', 'read') };
  if (can('update'))
    item.put = op('put', 'replace', { parameters: QUERY, ...body(['application/json'], schema) });
  if (can('patch')) {
    item.parameters = QUERY;
    item.patch = op('patch', 'patch', { parameters: QUERY, ...body(PATCH_TYPES, PATCH) });
  }
  if (can('delete')) item.delete = op('delete', 'delete');
  return { [basePath(r)]: collection, [`${basePath(r)}/{name}`]: item };
}

/** One group version's document (`api/v1`, `apis/apps/v1`). */
export function buildGroupVersion(group: string) {
  const resources = resourcesOf(group, 'v1');
  const kinds = resources.map((r) => kindSchema(r.group, r.kind));
  // Patch: what the patch operations take.
  const schemas = buildSchemas(KUBE_TYPES, [...kinds, PATCH]);
  for (const r of resources) {
    const s = schemas[kindSchema(r.group, r.kind)];
    if (s) s['x-kubernetes-group-version-kind'] = [{ group: r.group, kind: r.kind, version: r.version }];
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Berth', version: groupVersion(group, 'v1') },
    paths: Object.assign({}, ...resources.map(operations)),
    components: { schemas },
  };
}

export interface ServedDocument {
  body: string;
  /** Of the body: kubectl caches a document by it (the `hash` of its URL) until it changes. */
  hash: string;
}

interface Documents {
  root: string;
  rootHash: string;
  byPath: Map<string, ServedDocument>;
}

let documents: Promise<Documents> | undefined;

/**
 * Built on first use, once per process (a few hundred kB of JSON; Workers keep it per isolate),
 * and hashed from their content, so a change of any schema changes every URL kubectl caches.
 */
export function openApiDocuments(): Promise<Documents> {
  documents ??= (async () => {
    const byPath = new Map<string, ServedDocument>();
    for (const [i, path] of GROUP_VERSIONS.entries()) {
      const body = JSON.stringify(buildGroupVersion(['', ...KUBE_GROUPS][i] ?? ''));
      byPath.set(path, { body, hash: (await sha256Hex(body)).toUpperCase() });
    }
    const paths = Object.fromEntries(
      [...byPath].map(([p, d]) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` }]),
    );
    const root = JSON.stringify({ paths });
    return { root, rootHash: (await sha256Hex(root)).toUpperCase(), byPath };
  })();
  return documents;
}

/** `GET /openapi/v3/{api/v1,apis/<group>/v1}`; undefined for a group version not served. */
export async function openApiGroupVersion(path: string): Promise<ServedDocument | undefined> {
  return (await openApiDocuments()).byPath.get(path);
}
