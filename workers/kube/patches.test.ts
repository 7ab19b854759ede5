import { describe, expect, it } from 'vitest';
import { normalizeManifests } from '../../common/manifest.ts';
import { applyJsonPatch } from './json-patch.ts';
import {
  applyPatch,
  patchNamesResourceVersion,
  patchTypeOf,
  toManifest,
  withoutImpliedSelector,
} from './patches.ts';
import { scaleOf, scaleReplicas } from './scale.ts';
import { mergeKey, PatchError, strategicMerge } from './strategic-merge.ts';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    resourceVersion: '7',
    labels: { app: 'web' },
    annotations: { 'deployment.kubernetes.io/revision': '2', keep: 'me' },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'web:1',
            args: ['a', 'b'],
            ports: [{ containerPort: 8080 }, { containerPort: 9090, name: 'metrics' }],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
          { name: 'sidecar', image: 'side:1' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
        tolerations: [{ key: 'a', operator: 'Exists' }],
      },
    },
  },
  status: { replicas: 2 },
});

type D = ReturnType<typeof deployment>;
const containers = (d: unknown) => (d as D).spec.template.spec.containers;

describe('strategic merge patch', () => {
  it('merges containers by name, env by name and ports by containerPort, as kubectl set image and apply expect', () => {
    const out = strategicMerge('Deployment', deployment(), {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                image: 'web:2',
                env: [{ name: 'B', value: '3' }],
                ports: [{ containerPort: 9090, protocol: 'TCP' }],
              },
            ],
          },
        },
      },
    });
    const [web, sidecar] = containers(out);
    expect(web?.image).toBe('web:2');
    expect(web?.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
    ]);
    expect(web?.ports).toEqual([
      { containerPort: 8080 },
      { containerPort: 9090, name: 'metrics', protocol: 'TCP' },
    ]);
    expect(web?.args).toEqual(['a', 'b']);
    expect(sidecar).toEqual({ name: 'sidecar', image: 'side:1' });
  });

  it('replaces lists without a merge key (args, tolerations) and deletes a field set to null', () => {
    const out = strategicMerge('Deployment', deployment(), {
      metadata: { annotations: { keep: null } },
      spec: {
        template: {
          spec: {
            tolerations: [{ key: 'b', operator: 'Exists' }],
            containers: [{ name: 'web', args: ['c'] }],
          },
        },
      },
    }) as D;
    expect(out.spec.template.spec.tolerations).toEqual([{ key: 'b', operator: 'Exists' }]);
    expect(containers(out)[0]?.args).toEqual(['c']);
    expect(out.metadata.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
  });

  it('keys a Service port by port, and a container port by containerPort', () => {
    expect(mergeKey('Service', ['spec', 'ports'])).toBe('port');
    expect(mergeKey('Deployment', ['spec', 'template', 'spec', 'containers', 'ports'])).toBe('containerPort');
    expect(mergeKey('Deployment', ['spec', 'template', 'spec', 'containers', 'volumeMounts'])).toBe(
      'mountPath',
    );
    expect(mergeKey('Deployment', ['spec', 'template', 'spec', 'tolerations'])).toBeUndefined();
    const svc = {
      spec: {
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 443, targetPort: 8443 },
        ],
      },
    };
    const out = strategicMerge('Service', svc, { spec: { ports: [{ port: 443, targetPort: 9443 }] } });
    expect(out).toEqual({
      spec: {
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 443, targetPort: 9443 },
        ],
      },
    });
  });

  it('honours $patch: delete on a list item and on a map, and $patch: replace on a map and a list', () => {
    const out = strategicMerge('Deployment', deployment(), {
      spec: {
        strategy: { $patch: 'replace', type: 'Recreate' },
        template: {
          spec: {
            containers: [{ name: 'sidecar', $patch: 'delete' }],
            volumes: [{ $patch: 'replace' }, { name: 'cache', emptyDir: {} }],
          },
        },
      },
      status: { $patch: 'delete' },
    }) as D;
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(containers(out).map((c) => c.name)).toEqual(['web']);
    expect(out.spec.template.spec.volumes).toEqual([{ name: 'cache', emptyDir: {} }]);
    expect('status' in out).toBe(false);
  });

  it('orders a merged list by $setElementOrder, and clears keys outside $retainKeys', () => {
    const out = strategicMerge('Deployment', deployment(), {
      spec: {
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
            containers: [{ name: 'web', image: 'web:3' }],
          },
        },
      },
    }) as D;
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(containers(out).map((c) => [c.name, c.image])).toEqual([
      ['sidecar', 'side:1'],
      ['web', 'web:3'],
    ]);
  });

  it('merges finalizers as a set and takes values out with $deleteFromPrimitiveList', () => {
    const out = strategicMerge(
      'Deployment',
      { metadata: { finalizers: ['a', 'b'] } },
      { metadata: { finalizers: ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
    );
    expect(out).toEqual({ metadata: { finalizers: ['a', 'c'] } });
  });

  it('refuses what is not a patch: a list, an unknown directive, an item without its key', () => {
    expect(() => strategicMerge('Deployment', {}, [])).toThrow(PatchError);
    expect(() => strategicMerge('Deployment', {}, { spec: { $patch: 'bogus' } })).toThrow(
      /unknown patch directive/,
    );
    expect(() =>
      strategicMerge('Deployment', deployment(), {
        spec: { template: { spec: { containers: [{ image: 'x' }] } } },
      }),
    ).toThrow(/merge key "name"/);
  });

  it('does not change its inputs', () => {
    const before = deployment();
    const patch = { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:9' }] } } } };
    strategicMerge('Deployment', before, patch);
    expect(before).toEqual(deployment());
    expect(patch.spec.template.spec.containers[0]?.image).toBe('web:9');
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('adds, replaces, removes, moves, copies and tests in order', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: 'c' },
      { op: 'remove', path: '/spec/template/spec/containers/1' },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/annotations/app' },
      { op: 'move', from: '/metadata/annotations/keep', path: '/metadata/annotations/kept' },
      { op: 'add', path: '/metadata/annotations/a~1b', value: 'slash' },
    ]) as D & { metadata: { annotations: Record<string, string> } };
    expect(out.spec.replicas).toBe(3);
    expect(out.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(containers(out).map((c) => c.name)).toEqual(['web']);
    expect(containers(out)[0]?.args).toEqual(['a', 'b', 'c']);
    expect(out.metadata.annotations).toMatchObject({ app: 'web', kept: 'me', 'a/b': 'slash' });
    expect('keep' in out.metadata.annotations).toBe(false);
  });

  it('fails the whole patch on a failed test or a missing path', () => {
    expect(() => applyJsonPatch(deployment(), [{ op: 'test', path: '/spec/replicas', value: 5 }])).toThrow(
      /test failed/,
    );
    expect(() => applyJsonPatch(deployment(), [{ op: 'remove', path: '/spec/nothing' }])).toThrow(
      /does not exist/,
    );
    expect(() =>
      applyJsonPatch(deployment(), [{ op: 'replace', path: '/spec/template/spec/containers/5', value: {} }]),
    ).toThrow(/out of range/);
    expect(() => applyJsonPatch(deployment(), { op: 'add' })).toThrow(/list of operations/);
    expect(() => applyJsonPatch(deployment(), [{ op: 'frobnicate', path: '/a' }])).toThrow(/unknown op/);
  });
});

