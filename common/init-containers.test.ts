import { describe, expect, it } from 'vitest';
import { PodSpec, PodTemplate } from './deployment.ts';
import { splitInitContainers, withInitContainers } from './init-containers.ts';
import { normalizeManifests, parseManifestText } from './manifest.ts';
import { podHostPorts, podRequests } from './pod-requests.ts';

const probe = { httpGet: { port: 80 } };
const issues = (spec: unknown) =>
  PodSpec.safeParse(spec).error?.issues.map((i) => [i.path.join('.'), i.message]) ?? [];

describe('init containers in a pod spec', () => {
  it('refuses what Kubernetes refuses: probes and hooks on a plain init container, names used twice', () => {
    expect(
      issues({
        containers: [{ name: 'web', image: 'a' }],
        initContainers: [
          { name: 'web', image: 'b' },
          {
            name: 'migrate',
            image: 'b',
            startupProbe: probe,
            lifecycle: { postStart: { sleep: { seconds: 1 } } },
          },
          { name: 'migrate', image: 'b' },
        ],
      }),
    ).toEqual([
      ['initContainers.0.name', 'duplicate container name "web"'],
      ['initContainers.1.startupProbe', 'may not be set for init containers without restartPolicy=Always'],
      ['initContainers.1.lifecycle', 'may not be set for init containers without restartPolicy=Always'],
      ['initContainers.2.name', 'duplicate container name "migrate"'],
    ]);
    expect(
      issues({
        containers: [{ name: 'web', image: 'a' }],
        initContainers: [{ name: 'i', image: 'b', restartPolicy: 'OnFailure' }],
      }),
    ).toEqual([['initContainers.0.restartPolicy', 'Invalid input: expected "Always"']]);
  });

  it('accepts a sidecar with probes and hooks, within the grace', () => {
    const sidecar = {
      name: 'proxy',
      image: 'b',
      restartPolicy: 'Always',
      readinessProbe: probe,
      startupProbe: probe,
    };
    expect(issues({ containers: [{ name: 'web', image: 'a' }], initContainers: [sidecar] })).toEqual([]);
    expect(
      issues({
        containers: [{ name: 'web', image: 'a' }],
        terminationGracePeriodSeconds: 10,
        initContainers: [{ ...sidecar, lifecycle: { preStop: { sleep: { seconds: 11 } } } }],
      }),
    ).toEqual([
      [
        'initContainers.0.lifecycle.preStop.sleep.seconds',
        'must be at most terminationGracePeriodSeconds (10)',
      ],
    ]);
  });

  it('leaves a stored template without init containers as it was (its hash does not change)', () => {
    const parsed = PodTemplate.parse({ spec: { containers: [{ name: 'web', image: 'a' }] } });
    expect(Object.keys(parsed.spec)).not.toContain('initContainers');
    expect(withInitContainers(parsed.spec)).toBe(parsed.spec);
  });

  it('counts requests as the scheduler does: the larger of the init peak and the running sum', () => {
    const r = (cpu: string, memory: string) => ({ requests: { cpu, memory } });
    const template = PodTemplate.parse({
      spec: {
        containers: [{ name: 'web', image: 'a', resources: r('100m', '64Mi') }],
        initContainers: [
          { name: 'migrate', image: 'b', resources: r('1', '32Mi') },
          {
            name: 'proxy',
            image: 'b',
            restartPolicy: 'Always',
            resources: r('50m', '16Mi'),
            ports: [{ containerPort: 9, hostPort: 9009 }],
          },
          // A limit without a request is the request; it runs beside the proxy.
          { name: 'warm', image: 'b', resources: { limits: { cpu: '200m', memory: '128Mi' } } },
        ],
      },
    });
    expect(podRequests(template)).toEqual({ cpuMillis: 1000, memoryBytes: (128 + 16) * 1024 * 1024 });
    expect(podHostPorts(template)).toEqual(['9009/TCP']);
  });

  it('moves init containers out of an assignment built with them first', () => {
    const spec = { initContainers: [{ restartPolicy: 'Always' as const }, {}] } as Parameters<
      typeof splitInitContainers
    >[0];
    const c = (name: string) => ({
      name,
      image: 'x',
      imagePullPolicy: 'IfNotPresent' as const,
      env: [],
      ports: [],
      resources: {},
    });
    const a = splitInitContainers(spec, { containers: [c('proxy'), c('migrate'), c('web')] });
    expect(a.initContainers).toEqual([{ ...c('proxy'), restartPolicy: 'Always' }, c('migrate')]);
    expect(a.containers).toEqual([c('web')]);
  });

  it('records a serviceAccountName an init container reads, as one a container reads', () => {
    const { objects, issues: found } = normalizeManifests(
      parseManifestText(
        `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      initContainers:
        - {name: setup, image: app, env: [{name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}]}
      containers: [{name: web, image: app}]
`,
        'yaml',
      ),
    );
    expect(found).toEqual([]);
    const web = objects[0];
    expect(web?.kind === 'Deployment' && web.spec.template.spec.serviceAccountName).toBe('web');
  });

  it('reads init containers of a Kubernetes manifest, its defaults taken out', () => {
    const { objects, issues: found } = normalizeManifests(
      parseManifestText(
        `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
        - {name: migrate, image: app, terminationMessagePath: /dev/termination-log, terminationMessagePolicy: File, readinessProbe: null}
      containers: [{name: web, image: app}]
`,
        'yaml',
      ),
    );
    expect(found).toEqual([]);
    const d = objects[0]!;
    if (d.kind !== 'Deployment') throw new Error('kind');
    expect(d.spec.template.spec.initContainers).toEqual([
      { name: 'migrate', image: 'app', env: [], ports: [], resources: {} },
    ]);
  });
});
