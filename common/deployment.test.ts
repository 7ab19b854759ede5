import { describe, expect, it } from 'vitest';
import { normalizeManifests, parseManifestText } from './manifest.ts';

/** An apps/v1 Deployment whose one container has `extra` (YAML flow mappings, one per line). */
const k8s = (extra: string, podExtra = '') => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:${podExtra}
      containers:
      - name: web
        image: web:1
${extra
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}
`;

function apply(text: string) {
  return normalizeManifests(parseManifestText(text, 'yaml'));
}

function container(text: string) {
  const { objects, issues } = apply(text);
  expect(issues).toEqual([]);
  const o = objects[0]!;
  if (o.kind !== 'Deployment') throw new Error(`a ${o.kind}`);
  return o.spec.template.spec.containers[0]!;
}

const C = 'spec.template.spec.containers[0]';

describe('startup probes', () => {
  it("takes a Kubernetes startupProbe with Kubernetes' defaults and a probe grace", () => {
    const c = container(
      k8s('startupProbe: {httpGet: {path: /healthz, port: 8080}, terminationGracePeriodSeconds: 5}'),
    );
    expect(c.startupProbe).toEqual({
      httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
      terminationGracePeriodSeconds: 5,
    });
  });

  it('refuses successThreshold other than 1 for liveness and startup probes', () => {
    const { issues } = apply(
      k8s(
        'livenessProbe: {tcpSocket: {port: 80}, successThreshold: 2}\nstartupProbe: {tcpSocket: {port: 80}, successThreshold: 3}',
      ),
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      [`${C}.livenessProbe.successThreshold`, 'must be 1'],
      [`${C}.startupProbe.successThreshold`, 'must be 1'],
    ]);
    // Readiness may ask for several.
    expect(apply(k8s('readinessProbe: {tcpSocket: {port: 80}, successThreshold: 2}')).issues).toEqual([]);
  });

  it('refuses a probe grace on a readiness probe, and a grace of 0', () => {
    const { issues } = apply(
      k8s(
        'readinessProbe: {tcpSocket: {port: 80}, terminationGracePeriodSeconds: 5}\nlivenessProbe: {tcpSocket: {port: 80}, terminationGracePeriodSeconds: 0}',
      ),
    );
    expect(issues.map((i) => i.path)).toEqual([
      `${C}.livenessProbe.terminationGracePeriodSeconds`,
      `${C}.readinessProbe.terminationGracePeriodSeconds`,
    ]);
    expect(issues[1]!.message).toBe('must not be set for readinessProbes');
  });
});

describe('grpc probes', () => {
  it('takes a Kubernetes grpc probe, service optional', () => {
    const c = container(
      k8s('readinessProbe: {grpc: {port: 9000}}\nlivenessProbe: {grpc: {port: 9000, service: db}}'),
    );
    expect(c.readinessProbe?.grpc).toEqual({ port: 9000 });
    expect(c.livenessProbe?.grpc).toEqual({ port: 9000, service: 'db' });
  });

  it('refuses a port name (Kubernetes takes numbers only) and two handlers', () => {
    const { issues } = apply(
      k8s(
        'readinessProbe: {grpc: {port: web}}\nlivenessProbe: {grpc: {port: 9000}, tcpSocket: {port: 9000}}',
      ),
    );
    expect(issues.map((i) => i.path)).toEqual([`${C}.readinessProbe.grpc.port`, `${C}.livenessProbe`]);
    expect(issues[1]!.message).toBe('must specify exactly one of httpGet, tcpSocket, exec, grpc');
  });
});

describe('lifecycle hooks', () => {
  it('takes postStart and preStop with exec, httpGet and sleep', () => {
    const c = container(
      k8s(
        'lifecycle: {postStart: {exec: {command: [sh, -c, "echo up"]}}, preStop: {httpGet: {path: /drain, port: 8080, host: ""}}}',
      ),
    );
    expect(c.lifecycle).toEqual({
      postStart: { exec: { command: ['sh', '-c', 'echo up'] } },
      preStop: { httpGet: { path: '/drain', port: 8080, scheme: 'HTTP' } },
    });
    expect(container(k8s('lifecycle: {preStop: {sleep: {seconds: 5}}}')).lifecycle).toEqual({
      preStop: { sleep: { seconds: 5 } },
    });
  });

  it("refuses tcpSocket (Kubernetes never runs it), two handlers, a host, and a sleep past the pod's grace", () => {
    const { issues } = apply(
      k8s(
        'lifecycle: {postStart: {tcpSocket: {port: 80}}, preStop: {sleep: {seconds: 31}}}',
        '\n      terminationGracePeriodSeconds: 30',
      ),
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      [
        `${C}.lifecycle.postStart.tcpSocket`,
        'tcpSocket is not supported by Berth in lifecycle hooks (Kubernetes does not run it either; use exec or httpGet)',
      ],
    ]);
    // The grace is checked once the containers are valid.
    expect(apply(k8s('lifecycle: {preStop: {sleep: {seconds: 31}}}')).issues).toEqual([
      expect.objectContaining({
        path: `${C}.lifecycle.preStop.sleep.seconds`,
        message: 'must be at most terminationGracePeriodSeconds (30)',
      }),
    ]);
    expect(
      apply(k8s('lifecycle: {preStop: {exec: {command: [a]}, sleep: {seconds: 1}}}')).issues.map(
        (i) => i.path,
      ),
    ).toEqual([`${C}.lifecycle.preStop`]);
    expect(apply(k8s('lifecycle: {preStop: {}}')).issues[0]?.message).toBe(
      'must specify exactly one of exec, httpGet, sleep',
    );
    expect(
      apply(k8s('lifecycle: {preStop: {httpGet: {port: 80, host: evil.example}}}')).issues.map((i) => i.path),
    ).toEqual([`${C}.lifecycle.preStop.httpGet.host`]);
  });
});