describe('patch types and the object written', () => {
  it('knows the four media types kubectl sends, and no other', () => {
    expect(patchTypeOf('application/merge-patch+json')).toBe('merge');
    expect(patchTypeOf('application/strategic-merge-patch+json')).toBe('strategic');
    expect(patchTypeOf('application/json-patch+json')).toBe('json');
    expect(patchTypeOf('application/apply-patch+yaml')).toBe('apply');
    expect(patchTypeOf('application/json')).toBeUndefined();
  });

  it('merge patch replaces lists whole; server-side apply merges them by key and drops managedFields', () => {
    const patch = { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } } } };
    const merged = applyPatch('merge', 'Deployment', deployment(), patch);
    expect(containers(merged)).toEqual([{ name: 'web', image: 'web:2' }]);
    const applied = applyPatch('apply', 'Deployment', deployment(), {
      ...patch,
      metadata: { name: 'web', managedFields: [{ manager: 'x' }] },
    }) as D;
    expect(containers(applied).map((c) => [c.name, c.image])).toEqual([
      ['web', 'web:2'],
      ['sidecar', 'side:1'],
    ]);
    expect('managedFields' in applied.metadata).toBe(false);
  });

  it('tells a precondition the caller named from the one a retry would take', () => {
    expect(patchNamesResourceVersion('merge', { metadata: { resourceVersion: '3' } })).toBe(true);
    expect(patchNamesResourceVersion('strategic', { spec: {} })).toBe(false);
    expect(
      patchNamesResourceVersion('json', [{ op: 'test', path: '/metadata/resourceVersion', value: '3' }]),
    ).toBe(true);
  });

  it('takes out what the face adds (status, revision annotation) and returns the resourceVersion apart', () => {
    const { doc, resourceVersion } = toManifest(deployment());
    expect(resourceVersion).toBe('7');
    expect(doc.status).toBeUndefined();
    expect((doc as D).metadata.annotations).toEqual({ keep: 'me' });
    expect(() => toManifest({ metadata: { resourceVersion: 7 } })).toThrow(/must be a string/);
  });

  it('takes an implied selector out of a converted spec, and leaves any other', () => {
    const spec = { replicas: 1, selector: { matchLabels: { app: 'web' } } };
    expect(withoutImpliedSelector(spec, { matchLabels: { app: 'web' } })).toEqual({ replicas: 1 });
    expect(withoutImpliedSelector(spec, { matchLabels: { app: 'api' } })).toEqual(spec);
    expect(withoutImpliedSelector(spec, undefined)).toEqual(spec);
  });
});

