import { describe, expect, it } from 'vitest';
import { Container, PodSpec } from './deployment.ts';
import {
  extendedLimits,
  isExtendedResourceName,
  parseAdvertised,
  parseExtended,
  podScalars,
} from './extended-resources.ts';
import { normalizeManifests, parseManifestText } from './manifest.ts';

const issues = (resources: unknown) => {
  const r = Container.safeParse({ name: 'a', image: 'x', resources });
  return r.success ? [] : r.error.issues.map((i) => [i.path.join('.'), i.message]);
};

describe('extended resource names', () => {
  it('are domain-prefixed names outside kubernetes.io, as Kubernetes defines them', () => {
    for (const name of ['nvidia.com/gpu', 'example.com/dongle', 'amd.com/gpu', 'a.b/c_d.e-f'])
      expect([name, isExtendedResourceName(name)]).toEqual([name, true]);
    for (const name of [
      'gpu',
      'kubernetes.io/gpu',
      'x.kubernetes.io/y',
      'requests.nvidia.com/gpu',
      'Nvidia.com/gpu',
      'hugepages-2Mi',
    ])
      expect([name, isExtendedResourceName(name)]).toEqual([name, false]);
  });
});

describe('extended resource quantities', () => {
  it('are whole counts, written in any quantity form that is one', () => {
    expect([1, '2', '1e1', '3000m', '+4', '1k', '1Ki'].map(parseExtended)).toEqual([
      1, 2, 10, 3, 4, 1000, 1024,
    ]);
    expect(['0.5', '1500m', '1e-1', 'x', '-1'].map(parseExtended)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('are refused when not integers, when a request has no limit, and when a request differs from the limit', () => {
    expect(issues({ limits: { 'nvidia.com/gpu': 2 } })).toEqual([]);
    expect(issues({ requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': 2 } })).toEqual([]);
    expect(issues({ limits: { 'nvidia.com/gpu': '0.5' } })).toEqual([
      ['resources.limits.nvidia.com/gpu', 'must be an integer'],
    ]);
    expect(issues({ requests: { 'nvidia.com/gpu': 1 } })).toEqual([
      ['resources.limits.nvidia.com/gpu', 'must be set: an extended resource is not overcommitted'],
    ]);
    expect(issues({ requests: { 'nvidia.com/gpu': 1 }, limits: { 'nvidia.com/gpu': 2 } })).toEqual([
      ['resources.requests.nvidia.com/gpu', 'must be equal to nvidia.com/gpu limit of 2'],
    ]);
    expect(issues({ limits: { 'nvidia.com/gpu': -1 } })).toEqual([
      ['resources.limits.nvidia.com/gpu', 'must be greater than or equal to 0'],
    ]);
  });

  it('accept ephemeral-storage requests and refuse its limits, which the agent would not enforce', () => {
    expect(issues({ requests: { 'ephemeral-storage': '2Gi' } })).toEqual([]);
    expect(issues({ requests: { 'ephemeral-storage': 'lots' } })).toEqual([
      ['resources.requests.ephemeral-storage', expect.stringMatching(/^must be a memory quantity/)],
    ]);
    expect(issues({ limits: { 'ephemeral-storage': '2Gi' } })).toEqual([
      ['resources.limits.ephemeral-storage', expect.stringMatching(/could not be enforced/)],
    ]);
  });

  it('leave a template that names none of them exactly as it parsed before', () => {
    const c = Container.parse({
      name: 'a',
      image: 'x',
      resources: { requests: { cpu: '1' }, limits: { memory: '1Gi' } },
    });
    expect(c.resources).toEqual({ requests: { cpu: '1' }, limits: { memory: '1Gi' } });
  });
});

describe('what a pod asks of a node', () => {
  const spec = (raw: unknown) => PodSpec.parse(raw);
  it('sums its containers, takes an init container peak when larger, and is undefined for plain pods', () => {
    expect(podScalars(spec({ containers: [{ name: 'a', image: 'x' }] }))).toBeUndefined();
    expect(
      podScalars(
        spec({
          initContainers: [
            {
              name: 'side',
              image: 'x',
              restartPolicy: 'Always',
              resources: { limits: { 'nvidia.com/gpu': 1 } },
            },
            { name: 'prep', image: 'x', resources: { limits: { 'nvidia.com/gpu': 3 } } },
          ],
          containers: [
            {
              name: 'a',
              image: 'x',
              resources: { limits: { 'nvidia.com/gpu': 1 }, requests: { 'ephemeral-storage': '1Gi' } },
            },
            { name: 'b', image: 'x', resources: { requests: { 'ephemeral-storage': '1Gi' } } },
          ],
        }),
      ),
    ).toEqual({ 'nvidia.com/gpu': 4, 'ephemeral-storage': 2 * 1024 ** 3 });
  });

  it('sends the agent a container’s extended resources only', () => {
    expect(
      extendedLimits({ requests: { 'ephemeral-storage': '1Gi' }, limits: { 'nvidia.com/gpu': 2, cpu: '1' } }),
    ).toEqual({ 'nvidia.com/gpu': 2 });
    expect(extendedLimits({ limits: { cpu: '1' } })).toBeUndefined();
  });
});

describe('--extended-resource', () => {
  it('reads NAME=COUNT, and says what is wrong with anything else', () => {
    expect(parseAdvertised('nvidia.com/gpu=2')).toEqual({ name: 'nvidia.com/gpu', count: 2 });
    expect(parseAdvertised('gpu=2')).toMatch(/no extended resource name/);
    expect(parseAdvertised('nvidia.com/gpu=1.5')).toMatch(/whole number/);
    expect(parseAdvertised('nvidia.com/gpu')).toMatch(/whole number/);
  });
});

describe('a Deployment written for kubectl', () => {
  it('applies unchanged with a GPU limit and an ephemeral-storage request, and names a bad count by its path', () => {
    const text = (gpu: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: train}
spec:
  selector: {matchLabels: {app: train}}
  template:
    metadata: {labels: {app: train}}
    spec:
      containers:
      - name: train
        image: trainer:1
        resources:
          requests: {cpu: 500m, ephemeral-storage: 2Gi}
          limits: {nvidia.com/gpu: ${gpu}}
`;
    const ok = normalizeManifests(parseManifestText(text('1'), 'yaml'));
    expect(ok.issues).toEqual([]);
    const bad = normalizeManifests(parseManifestText(text('"0.5"'), 'yaml'));
    expect(bad.issues).toMatchObject([
      {
        path: 'spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"]',
        message: 'must be an integer',
      },
    ]);
  });
});
