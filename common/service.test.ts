import { describe, expect, it } from 'vitest';
import { zodFieldErrors } from './manifest.ts';
import { NamespacePolicySpec, serviceTrafficFrom } from './policy.ts';
import { affinitySeconds, ServiceInput, ServiceSpec } from './service.ts';

describe('ServiceSpec', () => {
  it('fills targetPort from port and protocol with TCP', () => {
    expect(
      ServiceSpec.parse({
        selector: { app: 'web' },
        ports: [
          { name: 'web', port: 80 },
          { name: 'admin', port: 81, targetPort: 'admin' },
        ],
      }),
    ).toEqual({
      selector: { app: 'web' },
      ports: [
        { name: 'web', port: 80, targetPort: 80, protocol: 'TCP' },
        { name: 'admin', port: 81, targetPort: 'admin', protocol: 'TCP' },
      ],
      hosts: [],
    });
  });

  it('rejects an empty selector, no ports and out-of-range ports', () => {
    const result = ServiceSpec.safeParse({ selector: {}, ports: [] });
    expect(zodFieldErrors(result.error!).map((e) => e.path)).toEqual(['selector', 'ports']);
    const ports = ServiceSpec.safeParse({ selector: { a: 'b' }, ports: [{ port: 0, targetPort: 70000 }] });
    expect(zodFieldErrors(ports.error!).map((e) => e.path)).toEqual(['ports[0].port', 'ports[0].targetPort']);
  });

  it('rejects a targetPort name that is not an IANA service name', () => {
    for (const name of ['HTTP', 'a-very-long-port-name', '8080x-', '123']) {
      expect(
        ServiceSpec.safeParse({ selector: { a: 'b' }, ports: [{ port: 80, targetPort: name }] }).success,
      ).toBe(false);
    }
  });

  it('is strict', () => {
    const result = ServiceInput.safeParse({
      metadata: { name: 'w' },
      spec: { selector: { a: 'b' }, ports: [{ port: 1 }], tls: true },
    });
    expect(zodFieldErrors(result.error!)).toEqual([{ path: 'spec.tls', message: 'unknown field "tls"' }]);
  });

  const paths = (spec: unknown) => {
    const result = ServiceSpec.safeParse(spec);
    return result.success ? [] : zodFieldErrors(result.error).map((e) => e.path);
  };
  const base = { selector: { app: 'web' }, ports: [{ port: 80 }] };

  it('requires a name on each of several ports, and refuses a (port, protocol) pair twice', () => {
    expect(paths({ selector: { a: 'b' }, ports: [{ port: 80 }, { name: 'b', port: 81 }] })).toEqual([
      'ports[0].name',
    ]);
    expect(
      paths({
        selector: { a: 'b' },
        ports: [
          { name: 'a', port: 53 },
          { name: 'b', port: 53 },
        ],
      }),
    ).toEqual(['ports[1].port']);
    expect(
      paths({
        selector: { a: 'b' },
        ports: [
          { name: 'a', port: 53, protocol: 'UDP' },
          { name: 'b', port: 53 },
        ],
      }),
    ).toEqual([]);
  });

  it('keeps the 15-character IANA rule for a targetPort by name', () => {
    expect(
      paths({ selector: { a: 'b' }, ports: [{ name: 'a-service-port-name-of-40-characters', port: 80 }] }),
    ).toEqual([]);
    expect(paths({ selector: { a: 'b' }, ports: [{ port: 80, targetPort: 'sixteen-chars-xx' }] })).toEqual([
      'ports[0].targetPort',
    ]);
  });

  it('checks the fields of each type', () => {
    expect(paths({ ...base, type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).toEqual([]);
    expect(paths({ ...base, type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] })).toEqual([]);
    expect(paths({ ...base, ports: [{ port: 80, nodePort: 30080 }] })).toEqual(['ports[0].nodePort']);
    expect(paths({ ...base, type: 'ClusterIP', ports: [{ port: 80, nodePort: 30080 }] })).toEqual([
      'ports[0].nodePort',
    ]);
    expect(paths({ ...base, type: 'NodePort', ports: [{ port: 80, nodePort: 70000 }] })).toEqual([
      'ports[0].nodePort',
    ]);
    expect(paths({ ...base, type: 'LoadBalancer', clusterIP: 'None' })).toEqual(['clusterIP']);
    expect(paths({ ...base, clusterIP: '10.96.0.300' })).toEqual(['clusterIP']);
    expect(paths({ ...base, clusterIP: 'None' })).toEqual([]);
    expect(paths({ ...base, externalName: 'db.example.com' })).toEqual(['externalName']);
    expect(paths({ type: 'ExternalName', externalName: 'db.example.com.' })).toEqual([]);
    expect(paths({ type: 'ExternalName', externalName: '10.0.0.1' })).toEqual(['externalName']);
    expect(paths({ type: 'ExternalName', externalName: 'Db.example.com' })).toEqual(['externalName']);
    expect(
      paths({
        type: 'ExternalName',
        externalName: 'db.example.com',
        clusterIP: '10.96.0.1',
        selector: { a: 'b' },
      }),
    ).toEqual(['clusterIP', 'selector']);
    expect(paths({ type: 'ExternalName' })).toEqual(['externalName']);
    expect(paths({ ports: [{ port: 80 }] })).toEqual(['selector']);
  });

  it('reads ClientIP affinity with its default timeout', () => {
    expect(affinitySeconds(ServiceSpec.parse({ ...base, sessionAffinity: 'ClientIP' }))).toBe(10800);
    expect(
      affinitySeconds(
        ServiceSpec.parse({
          ...base,
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } },
        }),
      ),
    ).toBe(5);
    expect(affinitySeconds(ServiceSpec.parse(base))).toBeUndefined();
    expect(
      paths({
        ...base,
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
      }),
    ).toEqual(['sessionAffinityConfig.clientIP.timeoutSeconds']);
  });

  it('needs a TCP port for hosts (the ingress speaks HTTP)', () => {
    expect(paths({ ...base, ports: [{ port: 53, protocol: 'UDP' }], hosts: ['dns.example.com'] })).toEqual([
      'hosts',
    ]);
    expect(
      paths({
        ...base,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'web', port: 80 },
        ],
        hosts: ['dns.example.com'],
      }),
    ).toEqual([]);
  });

  it('leaves a spec without the new fields as it was stored', () => {
    expect(ServiceSpec.parse(base)).toEqual({
      selector: { app: 'web' },
      ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }],
      hosts: [],
    });
  });
});

describe('acceptServiceTrafficFrom', () => {
  it('is optional (stored policies read the same), takes names or *, and reads as the namespaces besides its own', () => {
    expect(NamespacePolicySpec.parse({})).not.toHaveProperty('acceptServiceTrafficFrom');
    expect(serviceTrafficFrom(NamespacePolicySpec.parse({}), 'shop')).toBeUndefined();
    const some = NamespacePolicySpec.parse({ acceptServiceTrafficFrom: ['web', 'shop', 'jobs'] });
    expect(serviceTrafficFrom(some, 'shop')).toEqual(['jobs', 'web']);
    expect(serviceTrafficFrom(NamespacePolicySpec.parse({ acceptServiceTrafficFrom: [] }), 'shop')).toEqual(
      [],
    );
    const bad = NamespacePolicySpec.safeParse({ acceptServiceTrafficFrom: ['Bad_NS'] });
    expect(zodFieldErrors(bad.error!).map((e) => e.path)).toEqual(['acceptServiceTrafficFrom[0]']);
  });
});
