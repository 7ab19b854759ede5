import { describe, expect, it } from 'vitest';
import { ApplyConflict, applyFields, type ManagedFieldsEntry, updateFields } from './field-ownership.ts';
import {
  appliedFields,
  diffFields,
  fromFieldsV1,
  pathKey,
  pathString,
  removeField,
  toFieldsV1,
} from './field-sets.ts';

const config = (labels: Record<string, string>, replicas = 2, image = 'web:1') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
    },
  },
});

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const writer = (manager: string, s = 0, subresource?: string) => ({
  manager,
  apiVersion: 'apps/v1',
  now: at(s),
  ...(subresource ? { subresource } : {}),
});

/** Server-side apply as the face does it: the result and its entries. */
function apply(
  live: { object: Record<string, unknown>; managedFields: ManagedFieldsEntry[] } | undefined,
  body: Record<string, unknown>,
  manager = 'kubectl',
  force = false,
  s = 0,
) {
  return applyFields({
    kind: 'Deployment',
    live: live?.object,
    managedFields: live?.managedFields ?? [],
    config: body,
    writer: writer(manager, s),
    force,
  });
}

const entry = (entries: ManagedFieldsEntry[], manager: string) => entries.find((e) => e.manager === manager);

describe('field sets (FieldsV1)', () => {
  it('names fields, keyed list items and their own membership as Kubernetes writes them', () => {
    const set = appliedFields('Deployment', config({ app: 'web' }));
    expect(toFieldsV1(set)).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': { 'f:matchLabels': { 'f:app': {} } },
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"web"}': {
                '.': {},
                'f:name': {},
                'f:image': {},
                'f:ports': { 'k:{"containerPort":8080}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
    expect(fromFieldsV1(toFieldsV1(set))).toEqual(set);
  });

  it('leaves out what the server keeps, takes set lists item by item and other lists whole', () => {
    const set = appliedFields('Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', resourceVersion: '3', uid: 'u', finalizers: ['a', 'b'] },
      spec: { template: { spec: { tolerations: [{ key: 'x', operator: 'Exists' }], containers: [] } } },
      status: { replicas: 1 },
    });
    expect(toFieldsV1(set)).toEqual({
      'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } },
      'f:spec': { 'f:template': { 'f:spec': { 'f:tolerations': {}, 'f:containers': {} } } },
    });
  });

  it('names nothing for metadata that holds only the name', () => {
    expect(toFieldsV1(appliedFields('ConfigMap', { metadata: { name: 'x' }, data: { a: '1' } }))).toEqual({
      'f:data': { 'f:a': {} },
    });
  });

  it('prints paths as Kubernetes does', () => {
    expect(pathString(pathKey(['f:spec', 'f:replicas']))).toBe('.spec.replicas');
    expect(
      pathString(pathKey(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'])),
    ).toBe('.spec.template.spec.containers[name="web"].image');
    expect(pathString(pathKey(['f:metadata', 'f:finalizers', 'v:"a"']))).toBe('.metadata.finalizers[="a"]');
  });

  it('diffs two objects: changed values, created maps, removed fields', () => {
    const before = config({ app: 'web', tier: 'front' });
    const after = config({ app: 'web' }, 3);
    (after.metadata as Record<string, unknown>).annotations = { team: 'edge' };
    const { changed, removed } = diffFields('Deployment', before, after);
    expect([...changed].map(pathString).sort()).toEqual([
      '.metadata.annotations',
      '.metadata.annotations.team',
      '.spec.replicas',
    ]);
    expect([...removed].map(pathString)).toEqual(['.metadata.labels.tier']);
  });

  it('removes a field, a list item, and the maps left empty unless someone holds them', () => {
    const o = config({ tier: 'front' }) as unknown as Record<string, unknown>;
    removeField(o, pathKey(['f:metadata', 'f:labels', 'f:tier']), () => false);
    expect((o.metadata as Record<string, unknown>).labels).toBeUndefined();
    const p = config({ tier: 'front' }) as unknown as Record<string, unknown>;
    removeField(
      p,
      pathKey(['f:metadata', 'f:labels', 'f:tier']),
      (k) => k === pathKey(['f:metadata', 'f:labels']),
    );
    expect((p.metadata as Record<string, unknown>).labels).toEqual({});
    const q = config({}) as unknown as ReturnType<typeof config>;
    removeField(
      q as unknown as Record<string, unknown>,
      pathKey([
        'f:spec',
        'f:template',
        'f:spec',
        'f:containers',
        'k:{"name":"web"}',
        'f:ports',
        'k:{"containerPort":8080}',
      ]),
      () => false,
    );
    expect(q.spec.template.spec.containers[0]).toEqual({ name: 'web', image: 'web:1' });
  });
});

