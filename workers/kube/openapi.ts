import { groupVersion, KUBE_GROUPS, type KubeResource, resourcesOf } from './resources.ts';

/**
 * A minimal OpenAPI v3 (`/openapi/v3`): what kubectl reads before a write to learn that the
 * server validates fields itself (`fieldValidation`), so `kubectl apply` (whose default is
 * `--validate=strict`) sends its objects instead of failing to download a schema. It lists the
 * write operations per resource, without schemas: kubectl then computes its strategic merge
 * patches from its own built-in types, and Berth's rules stay Berth's (422 naming the field).
 */

const QUERY = ['dryRun', 'fieldManager', 'fieldValidation'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string' },
}));

/** `GET /openapi/v3`: one document per served group version. */
export function openApiRoot() {
  const gvs = ['', ...KUBE_GROUPS].map((g) => (g ? `apis/${g}/v1` : 'api/v1'));
  return {
    paths: Object.fromEntries(gvs.map((p) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${HASH}` }])),
  };
}

/** Changes when the documents do, so kubectl's cache of them is kept until then. */
const HASH = 'berth-1';

function pathOf(r: KubeResource): string {
  const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced
    ? `${prefix}/namespaces/{namespace}/${r.plural}/{name}`
    : `${prefix}/${r.plural}/{name}`;
}

/** `GET /openapi/v3/api/v1`, `/openapi/v3/apis/{group}/v1`; undefined for what is not served. */
export function openApiGroupVersion(path: string) {
  const m = /^(?:api\/v1|apis\/([^/]+)\/v1)$/.exec(path);
  if (!m) return undefined;
  const group = m[1] ?? '';
  if (group && !(KUBE_GROUPS as readonly string[]).includes(group)) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of resourcesOf(group, 'v1')) {
    if (!r.verbs.includes('patch')) continue;
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    paths[pathOf(r)] = {
      parameters: QUERY,
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: QUERY,
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Berth', version: groupVersion(group, 'v1') },
    paths,
    components: { schemas: {} },
  };
}
