import { describe, expect, it } from 'vitest';
import type { IngressSpec } from '../../common/ingress.ts';
import type { ServiceSpec } from '../../common/service.ts';
import { ingressRuleRoutes, serviceHostRoutes, toMapRoutes } from './ingress-routes.ts';

const spec = (ports: { name?: string; port: number }[], hosts: string[] = []): ServiceSpec => ({
  selector: { app: 'x' },
  ports: ports.map((p) => ({ ...p, targetPort: p.port, protocol: 'TCP' as const })),
  hosts,
});
const rule = (
  path: string,
  service: string,
  port: { number?: number; name?: string },
  pathType = 'Prefix',
) => ({
  path,
  pathType: pathType as IngressSpec['rules'][number]['http']['paths'][number]['pathType'],
  backend: { service: { name: service, port } },
});

describe('the ingress routing table', () => {
  const services = new Map([
    [
      'shop/web',
      {
        namespace: 'shop',
        name: 'web',
        spec: spec([
          { name: 'http', port: 80 },
          { name: 'admin', port: 9000 },
        ]),
      },
    ],
  ]);
  const ingress = {
    namespace: 'shop',
    name: 'front',
    spec: {
      rules: [
        {
          host: 'shop.test',
          http: {
            paths: [
              rule('/', 'web', { number: 80 }),
              rule('/admin', 'web', { name: 'admin' }, 'ImplementationSpecific'),
              rule('/x', 'web', { number: 81 }),
              rule('/y', 'gone', { number: 80 }),
            ],
          },
        },
      ],
    } satisfies IngressSpec,
  };

  it("resolves each backend to its service's port, and says why one cannot be", () => {
    const routes = ingressRuleRoutes([ingress], services);
    expect(routes.map((r) => [r.path, r.pathType, r.value.port, r.value.refusal?.detail])).toEqual([
      ['/', 'Prefix', 80, undefined],
      ['/admin', 'Prefix', 9000, undefined],
      ['/x', 'Prefix', undefined, 'service "shop/web" has no port 81 (ingress "front")'],
      ['/y', 'Prefix', undefined, 'service "shop/gone" (of ingress "front") not found'],
    ]);
  });

  it('gives nodes only the routes that reach a service, service hosts as / Prefix to the main port', () => {
    const hosts = serviceHostRoutes([
      { namespace: 'blog', name: 'blog', hosts: ['blog.test', '*.blog.test'], spec: spec([{ port: 8080 }]) },
    ]);
    expect(toMapRoutes([...ingressRuleRoutes([ingress], services), ...hosts])).toEqual([
      { host: 'shop.test', path: '/', pathType: 'Prefix', namespace: 'shop', service: 'web', port: 80 },
      {
        host: 'shop.test',
        path: '/admin',
        pathType: 'Prefix',
        namespace: 'shop',
        service: 'web',
        port: 9000,
      },
      { host: 'blog.test', path: '/', pathType: 'Prefix', namespace: 'blog', service: 'blog', port: 8080 },
      { host: '*.blog.test', path: '/', pathType: 'Prefix', namespace: 'blog', service: 'blog', port: 8080 },
    ]);
  });
});
