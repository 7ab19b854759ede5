import { describe, expect, it } from 'vitest';
import { Container } from '../../common/deployment.ts';
import { type PodEnvContext, resolveContainerEnv, resourceValue } from './pod-env.ts';

const ctx = (over: Partial<PodEnvContext> = {}): PodEnvContext => ({
  podName: 'web-7f9c-abcde',
  namespace: 'shop',
  labels: { app: 'web', tier: 'front' },
  node: {
    name: 'node-1',
    address: '10.0.0.7',
    allocatableCpuMillis: 2000,
    allocatableMemoryBytes: 4 * 2 ** 30,
  },
  secrets: new Map([['db', { data: { password: 'hunter2', user: 'app', 'not a name': 'x' } }]]),
  configMaps: new Map<string, Record<string, string>>([
    ['app', { MODE: 'prod', GREETING: 'hello', URL: 'http://$(HOST)' }],
    ['extra', { MODE: 'dev', LEVEL: 'debug' }],
  ]),
  serviceEnv: [{ name: 'BERTH_SERVICE_API_URL', value: 'http://api.shop' }],
  resources: (name) =>
    name === 'web'
      ? { requests: { cpu: 250, memory: 64 * 2 ** 20 }, limits: { cpu: 1500, memory: 128 * 2 ** 20 } }
      : name === 'side'
        ? { requests: {}, limits: {} }
        : undefined,
  ...over,
});
const container = (c: Record<string, unknown>) => Container.parse({ name: 'web', image: 'web:1', ...c });
const envOf = (c: Record<string, unknown>, over?: Partial<PodEnvContext>) =>
  Object.fromEntries(resolveContainerEnv(container(c), ctx(over)).env.map((e) => [e.name, e.value]));

describe('a container environment resolved as the kubelet does', () => {
  it('reads ConfigMap and secret keys, leaving out what is missing (optional or not)', () => {
    expect(
      envOf({
        env: [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'MODE' } } },
          { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          { name: 'GONE', valueFrom: { configMapKeyRef: { name: 'nope', key: 'x', optional: true } } },
          { name: 'NOKEY', valueFrom: { secretKeyRef: { name: 'db', key: 'x', optional: true } } },
        ],
      }),
    ).toEqual({ MODE: 'prod', PW: 'hunter2' });
  });

  it('takes envFrom first (sorted keys, a later source winning, prefixes, invalid names skipped), then env over it', () => {
    const resolved = resolveContainerEnv(
      container({
        envFrom: [
          { configMapRef: { name: 'app' } },
          { configMapRef: { name: 'extra' } },
          { prefix: 'DB_', secretRef: { name: 'db' } },
          { configMapRef: { name: 'missing', optional: true } },
        ],
        env: [{ name: 'LEVEL', value: 'info' }],
      }),
      ctx(),
    );
    expect(resolved.env).toEqual([
      { name: 'GREETING', value: 'hello' },
      { name: 'MODE', value: 'dev' },
      // A ConfigMap value is taken as it is: $(...) in data is not expanded.
      { name: 'URL', value: 'http://$(HOST)' },
      { name: 'LEVEL', value: 'info' },
      { name: 'DB_password', value: 'hunter2' },
      { name: 'DB_user', value: 'app' },
    ]);
  });

  it('fills pod fields: name (the replica id), namespace, labels, node, service account, host IP', () => {
    const field = (fieldPath: string) => ({ fieldRef: { fieldPath } });
    expect(
      envOf({
        env: [
          { name: 'POD', valueFrom: field('metadata.name') },
          { name: 'NS', valueFrom: field('metadata.namespace') },
          { name: 'APP', valueFrom: field("metadata.labels['app']") },
          { name: 'NONE', valueFrom: field("metadata.labels['absent']") },
          { name: 'NODE', valueFrom: field('spec.nodeName') },
          { name: 'SA', valueFrom: field('spec.serviceAccountName') },
          { name: 'HOST_IP', valueFrom: field('status.hostIP') },
        ],
      }),
    ).toEqual({
      POD: 'web-7f9c-abcde',
      NS: 'shop',
      APP: 'web',
      NONE: '',
      NODE: 'node-1',
      SA: 'default',
      HOST_IP: '10.0.0.7',
    });
  });

  it('fills resources divided and rounded up; an unset limit is the node allocatable, an unset request 0', () => {
    const res = (resource: string, divisor?: string, containerName?: string) => ({
      resourceFieldRef: {
        resource,
        ...(divisor ? { divisor } : {}),
        ...(containerName ? { containerName } : {}),
      },
    });
    expect(
      envOf({
        env: [
          { name: 'CPU_LIMIT', valueFrom: res('limits.cpu') },
          { name: 'CPU_LIMIT_M', valueFrom: res('limits.cpu', '1m') },
          { name: 'CPU_REQ', valueFrom: res('requests.cpu') },
          { name: 'MEM_LIMIT_MI', valueFrom: res('limits.memory', '1Mi') },
          { name: 'MEM_REQ', valueFrom: res('requests.memory') },
          { name: 'MEM_REQ_M', valueFrom: res('requests.memory', '1M') },
          { name: 'SIDE_CPU_LIMIT', valueFrom: res('limits.cpu', '1m', 'side') },
          { name: 'SIDE_MEM_LIMIT', valueFrom: res('limits.memory', '1Gi', 'side') },
          { name: 'SIDE_CPU_REQ', valueFrom: res('requests.cpu', undefined, 'side') },
        ],
      }),
    ).toEqual({
      CPU_LIMIT: '2',
      CPU_LIMIT_M: '1500',
      CPU_REQ: '1',
      MEM_LIMIT_MI: '128',
      MEM_REQ: String(64 * 2 ** 20),
      MEM_REQ_M: '68',
      SIDE_CPU_LIMIT: '2000',
      SIDE_MEM_LIMIT: '4',
      SIDE_CPU_REQ: '0',
    });
    const node = { allocatableCpuMillis: 1, allocatableMemoryBytes: 1 };
    expect(resourceValue('limits.cpu', undefined, { requests: {}, limits: { cpu: 1 } }, node)).toBe('1');
  });

  it('expands $(VAR) in values from earlier variables, envFrom and service variables, never later ones', () => {
    expect(
      envOf({
        envFrom: [{ configMapRef: { name: 'app' } }],
        env: [
          { name: 'HOST', value: 'db.$(NS)' },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'DSN', value: 'postgres://$(HOST)/$(MODE)?ns=$(NS)&x=$$(NS)&later=$(LATER)' },
          { name: 'API', value: '$(BERTH_SERVICE_API_URL)/v1' },
          { name: 'LATER', value: 'late' },
        ],
      }),
    ).toMatchObject({
      HOST: 'db.$(NS)',
      DSN: 'postgres://db.$(NS)/prod?ns=shop&x=$(NS)&later=$(LATER)',
      API: 'http://api.shop/v1',
    });
  });

  it('expands $(VAR) in command and args against the whole environment', () => {
    const resolved = resolveContainerEnv(
      container({
        env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'app', key: 'GREETING' } } }],
        command: ['/bin/sh', '-c', 'echo $(GREETING) $$(GREETING) $HOME'],
        args: ['--who=$(POD)', '$(UNKNOWN)'],
      }),
      ctx(),
    );
    expect(resolved.command).toEqual(['/bin/sh', '-c', 'echo hello $(GREETING) $HOME']);
    expect(resolved.args).toEqual(['--who=$(POD)', '$(UNKNOWN)']);
    expect(resolveContainerEnv(container({}), ctx())).toEqual({ env: [] });
  });
});