describe('kubectl rollout restart', () => {
  it('keeps the restart annotation of a pod template (a new revision), and no other pod annotation', () => {
    const patched = strategicMerge('Deployment', deployment(), {
      spec: {
        template: {
          metadata: {
            annotations: {
              'kubectl.kubernetes.io/restartedAt': '2026-01-02T03:04:05Z',
              'prometheus.io/scrape': 'true',
            },
          },
        },
      },
    });
    const { objects, issues } = normalizeManifests([toManifest(patched).doc]);
    expect(issues).toEqual([]);
    const [object] = objects as { spec: { template: { metadata: unknown } } }[];
    expect(object?.spec.template.metadata).toEqual({
      labels: { app: 'web' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T03:04:05Z' },
    });
    const plain = normalizeManifests([toManifest(deployment()).doc]).objects as {
      spec: { template: { metadata: unknown } };
    }[];
    expect(plain[0]?.spec.template.metadata).toEqual({ labels: { app: 'web' } });
  });
});

describe('the scale subresource', () => {
  it('shows a Deployment as an autoscaling/v1 Scale, and reads the replicas a Scale asks for', () => {
    const scale = scaleOf({
      ...deployment(),
      metadata: { ...deployment().metadata, uid: 'u', creationTimestamp: 't' },
    });
    expect(scale).toMatchObject({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', resourceVersion: '7' },
      spec: { replicas: 2 },
      status: { replicas: 2, selector: 'app=web' },
    });
    expect(scaleReplicas({ spec: { replicas: 5 }, metadata: { resourceVersion: '7' } }, 'web')).toEqual({
      replicas: 5,
      resourceVersion: '7',
    });
    expect(() => scaleReplicas({ spec: { replicas: -1 } }, 'web')).toThrow(/whole number/);
    expect(() => scaleReplicas({ metadata: { name: 'other' }, spec: { replicas: 1 } }, 'web')).toThrow(
      /"web"/,
    );
  });
});
