import { describe, expect, it } from 'vitest';
import { zodFieldErrors } from './manifest.ts';
import { ServiceInput, ServiceSpec } from './service.ts';

describe('ServiceSpec', () => {
  it('fills targetPort from port and protocol with TCP', () => {
    expect(
      ServiceSpec.parse({
        selector: { app: 'web' },
        ports: [{ port: 80 }, { name: 'admin', port: 81, targetPort: 'admin' }],
      }),
    ).toEqual({
      selector: { app: 'web' },
      ports: [
        { port: 80, targetPort: 80, protocol: 'TCP' },
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
});
