import { describe, expect, it } from 'vitest';
import { type DiscoveryService, discoveryEnv, serviceLinkVars } from './discovery.ts';

describe("Kubernetes' service variables", () => {
  it('are what the kubelet writes for a service with one TCP port', () => {
    expect(
      Object.fromEntries(
        serviceLinkVars('redis-master', { ip: '10.0.0.11', ports: [{ port: 6379, protocol: 'TCP' }] }),
      ),
    ).toEqual({
      REDIS_MASTER_SERVICE_HOST: '10.0.0.11',
      REDIS_MASTER_SERVICE_PORT: '6379',
      REDIS_MASTER_PORT: 'tcp://10.0.0.11:6379',
      REDIS_MASTER_PORT_6379_TCP: 'tcp://10.0.0.11:6379',
      REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
      REDIS_MASTER_PORT_6379_TCP_ADDR: '10.0.0.11',
    });
  });

  it('name each named port, and give UDP ports their own', () => {
    const vars = serviceLinkVars('kube-dns', {
      ip: '10.96.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    });
    expect(vars.map(([n]) => n)).toEqual([
      'KUBE_DNS_SERVICE_HOST',
      'KUBE_DNS_SERVICE_PORT',
      'KUBE_DNS_SERVICE_PORT_DNS',
      'KUBE_DNS_SERVICE_PORT_DNS_TCP',
      'KUBE_DNS_PORT',
      'KUBE_DNS_PORT_53_UDP',
      'KUBE_DNS_PORT_53_UDP_PROTO',
      'KUBE_DNS_PORT_53_UDP_PORT',
      'KUBE_DNS_PORT_53_UDP_ADDR',
      'KUBE_DNS_PORT_53_TCP',
      'KUBE_DNS_PORT_53_TCP_PROTO',
      'KUBE_DNS_PORT_53_TCP_PORT',
      'KUBE_DNS_PORT_53_TCP_ADDR',
    ]);
    expect(Object.fromEntries(vars).KUBE_DNS_PORT).toBe('udp://10.96.0.10:53');
  });

  const created = new Date('2026-01-01T00:00:00Z');
  const list: DiscoveryService[] = [
    {
      name: 'api',
      host: 'api.example.com',
      cluster: { ip: '10.96.0.2', ports: [{ port: 80, protocol: 'TCP' }] },
      createdAt: created,
    },
    {
      name: 'later',
      cluster: { ip: '10.96.0.3', ports: [{ port: 80, protocol: 'TCP' }] },
      createdAt: new Date('2026-02-01T00:00:00Z'),
    },
  ];

  it('come beside the BERTH_SERVICE ones, only for services older than the replica, and not with enableServiceLinks false', () => {
    const names = (serviceLinks: boolean) =>
      discoveryEnv(list, new Date('2026-01-15T00:00:00Z'), new Set(['API_PORT']), { serviceLinks }).map(
        (e) => e.name,
      );
    expect(names(true)).toEqual([
      'BERTH_SERVICE_API_URL',
      'BERTH_SERVICE_API_HOST',
      'API_SERVICE_HOST',
      'API_SERVICE_PORT',
      'API_PORT_80_TCP',
      'API_PORT_80_TCP_PROTO',
      'API_PORT_80_TCP_PORT',
      'API_PORT_80_TCP_ADDR',
    ]);
    expect(names(false)).toEqual(['BERTH_SERVICE_API_URL', 'BERTH_SERVICE_API_HOST']);
  });
});
