import { describe, expect, it } from 'vitest';
import { PodSpec } from '../../common/deployment.ts';
import { Taint, Toleration } from '../../common/scheduling.ts';
import {
  nodeAffinityMatches,
  nodeAffinityScore,
  nodeTermMatches,
  podSelectorMatches,
  tolerates,
  untoleratedTaint,
} from './scheduling-rules.ts';

const node = (labels: Record<string, string>, name = 'vm-1') => ({ name, labels });

describe('node selector terms', () => {
  const labels = { zone: 'eu-1', disk: 'ssd', cores: '8' };
  it.each([
    [{ key: 'zone', operator: 'In', values: ['eu-1', 'eu-2'] }, true],
    [{ key: 'zone', operator: 'In', values: ['us-1'] }, false],
    [{ key: 'zone', operator: 'NotIn', values: ['us-1'] }, true],
    [{ key: 'gpu', operator: 'NotIn', values: ['a100'] }, true],
    [{ key: 'disk', operator: 'Exists' }, true],
    [{ key: 'gpu', operator: 'Exists' }, false],
    [{ key: 'gpu', operator: 'DoesNotExist' }, true],
    [{ key: 'cores', operator: 'Gt', values: ['4'] }, true],
    [{ key: 'cores', operator: 'Gt', values: ['8'] }, false],
    [{ key: 'cores', operator: 'Lt', values: ['16'] }, true],
    // A value that is no integer matches neither Gt nor Lt, as in Kubernetes.
    [{ key: 'zone', operator: 'Lt', values: ['16'] }, false],
  ] as const)('%o → %s', (expression, expected) => {
    expect(nodeTermMatches({ matchExpressions: [expression as never] }, node(labels))).toBe(expected);
  });

  it('ANDs the expressions and fields of a term, ORs the terms, and an empty term matches nothing', () => {
    const term = {
      matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['eu-1'] }],
      matchFields: [{ key: 'metadata.name' as const, operator: 'In' as const, values: ['vm-2'] }],
    };
    expect(nodeTermMatches(term, node(labels, 'vm-1'))).toBe(false);
    expect(nodeTermMatches(term, node(labels, 'vm-2'))).toBe(true);
    expect(nodeTermMatches({}, node(labels))).toBe(false);
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [term, { matchExpressions: [{ key: 'disk', operator: 'Exists' as const }] }],
        },
      },
    };
    expect(nodeAffinityMatches(affinity, node(labels, 'vm-1'))).toBe(true);
    expect(nodeAffinityMatches(affinity, node({ zone: 'eu-1' }, 'vm-1'))).toBe(false);
    expect(nodeAffinityMatches(undefined, node({}))).toBe(true);
  });

  it('scores preferred terms by the sum of the weights they match', () => {
    const affinity = {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 80, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' as const }] } },
          { weight: 15, preference: { matchExpressions: [{ key: 'gpu', operator: 'Exists' as const }] } },
          {
            weight: 5,
            preference: { matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['eu-1'] }] },
          },
        ],
      },
    };
    expect(nodeAffinityScore(affinity, node(labels))).toBe(85);
    expect(nodeAffinityScore(affinity, node({}))).toBe(0);
  });
});

describe('pod label selectors', () => {
  it('matches labels and expressions; absent matches no pod, empty every pod', () => {
    const pod = { app: 'web', tier: 'front' };
    expect(podSelectorMatches({ matchLabels: { app: 'web' } }, pod)).toBe(true);
    expect(podSelectorMatches({ matchLabels: { app: 'db' } }, pod)).toBe(false);
    expect(
      podSelectorMatches(
        {
          matchLabels: { app: 'web' },
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['front', 'edge'] },
            { key: 'canary', operator: 'DoesNotExist' },
          ],
        },
        pod,
      ),
    ).toBe(true);
    expect(
      podSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, pod),
    ).toBe(false);
    expect(podSelectorMatches(undefined, pod)).toBe(false);
    expect(podSelectorMatches({}, pod)).toBe(true);
  });
});

