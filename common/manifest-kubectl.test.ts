import { describe, expect, it } from 'vitest';
import { ManifestSyntaxError, normalizeManifests, parseManifestText } from './manifest.ts';

/** Manifests as people write them for kubectl: what kubectl accepts applies, what it refuses is refused. */

const deployment = (spec = '', metadata = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web${metadata}
spec:${spec}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`;
const SELECTOR = '\n  selector:\n    matchLabels: {app: web}';

const normalize = (text: string, namespace?: string) =>
  normalizeManifests(parseManifestText(text, 'yaml'), { namespace });

describe('apps/v1 Deployment selectors', () => {
  it('accepts a selector that picks some of the template labels', () => {
    expect(normalize(deployment(SELECTOR)).issues).toEqual([]);
  });

  it('requires one, as apps/v1 does', () => {
    expect(normalize(deployment()).issues).toEqual([
      { document: 0, path: 'spec.selector', message: "is required: matchLabels with the template's labels" },
    ]);
    expect(normalize(deployment('\n  selector: null')).issues.map((i) => i.path)).toEqual(['spec.selector']);
  });

  it('refuses an empty one', () => {
    for (const empty of ['\n  selector: {}', '\n  selector: {matchLabels: {}}']) {
      expect(normalize(deployment(empty)).issues).toEqual([
        {
          document: 0,
          path: 'spec.selector',
          message: 'must not be empty: an empty selector would select every pod',
        },
      ]);
    }
  });

  it('refuses one the template does not match', () => {
    expect(normalize(deployment('\n  selector:\n    matchLabels: {app: api}')).issues).toEqual([
      {
        document: 0,
        path: 'spec.selector.matchLabels.app',
        message: 'selector does not match template labels (template.metadata.labels.app must be "api")',
      },
    ]);
  });
});

describe('metadata.namespace against the request', () => {
  it('refuses a namespace other than the one the request names, naming metadata.namespace', () => {
    const { objects, issues } = normalize(deployment(SELECTOR, '\n  namespace: team-b'), 'team-a');
    expect(objects).toEqual([]);
    expect(issues).toEqual([
      {
        document: 0,
        path: 'metadata.namespace',
        message:
          'the namespace of the object ("team-b") does not match the namespace of the request ("team-a"): remove it, or apply with namespace team-b',
      },
    ]);
  });

  it('accepts the same namespace, none, or any when the request names none', () => {
    expect(normalize(deployment(SELECTOR, '\n  namespace: team-a'), 'team-a').issues).toEqual([]);
    expect(normalize(deployment(SELECTOR), 'team-a').issues).toEqual([]);
    expect(normalize(deployment(SELECTOR, '\n  namespace: team-b')).issues).toEqual([]);
  });

  it('checks the items of a List too', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${deployment(SELECTOR, '\n  namespace: b')
      .trim()
      .replace(/\n/g, '\n  ')}\n`;
    expect(normalize(list, 'a').issues.map((i) => i.path)).toEqual(['items[0].metadata.namespace']);
  });
});

describe('YAML merge keys', () => {
  it('merges a mapping into another, as kubectl reads them', () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: &labels {app: web}
  template:
    metadata:
      labels: *labels
    spec:
      containers:
      - &container
        name: web
        image: nginx:1.27
        resources: {requests: {cpu: 100m, memory: 64Mi}}
      - <<: *container
        name: sidecar
        image: busybox:1.36
      - <<: [*container]
        name: third
`;
    const { objects, issues } = normalize(text);
    expect(issues).toEqual([]);
    const spec = objects[0]?.kind === 'Deployment' ? objects[0].spec : undefined;
    expect(
      spec?.template.spec.containers.map((c) => [c.name, c.image, c.resources.requests?.memory]),
    ).toEqual([
      ['web', 'nginx:1.27', '64Mi'],
      ['sidecar', 'busybox:1.36', '64Mi'],
      ['third', 'nginx:1.27', '64Mi'],
    ]);
  });

  it('keeps the alias limit for aliases under merge keys', () => {
    const lines = ['a: &a {x: 1}'];
    for (let i = 0; i < 60; i++) lines.push(`k${i}: {<<: *a}`);
    expect(() => parseManifestText(lines.join('\n'), 'yaml')).toThrow(ManifestSyntaxError);
  });
});
