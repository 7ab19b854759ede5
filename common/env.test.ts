import { describe, expect, it } from 'vitest';
import { divisorValue, fieldPathProblem } from './env.ts';
import { normalizeManifests, parseManifestText } from './manifest.ts';

/** An apps/v1 Deployment whose one container has `container` (YAML flow, indented under it). */
const deployment = (container: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        ${container}
`;
const issuesOf = (text: string) => normalizeManifests(parseManifestText(text, 'yaml')).issues;
const C = 'spec.template.spec.containers[0]';

describe('env and envFrom as Kubernetes writes them', () => {
  it('accepts every source Berth fills', () => {
    const env = [
      '{name: A, valueFrom: {configMapKeyRef: {name: app, key: mode, optional: true}}}',
      '{name: B, valueFrom: {secretKeyRef: {name: db, key: pw, optional: false}}}',
      '{name: C, valueFrom: {fieldRef: {fieldPath: metadata.name}}}',
      '{name: D, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: "metadata.labels[\'app\']"}}}',
      '{name: E, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}',
      '{name: F, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}',
      '{name: G, valueFrom: {resourceFieldRef: {containerName: web, resource: requests.cpu, divisor: 1m}}}',
      '{name: H, value: "$(A)-$$"}',
    ];
    const text = deployment(
      `env: [${env.join(', ')}]\n        envFrom: [{configMapRef: {name: app}}, {prefix: DB_, secretRef: {name: db, optional: true}}]`,
    );
    expect(issuesOf(text)).toEqual([]);
  });

  it.each([
    ['status.podIP', /status.hostIP is the node's address/],
    ['status.podIPs', /assigned after its environment is fixed/],
    ["metadata.annotations['a']", /keeps no pod annotations/],
    ['metadata.uid', /supported: metadata.name/],
    ['metadata.labels', /supported: /],
    ["metadata.labels['bad key!']", /invalid label key/],
  ])('refuses fieldPath %s, saying why', (path, message) => {
    const issues = issuesOf(deployment(`env: [{name: A, valueFrom: {fieldRef: {fieldPath: "${path}"}}}]`));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: `${C}.env[0].valueFrom.fieldRef.fieldPath` });
    expect(issues[0]!.message).toMatch(message);
  });

  it('refuses resources Berth does not schedule, divisors Kubernetes refuses, and two sources at once', () => {
    const paths = (container: string) => issuesOf(deployment(container)).map((i) => i.path);
    expect(
      paths('env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.ephemeral-storage}}}]'),
    ).toEqual([`${C}.env[0].valueFrom.resourceFieldRef.resource`]);
    expect(
      paths('env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1m}}}]'),
    ).toEqual([`${C}.env[0].valueFrom.resourceFieldRef.divisor`]);
    expect(
      paths('env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 2}}}]'),
    ).toEqual([`${C}.env[0].valueFrom.resourceFieldRef.divisor`]);
    expect(
      paths(
        'env: [{name: A, valueFrom: {secretKeyRef: {name: s, key: k}, configMapKeyRef: {name: c, key: k}}}]',
      ),
    ).toEqual([`${C}.env[0].valueFrom`]);
    expect(paths('envFrom: [{secretRef: {name: s}, configMapRef: {name: c}}]')).toEqual([`${C}.envFrom[0]`]);
    expect(paths('envFrom: [{prefix: X_}]')).toEqual([`${C}.envFrom[0]`]);
  });

  it('reads divisors by value, as Kubernetes compares them', () => {
    expect(divisorValue('limits.cpu', undefined)).toBe(1000);
    expect(divisorValue('limits.cpu', '1m')).toBe(1);
    expect(divisorValue('requests.cpu', '1000m')).toBe(1000);
    expect(divisorValue('limits.memory', undefined)).toBe(1);
    expect(divisorValue('limits.memory', '1Gi')).toBe(2 ** 30);
    expect(divisorValue('requests.memory', '1k')).toBe(1000);
    expect(divisorValue('requests.memory', '2Mi')).toBeUndefined();
    expect(fieldPathProblem('spec.serviceAccountName')).toBeUndefined();
  });
});

describe('resource divisors', () => {
  it.each([
    ['limits.cpu', '1', 1000],
    ['limits.cpu', '1000m', 1000],
    ['limits.cpu', '1m', 1],
    ['limits.cpu', 1, 1000],
    ['limits.cpu', '0.5m', undefined],
    ['limits.cpu', '10m', undefined],
    ['limits.memory', '1', 1],
    ['limits.memory', '1k', 1000],
    ['limits.memory', '1M', 1e6],
    ['limits.memory', '1E', 1e18],
    ['limits.memory', '1Ki', 1024],
    ['limits.memory', '1024', 1024],
    ['limits.memory', '1Mi', 2 ** 20],
    ['limits.memory', '1Ei', 2 ** 60],
    ['limits.memory', '1m', undefined],
    ['limits.memory', '2Ki', undefined],
    ['limits.memory', '512', undefined],
    ['limits.memory', '0', undefined],
  ] as const)('%s divisor %j is %j', (resource, divisor, value) => {
    expect(divisorValue(resource, divisor)).toBe(value);
  });
});
