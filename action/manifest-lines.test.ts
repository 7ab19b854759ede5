import { describe, expect, it } from 'vitest';
import { manifestLine, pathSegments } from './manifest-lines.ts';
import { unifiedDiff } from './spec-diff.ts';

const YAML = `# a comment
---
apiVersion: v1
kind: Service
metadata: {name: a}
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    "example.com/x.y": "1"
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
      - name: side
        image: side:1
`;

describe('manifestLine', () => {
  it('finds a field of the nth non-empty document, down to list items', () => {
    expect(manifestLine(YAML, 1, 'spec.template.spec.containers[1].image')).toBe(21);
    expect(manifestLine(YAML, 1, 'metadata.annotations["example.com/x.y"]')).toBe(13);
    expect(manifestLine(YAML, 0, 'kind')).toBe(4);
  });
  it('points at the deepest part the file has when the field is not in it', () => {
    expect(manifestLine(YAML, 1, 'spec.template.spec.hostNetwork')).toBe(16);
    expect(manifestLine(YAML, 5, 'spec')).toBeUndefined();
  });
  it('reads a JSON file holding its documents as one array', () => {
    const json =
      '[\n  {"kind": "Service"},\n  {\n    "kind": "Deployment",\n    "spec": {"replicas": -1}\n  }\n]\n';
    expect(manifestLine(json, 1, 'spec.replicas')).toBe(5);
  });
  it('splits JSON paths', () => {
    expect(pathSegments('a.b[0]["c.d"].e')).toEqual(['a', 'b', 0, 'c.d', 'e']);
  });
});

describe('unifiedDiff', () => {
  it('shows what went and what came, with three lines of context', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].join('\n');
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i'].join('\n');
    expect(unifiedDiff(before, after)).toBe([' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h'].join('\n'));
    expect(unifiedDiff('', 'x: 1\n')).toBe('+x: 1');
  });
});