describe('server-side apply with field ownership', () => {
  it('keeps an Apply entry of the configuration, and removes a label a later apply no longer names', () => {
    const first = apply(undefined, config({ app: 'web', tier: 'front' }));
    expect(first.managedFields).toHaveLength(1);
    expect(first.managedFields[0]).toMatchObject({
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: '2026-01-01T00:00:00Z',
      fieldsType: 'FieldsV1',
    });
    const second = apply(first, config({ app: 'web' }), 'kubectl', false, 5);
    expect((second.object.metadata as { labels: unknown }).labels).toEqual({ app: 'web' });
    expect(entry(second.managedFields, 'kubectl')?.fieldsV1['f:metadata']).toEqual({
      'f:labels': { 'f:app': {} },
    });
    expect(entry(second.managedFields, 'kubectl')?.time).toBe('2026-01-01T00:00:05Z');
  });

  it('changes nothing, time included, when the same configuration is applied again', () => {
    const first = apply(undefined, config({ app: 'web' }));
    const again = apply(first, config({ app: 'web' }), 'kubectl', false, 9);
    expect(again.managedFields).toEqual(first.managedFields);
    expect(again.object).toEqual(first.object);
  });

  it('keeps a field another writer holds too, and shares a field set to the same value', () => {
    const first = apply(undefined, config({ app: 'web', tier: 'front' }));
    const shared = apply(first, { ...config({ tier: 'front' }), spec: { replicas: 2 } }, 'ops');
    const dropped = apply(shared, config({ app: 'web' }));
    expect((dropped.object.metadata as { labels: unknown }).labels).toEqual({ app: 'web', tier: 'front' });
    expect(dropped.object.spec).toMatchObject({ replicas: 2 });
    expect(entry(dropped.managedFields, 'ops')?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:tier': {} } },
      'f:spec': { 'f:replicas': {} },
    });
  });

  it('refuses to change a field another writer set (scale), as Kubernetes words it; force takes it over', () => {
    const first = apply(undefined, config({ app: 'web' }));
    const scaled = structuredClone(first.object) as ReturnType<typeof config>;
    scaled.spec.replicas = 5;
    const managedFields = updateFields({
      kind: 'Deployment',
      before: first.object,
      after: scaled,
      managedFields: first.managedFields,
      writer: writer('kubectl-scale', 1, 'scale'),
    });
    expect(entry(managedFields, 'kubectl')?.fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
    expect(entry(managedFields, 'kubectl-scale')).toMatchObject({
      operation: 'Update',
      subresource: 'scale',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
    const live = { object: scaled as unknown as Record<string, unknown>, managedFields };
    let error: unknown;
    try {
      apply(live, config({ app: 'web' }, 3));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApplyConflict);
    expect((error as ApplyConflict).message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas',
    );
    // The same value is no conflict: both hold it.
    const same = apply(live, config({ app: 'web' }, 5));
    expect(entry(same.managedFields, 'kubectl-scale')).toBeDefined();
    const forced = apply(live, config({ app: 'web' }, 3), 'kubectl', true);
    expect(forced.object.spec).toMatchObject({ replicas: 3 });
    expect(entry(forced.managedFields, 'kubectl-scale')).toBeUndefined();
    expect(entry(forced.managedFields, 'kubectl')?.fieldsV1['f:spec']).toHaveProperty('f:replicas');
  });

  it('groups several conflicts by manager', () => {
    const first = apply(undefined, config({ app: 'web' }), 'kubectl-client-side-apply');
    const live = { object: first.object, managedFields: first.managedFields };
    const conflict = (() => {
      try {
        apply(live, config({ app: 'web' }, 4, 'web:2'));
      } catch (e) {
        return e as ApplyConflict;
      }
    })();
    expect(conflict?.conflicts).toHaveLength(2);
    expect(conflict?.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
  });
});

describe('updates', () => {
  it('gives a creator every field it wrote, and takes changed fields from the others', () => {
    const created = updateFields({
      kind: 'Deployment',
      before: undefined,
      after: config({ app: 'web' }),
      managedFields: [],
      writer: writer('kubectl-create'),
    });
    expect(created).toHaveLength(1);
    expect(created[0]?.fieldsV1['f:metadata']).toEqual({ '.': {}, 'f:labels': { '.': {}, 'f:app': {} } });
    const changed = config({ app: 'web' }, 2, 'web:2');
    const edited = updateFields({
      kind: 'Deployment',
      before: config({ app: 'web' }),
      after: changed,
      managedFields: created,
      writer: writer('kubectl-edit', 2),
    });
    expect(entry(edited, 'kubectl-edit')?.fieldsV1).toEqual({
      'f:spec': {
        'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } },
      },
    });
    expect(JSON.stringify(entry(edited, 'kubectl-create')?.fieldsV1)).not.toContain('f:image');
    // Taking every field of a writer drops its entry.
    const all = updateFields({
      kind: 'Deployment',
      before: changed,
      after: {},
      managedFields: edited,
      writer: writer('other', 3),
    });
    expect(all).toEqual([]);
  });

  it('keeps the entries as they were when a write changes nothing', () => {
    const created = updateFields({
      kind: 'Deployment',
      before: undefined,
      after: config({ app: 'web' }),
      managedFields: [],
      writer: writer('kubectl-create'),
    });
    const again = updateFields({
      kind: 'Deployment',
      before: config({ app: 'web' }),
      after: config({ app: 'web' }),
      managedFields: created,
      writer: writer('kubectl-create', 30),
    });
    expect(again).toEqual(created);
  });
});
