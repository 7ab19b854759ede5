import { describe, expect, it } from 'vitest';
import type { ServiceMap } from '../../common/agent-protocol.ts';
import { createLogger } from '../log.ts';
import { containerDns, ServiceNetwork } from './service-network.ts';

const map: ServiceMap = {
  clusterDomain: 'cluster.local',
  endpointCidr: '10.250.0.0/24',
  services: [
    {
      namespace: 'shop',
      name: 'backend',
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { name: 'metrics', protocol: 'TCP', port: 9090 },
      ],
      endpoints: [
        { replica: 'here-1', node: 'n1', address: '192.0.2.1', hostPorts: [31001, null] },
        { replica: 'here-2', node: 'n1', address: '192.0.2.1', hostPorts: [31002, 32002] },
        { replica: 'there', node: 'n2', address: '192.0.2.2', hostPorts: [31003, 32003] },
      ],
    },
  ],
};

function network(restores: string[] = []) {
  return new ServiceNetwork({
    log: createLogger('silent'),
    node: 'n1',
    nodeAddress: '127.0.0.1',
    identity: 'test',
    listBridges: async () => [],
    run: async () => ({ code: 0, output: '' }),
    restore: async (text) => {
      restores.push(text);
      return { code: 0, output: '' };
    },
  });
}

const route = { service: 'shop/backend', protocol: 'TCP' as const, port: 80 };

describe('ServiceNetwork', () => {
  it("routes a service port to each endpoint's host port for it, leaving out those that do not publish it", async () => {
    const n = network();
    await n.start();
    await n.apply(map);
    expect(n.targets(route).map((t) => `${t.host}:${t.port}`)).toEqual([
      '192.0.2.1:31001',
      '192.0.2.1:31002',
      '192.0.2.2:31003',
    ]);
    expect(n.targets({ ...route, port: 9090 }).map((t) => t.key)).toEqual(['here-2', 'there']);
    await n.stop();
  });

  it('takes a local replica out of rotation as soon as the agent knows it is not ready or stopping', async () => {
    const n = network();
    await n.start();
    await n.apply(map);
    n.setLocal(new Set(['here-2']));
    // here-1 is out; the other node's endpoint is the control plane's word.
    expect(n.targets(route).map((t) => t.key)).toEqual(['here-2', 'there']);
    await n.stop();
  });

  it("reaches a local replica on its pod address and container port, skipping the engine's port publisher", async () => {
    const n = network();
    await n.start();
    await n.apply(map);
    n.setLocal(
      new Set(['here-1', 'here-2']),
      new Map([['here-2', { ip: '172.18.0.5', hostPorts: [{ containerPort: 8080, hostPort: 31002 }] }]]),
    );
    // here-1's address is not known yet: its published port still works.
    expect(n.targets(route).map((t) => `${t.key}@${t.host}:${t.port}`)).toEqual([
      'here-1@192.0.2.1:31001',
      'here-2@172.18.0.5:8080',
      'there@192.0.2.2:31003',
    ]);
    await n.stop();
  });

  it('gives containers the cluster DNS only once a map is known', async () => {
    const n = network();
    await n.start();
    expect(n.dnsFor('shop')).toBeUndefined();
    await n.apply(map);
    expect(n.dnsFor('shop')).toEqual(containerDns('cluster.local', 'shop'));
    expect(containerDns('cluster.local', 'shop')).toEqual({
      servers: ['169.254.20.10'],
      search: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
    await n.stop();
  });

  it('says once that services are unreachable when the rules cannot be written, and gives no DNS', async () => {
    const lines: string[] = [];
    const n = new ServiceNetwork({
      log: {
        ...createLogger('silent'),
        warn: (msg: string) => void lines.push(msg),
      } as ReturnType<typeof createLogger>,
      node: 'n1',
      nodeAddress: '127.0.0.1',
      identity: 'test',
      listBridges: async () => [],
      run: async () => ({ code: 0, output: '' }),
      restore: async () => ({ code: 1, output: 'Permission denied (you must be root)' }),
    });
    expect(await n.start()).toBe(false);
    await n.apply(map);
    expect(n.dnsFor('shop')).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/services are not reachable inside the cluster/);
  });

  it('rewrites the chain only when the rules change', async () => {
    const restores: string[] = [];
    const n = network(restores);
    await n.start();
    await n.apply(map);
    await n.apply(structuredClone(map));
    expect(restores).toHaveLength(1);
    await n.stop();
  });
});
