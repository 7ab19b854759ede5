import { describe, expect, it } from 'vitest';
import type { Assignment } from '../common/agent-protocol.ts';
import { planContainers, specHash, stableJson } from './container-spec.ts';

const a: Assignment = {
  id: 'r1',
  namespace: 'shop',
  deployment: 'web',
  revision: 4,
  desired: 'running',
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 15,
  drainDelaySeconds: 2,
  containers: [
    {
      name: 'web',
      image: 'web:1',
      imagePullPolicy: 'IfNotPresent',
      command: ['/bin/server'],
      args: ['--port', '8080'],
      env: [{ name: 'A', value: 'b=c' }],
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
      resources: { cpuLimitMillis: 250, memoryLimitBytes: 128 * 1024 * 1024 },
    },
    {
      name: 'metrics',
      image: 'exporter:2',
      imagePullPolicy: 'Always',
      args: ['--listen', ':9100'],
      env: [],
      ports: [
        { containerPort: 9100, protocol: 'TCP' },
        { containerPort: 8080, protocol: 'TCP' },
        { containerPort: 5353, hostPort: 5353, protocol: 'UDP' },
      ],
      resources: {},
    },
  ],
};

describe('planContainers', () => {
  const [web, metrics] = planContainers(a, 'vm-1', '10.0.0.5');

  it('lets the first container publish every port of the pod, once each', () => {
    expect(web!.spec.publish).toEqual([
      { containerPort: 8080, protocol: 'TCP' },
      { containerPort: 9100, protocol: 'TCP' },
      { containerPort: 5353, protocol: 'UDP', hostPort: 5353 },
    ]);
    expect(metrics!.spec.publish).toEqual([]);
    expect(web!.spec.hostIp).toBe('10.0.0.5');
  });

  it('maps command/args to entrypoint/cmd, env, limits and labels', () => {
    expect(web!.spec).toMatchObject({
      name: 'berth-vm-1-r1-web',
      image: 'web:1',
      entrypoint: ['/bin/server'],
      cmd: ['--port', '8080'],
      env: ['A=b=c'],
      nanoCpus: 250_000_000,
      memoryBytes: 128 * 1024 * 1024,
    });
    expect(metrics!.spec.entrypoint).toBeUndefined();
    expect(metrics!.spec.cmd).toEqual(['--listen', ':9100']);
    expect(web!.spec.labels).toEqual({
      'berth.dev/node': 'vm-1',
      'berth.dev/replica': 'r1',
      'berth.dev/deployment': 'shop/web',
      'berth.dev/namespace': 'shop',
      'berth.dev/revision': '4',
      'berth.dev/container': 'web',
      'berth.dev/spec-hash': web!.hash,
      'berth.dev/termination-grace-seconds': '15',
    });
  });

  it('hashes the configuration: stable, and sensitive to what Docker would run differently', () => {
    expect(planContainers(a, 'vm-1', '10.0.0.5')[0]!.hash).toBe(web!.hash);
    const changedEnv = {
      ...a,
      containers: [{ ...a.containers[0]!, env: [{ name: 'A', value: 'x' }] }, a.containers[1]!],
    };
    expect(planContainers(changedEnv, 'vm-1', '10.0.0.5')[0]!.hash).not.toBe(web!.hash);
    // A new revision number alone does not replace running containers.
    expect(planContainers({ ...a, revision: 5 }, 'vm-1', '10.0.0.5')[0]!.hash).toBe(web!.hash);
  });

  it('puts every container on its namespace network, with the security defaults and limits', () => {
    expect(web!.spec.network).toEqual({ namespace: 'shop', name: 'berth-ns-shop' });
    expect(metrics!.spec.network).toEqual(web!.spec.network);
    for (const c of [web!, metrics!]) {
      expect(c.spec.security).toEqual({ noNewPrivileges: true, capAdd: [], capDrop: ['NET_RAW'] });
      expect(c.spec.pidsLimit).toBe(4096);
    }
    expect(web!.spec.memoryBytes).toBe(128 * 1024 * 1024);
    expect(metrics!.spec.memoryBytes).toBeUndefined();
    const other = planContainers({ ...a, namespace: 'blog' }, 'vm-1', '10.0.0.5')[0]!;
    expect(other.spec.network).toEqual({ namespace: 'blog', name: 'berth-ns-blog' });
    const tight = planContainers(a, 'vm-1', '10.0.0.5', { pidsLimit: 100 });
    expect(tight.map((c) => c.spec.pidsLimit)).toEqual([100, 100]);
    expect(planContainers(a, 'vm-1', '10.0.0.5', { pidsLimit: 0 })[0]!.spec).not.toHaveProperty('pidsLimit');
  });

  it('hashes the defaults too: a change of namespace, pids limit or memory request replaces the container', () => {
    expect(planContainers({ ...a, namespace: 'blog' }, 'vm-1', '10.0.0.5')[0]!.hash).not.toBe(web!.hash);
    expect(planContainers(a, 'vm-1', '10.0.0.5', { pidsLimit: 100 })[0]!.hash).not.toBe(web!.hash);
    const withRequest = {
      ...a,
      containers: [
        a.containers[0]!,
        { ...a.containers[1]!, resources: { memoryRequestBytes: 32 * 1024 * 1024 } },
      ],
    };
    const [, requested] = planContainers(withRequest, 'vm-1', '10.0.0.5');
    expect(requested!.spec.memoryBytes).toBe(32 * 1024 * 1024);
    expect(requested!.hash).not.toBe(metrics!.hash);
  });

  it('serialises objects with sorted keys', () => {
    expect(stableJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
    expect(specHash({ x: 1, y: 2 })).toBe(specHash({ y: 2, x: 1 }));
  });
});

describe('planContainers with the cluster DNS', () => {
  const dns = { servers: ['169.254.20.10'], search: ['shop.svc.cluster.local'], options: ['ndots:5'] };

  it("gives the network owner the cluster's resolv.conf without changing any hash", () => {
    const without = planContainers(a, 'node-1', '10.0.0.5');
    const withDns = planContainers(a, 'node-1', '10.0.0.5', undefined, undefined, dns);
    // Running containers are not recreated when the node's first service map (or an upgrade) comes.
    expect(withDns.map((p) => p.hash)).toEqual(without.map((p) => p.hash));
    expect(withDns[0]?.spec.dns).toEqual(dns);
    // Members share the owner's network namespace, and with it its resolv.conf.
    expect(withDns[1]?.spec).not.toHaveProperty('dns');
    expect(without[0]?.spec).not.toHaveProperty('dns');
  });
});
