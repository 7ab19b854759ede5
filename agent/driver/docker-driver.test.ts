import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { toInfo } from './docker-driver.ts';

describe('toInfo', () => {
  it('reports the protocol of UDP host ports (TCP ones without it, as agents always have)', () => {
    const inspect = {
      Id: 'c1',
      Name: '/berth-x',
      Config: { Labels: {} },
      State: { Running: true, Status: 'running' },
      HostConfig: { NetworkMode: 'berth-ns-shop' },
      NetworkSettings: {
        Networks: {},
        Ports: {
          '53/udp': [{ HostIp: '192.0.2.2', HostPort: '31053' }],
          '53/tcp': [{ HostIp: '192.0.2.2', HostPort: '31054' }],
          '9000/tcp': null,
        },
      },
    } as unknown as Docker.ContainerInspectInfo;
    expect(toInfo(inspect).hostPorts).toEqual([
      { containerPort: 53, hostPort: 31053, protocol: 'UDP' },
      { containerPort: 53, hostPort: 31054 },
    ]);
  });
});