describe('taints and tolerations', () => {
  const taint = (t: Taint) => Taint.parse(t);
  const toleration = (t: Toleration) => Toleration.parse(t);
  const dedicated = taint({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' });

  it('tolerates as Kubernetes does: Equal by value, Exists by key, an empty key with Exists everything', () => {
    expect(tolerates(toleration({ key: 'dedicated', operator: 'Equal', value: 'gpu' }), dedicated)).toBe(
      true,
    );
    expect(tolerates(toleration({ key: 'dedicated', value: 'gpu' }), dedicated)).toBe(true);
    expect(tolerates(toleration({ key: 'dedicated', value: 'db' }), dedicated)).toBe(false);
    expect(tolerates(toleration({ key: 'dedicated', operator: 'Exists' }), dedicated)).toBe(true);
    expect(
      tolerates(toleration({ key: 'dedicated', operator: 'Exists', effect: 'PreferNoSchedule' }), dedicated),
    ).toBe(false);
    expect(tolerates(toleration({ operator: 'Exists' }), dedicated)).toBe(true);
    const bare = taint({ key: 'maintenance', effect: 'NoSchedule' });
    expect(tolerates(toleration({ key: 'maintenance', operator: 'Equal', value: '' }), bare)).toBe(true);
    expect(tolerates(toleration({ key: 'maintenance' }), bare)).toBe(true);
  });

  it('finds the first taint of an effect that nothing tolerates', () => {
    const soft = taint({ key: 'spot', effect: 'PreferNoSchedule' });
    expect(untoleratedTaint([soft, dedicated], [], 'NoSchedule')).toEqual(dedicated);
    expect(
      untoleratedTaint([soft, dedicated], [toleration({ operator: 'Exists' })], 'NoSchedule'),
    ).toBeUndefined();
    expect(untoleratedTaint([soft], undefined, 'NoSchedule')).toBeUndefined();
    expect(untoleratedTaint(undefined, undefined, 'NoSchedule')).toBeUndefined();
  });

  it('refuses what it could not honour, at its path', () => {
    const paths = (
      value: unknown,
      schema: { safeParse: (v: unknown) => { error?: { issues: { path: PropertyKey[] }[] } } },
    ) => schema.safeParse(value).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ key: 'a', effect: 'NoExecute' }, Taint)).toEqual(['effect']);
    expect(paths({ key: 'a', operator: 'Exists', value: 'x' }, Toleration)).toEqual(['value']);
    expect(paths({ operator: 'Equal', value: 'x' }, Toleration)).toEqual(['operator']);
    expect(
      paths({ key: 'a', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }, Toleration),
    ).toEqual(['effect']);
    // NoExecute tolerations are accepted: Berth nodes have no NoExecute taint for them to tolerate.
    expect(
      paths(
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        Toleration,
      ),
    ).toBeUndefined();
  });
});

describe('the pod spec', () => {
  const spec = (extra: Record<string, unknown>) => ({
    containers: [{ name: 'web', image: 'nginx' }],
    ...extra,
  });
  const issues = (extra: Record<string, unknown>) =>
    PodSpec.safeParse(spec(extra)).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

  it('keeps a spec without scheduling fields as it was: nothing is added by default', () => {
    const parsed = PodSpec.parse(spec({}));
    expect(Object.keys(parsed)).not.toContain('affinity');
    expect(Object.keys(parsed)).not.toContain('tolerations');
    expect(Object.keys(parsed)).not.toContain('topologySpreadConstraints');
  });

  it('refuses other namespaces for pod terms, and operators that need values without them', () => {
    expect(
      issues({
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: 'kubernetes.io/hostname', namespaces: ['other'], labelSelector: {} },
            ],
          },
        },
      }),
    ).toEqual([
      "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0.namespaces: only the pod's own namespace is supported by Berth: leave namespaces out",
    ]);
    expect(
      issues({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'zone', operator: 'In' }] },
                { matchFields: [{ key: 'metadata.labels', operator: 'In', values: ['a'] }] },
                { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['many'] }] },
              ],
            },
          },
        },
      }),
    ).toEqual([
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.values: must be non-empty when operator is In',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.1.matchFields.0.key: only metadata.name is supported',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.2.matchExpressions.0.values.0: must be an integer',
    ]);
  });
});
