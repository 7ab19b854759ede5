import { describe, expect, it } from 'vitest';
import { PodTemplate } from '../../common/deployment.ts';
import { hostPortOf } from './services.ts';

describe('a Service targetPort named for a sidecar', () => {
  it("finds a sidecar's named port, as Kubernetes does, and not a plain init container's", () => {
    const template = PodTemplate.parse({
      spec: {
        initContainers: [
          { name: 'setup', image: 'a', ports: [{ name: 'setup', containerPort: 7000 }] },
          {
            name: 'envoy',
            image: 'b',
            restartPolicy: 'Always',
            ports: [{ name: 'http-proxy', containerPort: 15001 }],
          },
        ],
        containers: [{ name: 'web', image: 'c', ports: [{ name: 'http', containerPort: 8080 }] }],
      },
    });
    const row = {
      template,
      host_ports: [
        { containerPort: 7000, hostPort: 30700 },
        { containerPort: 15001, hostPort: 31501 },
        { containerPort: 8080, hostPort: 30808 },
      ],
    };
    expect(hostPortOf(row, 'http-proxy')).toBe(31501);
    expect(hostPortOf(row, 'http')).toBe(30808);
    expect(hostPortOf(row, 'setup')).toBeUndefined();
  });
});
