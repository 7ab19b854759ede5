import { describe, expect, it } from 'vitest';
import { PodTemplate } from '../../common/deployment.ts';
import type { replicas } from '../../db/schema/index.ts';
import { type AssignmentContext, toAssignment } from './agents.ts';

const template = PodTemplate.parse({
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'web:1',
        envFrom: [{ configMapRef: { name: 'flags', optional: true } }],
        env: [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'MODE' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        ],
        args: ['--mode=$(MODE)'],
      },
    ],
  },
});
const row = (over: Partial<typeof replicas.$inferSelect> = {}) =>
  ({
    id: 'web-abc',
    namespace: 'default',
    deploymentName: 'web',
    revision: 1,
    desired: 'running',
    defaultMemoryLimitBytes: 256 * 2 ** 20,
    configMapData: null,
    serviceEnv: null,
    ...over,
  }) as typeof replicas.$inferSelect;
const context = (configMaps: Record<string, Record<string, string>>): AssignmentContext => ({
  node: { name: 'n1', address: '10.0.0.1', allocatableCpuMillis: 1000, allocatableMemoryBytes: 2 ** 30 },
  configMaps: new Map(Object.entries(configMaps)),
});
const envOf = (a: ReturnType<typeof toAssignment>) =>
  Object.fromEntries(a.containers[0]!.env.map((e) => [e.name, e.value]));

describe('an assignment reading ConfigMaps', () => {
  it('carries resolved values, $(VAR) in args expanded, and no reason when everything exists', () => {
    const a = toAssignment(row(), template, new Map(), context({ app: { MODE: 'prod' }, flags: { X: '1' } }));
    expect(a.configError).toBeUndefined();
    expect(envOf(a)).toEqual({ X: '1', MODE: 'prod', NODE: 'n1', MEM: '256' });
    expect(a.containers[0]!.args).toEqual(['--mode=prod']);
  });

  it('carries the reason of a missing ConfigMap or key (an optional one is none), and no empty value', () => {
    const missing = toAssignment(row(), template, new Map(), context({}));
    expect(missing.configError).toBe('configmap "app" not found');
    expect(envOf(missing)).toEqual({ NODE: 'n1', MEM: '256' });
    expect(missing.containers[0]!.args).toEqual(['--mode=$(MODE)']);
    expect(toAssignment(row(), template, new Map(), context({ app: {} })).configError).toBe(
      'key "MODE" not found in configmap "app"',
    );
  });

  it('reads the ConfigMaps a started replica was sent, not what they hold now', () => {
    const started = row({ configMapData: { app: { MODE: 'prod' }, flags: null } });
    const a = toAssignment(
      started,
      template,
      new Map(),
      context({ app: { MODE: 'dev' }, flags: { X: '2' } }),
    );
    expect(envOf(a)).toEqual({ MODE: 'prod', NODE: 'n1', MEM: '256' });
  });
});
