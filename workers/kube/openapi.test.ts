import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../crypto.ts';
import { buildGroupVersion, openApiDocuments, openApiGroupVersion } from './openapi.ts';
import { type FieldDoc, refName } from './openapi-build.ts';
import type { Schema } from './openapi-schema.ts';
import { KUBE_TYPES, kindSchema } from './openapi-types.ts';
import { KUBE_GROUPS, KUBE_RESOURCES } from './resources.ts';

const GROUPS = ['', ...KUBE_GROUPS];
const docs = Object.fromEntries(GROUPS.map((g) => [g, buildGroupVersion(g)]));
const schemas = (group: string) => docs[group]?.components.schemas as Record<string, Schema>;
const CORE = 'io.k8s.api.core.v1.';
const prop = (group: string, type: string, field: string): Schema => {
  const s = schemas(group)[type];
  expect(s, `${type} in ${group || 'core'}`).toBeDefined();
  const p = (s?.properties as Record<string, Schema> | undefined)?.[field];
  expect(p, `${type}.${field}`).toBeDefined();
  return p as Schema;
};

/** Every `$ref` anywhere in a value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

/** Kubernetes' list metadata, as its own OpenAPI v3 documents carry it. */
const MERGE_BY = (key: string, keys = [key], strategy = 'merge') => ({
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': keys,
  'x-kubernetes-patch-merge-key': key,
  'x-kubernetes-patch-strategy': strategy,
});
const ATOMIC = { 'x-kubernetes-list-type': 'atomic' };
const LISTS: [string, string, string, object][] = [
  ['apps', `${CORE}PodSpec`, 'containers', MERGE_BY('name')],
  ['apps', `${CORE}PodSpec`, 'initContainers', MERGE_BY('name')],
  ['apps', `${CORE}PodSpec`, 'volumes', MERGE_BY('name', ['name'], 'merge,retainKeys')],
  ['apps', `${CORE}PodSpec`, 'imagePullSecrets', MERGE_BY('name')],
  [
    'apps',
    `${CORE}PodSpec`,
    'topologySpreadConstraints',
    MERGE_BY('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
  ],
  ['apps', `${CORE}PodSpec`, 'tolerations', ATOMIC],
  ['apps', `${CORE}Container`, 'env', MERGE_BY('name')],
  ['apps', `${CORE}Container`, 'ports', MERGE_BY('containerPort', ['containerPort', 'protocol'])],
  ['apps', `${CORE}Container`, 'volumeMounts', MERGE_BY('mountPath')],
  ['apps', `${CORE}Container`, 'args', ATOMIC],
  ['apps', `${CORE}Container`, 'command', ATOMIC],
  ['apps', `${CORE}Container`, 'envFrom', ATOMIC],
  ['apps', 'io.k8s.api.apps.v1.DeploymentStatus', 'conditions', MERGE_BY('type')],
  ['', `${CORE}ServiceSpec`, 'ports', MERGE_BY('port', ['port', 'protocol'])],
  ['', `${CORE}PodStatus`, 'conditions', MERGE_BY('type')],
  ['', `${CORE}NodeStatus`, 'conditions', MERGE_BY('type')],
  ['', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences', MERGE_BY('uid')],
  ['networking.k8s.io', 'io.k8s.api.networking.v1.IngressSpec', 'rules', ATOMIC],
  [
    'batch',
    'io.k8s.api.batch.v1.JobStatus',
    'conditions',
    {
      'x-kubernetes-list-type': 'atomic',
      'x-kubernetes-patch-merge-key': 'type',
      'x-kubernetes-patch-strategy': 'merge',
    },
  ],
];

describe('the OpenAPI v3 documents', () => {
  it('resolve every $ref within their own document', () => {
    for (const g of GROUPS) {
      const names = refs(docs[g]).map((r) => r.replace('#/components/schemas/', ''));
      expect(names.length).toBeGreaterThan(10);
      for (const n of names) expect(schemas(g)[n], `${n} in ${g || 'core'}`).toBeDefined();
    }
  });

  it('name every served kind as Kubernetes does, with its group, version and kind, on its schema and paths', () => {
    // metrics.k8s.io (kubectl top) is read-only and has no documents, as kubectl asks for none.
    for (const r of KUBE_RESOURCES.filter((k) => k.version === 'v1')) {
      const gvk = { group: r.group, kind: r.kind, version: r.version };
      const name = kindSchema(r.group, r.kind);
      expect(name.startsWith('io.k8s.api.')).toBe(true);
      expect(schemas(r.group)[name]?.['x-kubernetes-group-version-kind']).toEqual([gvk]);
      const prefix = r.group ? `/apis/${r.group}/v1` : '/api/v1';
      const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
      const paths = docs[r.group]?.paths as Record<string, Record<string, Record<string, unknown>>>;
      expect(paths[base]?.get?.['x-kubernetes-group-version-kind']).toEqual(gvk);
      expect(paths[`${base}/{name}`]?.get?.['x-kubernetes-group-version-kind']).toEqual(gvk);
      const patch = paths[`${base}/{name}`]?.patch as { requestBody: { content: object } } | undefined;
      expect(patch !== undefined, `patch of ${r.plural}`).toBe(r.verbs.includes('patch'));
      if (patch) {
        // kubectl uses the schemas for a client-side apply only when strategic merge is listed.
        expect(Object.keys(patch.requestBody.content)).toContain('application/strategic-merge-patch+json');
        const params = paths[`${base}/{name}`]?.parameters as unknown as { name: string }[];
        expect(params.map((p) => p.name)).toContain('fieldValidation');
      }
    }
    expect(schemas('apps')['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
    expect(refName(prop('apps', 'io.k8s.api.apps.v1.DeploymentSpec', 'template'))).toBe(
      `${CORE}PodTemplateSpec`,
    );
  });

  it("carry Kubernetes' patch metadata on the lists, exactly", () => {
    for (const [group, type, field, meta] of LISTS) {
      const p = prop(group, type, field);
      const extensions = Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith('x-kubernetes-')));
      expect(extensions, `${type}.${field}`).toEqual(meta);
    }
    // No list is left without its list type.
    for (const g of GROUPS)
      for (const [type, s] of Object.entries(schemas(g)))
        for (const [field, p] of Object.entries((s.properties ?? {}) as Record<string, Schema>))
          if (p.type === 'array') expect(p['x-kubernetes-list-type'], `${type}.${field}`).toBeDefined();
  });

  it('offer no field Berth refuses, and name the refused ones in the type', () => {
    const refused: [string, string, string][] = [
      ['apps', `${CORE}PodSpec`, 'hostAliases'],
      ['apps', `${CORE}Container`, 'volumeDevices'],
      ['batch', 'io.k8s.api.batch.v1.JobSpec', 'manualSelector'],
      ['networking.k8s.io', 'io.k8s.api.networking.v1.IngressBackend', 'resource'],
      ['', `${CORE}PersistentVolumeClaimSpec`, 'volumeName'],
      ['', `${CORE}ServiceSpec`, 'externalIPs'],
    ];
    for (const [g, type, field] of refused) {
      const s = schemas(g)[type] as Schema;
      expect(Object.keys(s.properties as object)).not.toContain(field);
      expect(s.description).toMatch(new RegExp(`Not accepted by Berth.*: .*\\b${field}\\b`, 's'));
    }
    // Berth's own fields, which the face shows as annotations or not at all.
    expect(Object.keys(schemas('apps')[`${CORE}PodSpec`]?.properties as object)).not.toContain(
      'drainDelaySeconds',
    );
    expect(
      Object.keys(schemas('apps')['io.k8s.api.apps.v1.DeploymentSpec']?.properties as object),
    ).not.toContain('autoRollback');
    expect(Object.keys(schemas('')[`${CORE}ServiceSpec`]?.properties as object)).not.toContain('hosts');
    // Accepted only as Kubernetes' default: said so, with that one value.
    expect(prop('apps', `${CORE}PodSpec`, 'hostNetwork')).toMatchObject({ enum: [false] });
  });

  it('merge a type reached from several shapes: init containers are Containers with restartPolicy', () => {
    const c = schemas('apps')[`${CORE}Container`] as Schema;
    expect(Object.keys(c.properties as object)).toEqual(
      expect.arrayContaining(['image', 'restartPolicy', 'livenessProbe']),
    );
    expect(c.required).toEqual(['name', 'image']);
    expect(refName(prop('apps', `${CORE}Container`, 'livenessProbe'))).toBe(`${CORE}Probe`);
    expect(refName(prop('apps', `${CORE}HTTPGetAction`, 'port'))).toBe(
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    );
    const requests = prop('apps', `${CORE}ResourceRequirements`, 'requests');
    expect(refName(requests.additionalProperties as Schema)).toBe(
      'io.k8s.apimachinery.pkg.api.resource.Quantity',
    );
  });

  it('describe every field, and every field the table describes exists', () => {
    const built: Record<string, Schema> = Object.assign({}, ...GROUPS.map(schemas));
    for (const [type, s] of Object.entries(built)) {
      expect(s.description, type).toBeTruthy();
      for (const [field, p] of Object.entries((s.properties ?? {}) as Record<string, Schema>))
        expect(p.description, `${type}.${field}`).toBeTruthy();
    }
    for (const [type, t] of Object.entries(KUBE_TYPES)) {
      expect(built[type], `${type} is never reached`).toBeDefined();
      const fields = Object.entries(t.fields ?? {}) as [string, FieldDoc][];
      for (const [field, f] of fields) {
        if (f.hidden || (f.doc === undefined && !f.type && !f.list)) continue;
        // A Pod's nodeName is documented on PodSpec and shown on Pods only (the core group's PodSpec).
        const inAny = GROUPS.some((g) =>
          Object.hasOwn((schemas(g)[type]?.properties ?? {}) as object, field),
        );
        expect(inAny, `${type}.${field}`).toBe(true);
      }
    }
  });

  it('serve group versions Berth has, and 404 the others', async () => {
    expect(await openApiGroupVersion('apis/apps/v1')).toBeDefined();
    for (const path of ['apis/apps/v2', 'api/v2', 'apis/policy/v1', 'apis/apps', 'apps/v1'])
      expect(await openApiGroupVersion(path), path).toBeUndefined();
  });

  it("are built once, and hashed from their content, which the root's URLs name", async () => {
    const first = await openApiDocuments();
    expect(await openApiDocuments()).toBe(first);
    const root = JSON.parse(first.root) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(root.paths)).toEqual([
      'api/v1',
      'apis/apps/v1',
      'apis/batch/v1',
      'apis/networking.k8s.io/v1',
    ]);
    for (const [path, d] of first.byPath) {
      expect(d.hash).toBe((await sha256Hex(d.body)).toUpperCase());
      expect(root.paths[path]?.serverRelativeURL).toBe(`/openapi/v3/${path}?hash=${d.hash}`);
    }
    expect(JSON.parse(first.byPath.get('apis/apps/v1')?.body ?? '')).toEqual(
      JSON.parse(JSON.stringify(docs.apps)),
    );
  });
});
