import { describe, expect, it } from 'vitest';
import { normalizeManifests, parseManifestText } from './manifest.ts';

/** Ingress manifests as written for kubectl: what Berth routes applies, the rest is a 422 at its path. */

const normalize = (text: string) => normalizeManifests(parseManifestText(text, 'yaml'));
const ingress = (spec: string, metadata = '') => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web${metadata}
spec:
${spec}`;
const RULES = `  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
      - path: /api
        pathType: ImplementationSpecific
        backend:
          service:
            name: api
            port:
              name: http
`;

describe('networking.k8s.io/v1 Ingress', () => {
  it('applies host and path rules to service ports by number or name, with any annotations', () => {
    const { objects, issues } = normalize(
      ingress(
        `  ingressClassName: berth\n${RULES}`,
        '\n  annotations:\n    nginx.ingress.kubernetes.io/ssl-redirect: "false"',
      ),
    );
    expect(issues).toEqual([]);
    expect(objects).toMatchObject([
      {
        kind: 'Ingress',
        name: 'web',
        annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' },
        spec: {
          ingressClassName: 'berth',
          rules: [
            {
              host: 'shop.example.com',
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                  {
                    path: '/api',
                    pathType: 'ImplementationSpecific',
                    backend: { service: { name: 'api', port: { name: 'http' } } },
                  },
                ],
              },
            },
          ],
        },
      },
    ]);
  });

  it('takes a kubernetes.io/tls Secret for its hosts', () => {
    expect(
      normalize(ingress(`  tls:\n  - hosts: [shop.example.com]\n    secretName: shop-tls\n${RULES}`)).issues,
    ).toEqual([]);
  });

  it('takes the berth.dev/v1 form too', () => {
    expect(normalize(ingress(RULES).replace('networking.k8s.io/v1', 'berth.dev/v1')).issues).toEqual([]);
  });

  it('refuses what it cannot route, each at its path', () => {
    const cases: [string, string, string][] = [
      [`  ingressClassName: nginx\n${RULES}`, 'spec.ingressClassName', '"nginx" is not served by Berth'],
      [
        `  tls:\n  - hosts: [blog.example.com]\n    secretName: tls\n${RULES}`,
        'spec.tls[0].hosts[0]',
        'is not the host of any rule',
      ],
      [
        `  tls:\n  - hosts: ['*.example.com']\n    secretName: tls\n${RULES}`,
        'spec.tls[0].hosts[0]',
        // A wildcard is served from a Secret like any host, when a rule names it.
        'is not the host of any rule',
      ],
      [`  tls:\n  - secretName: tls\n${RULES}`, 'spec.tls[0].hosts', 'is required'],
      [
        `  defaultBackend:\n    service: {name: web, port: {number: 80}}\n${RULES}`,
        'spec.defaultBackend',
        'would take every host name',
      ],
      [
        RULES.replace('  - host: shop.example.com\n    http:', '  - http:'),
        'spec.rules[0].host',
        'is required',
      ],
      [RULES.replace('shop.example.com', '10.0.0.1'), 'spec.rules[0].host', 'not an IP address'],
      [RULES.replace('shop.example.com', 'Shop.example.com'), 'spec.rules[0].host', 'lowercase hostname'],
      [RULES.replace('path: /api', 'path: api'), 'spec.rules[0].http.paths[1].path', 'absolute path'],
      [
        RULES.replace('path: /api', 'path: /api(/|$)(.*)'),
        'spec.rules[0].http.paths[1].path',
        'regular expressions are not supported',
      ],
      [
        RULES.replace('pathType: Prefix', 'pathType: Regex'),
        'spec.rules[0].http.paths[0].pathType',
        'must be one of',
      ],
      [
        RULES.replace('number: 80', 'number: 80\n              name: http'),
        'spec.rules[0].http.paths[0].backend.service.port',
        'exactly one',
      ],
      [RULES.replace('path: /api', 'path: /'), 'spec.rules[0].http.paths[1].path', 'duplicate path "/"'],
      [
        RULES.replace(
          '          service:\n            name: web\n            port:\n              number: 80\n',
          '          resource: {kind: Bucket, name: b}\n',
        ),
        'spec.rules[0].http.paths[0].backend.resource',
        'a backend is a service',
      ],
    ];
    for (const [spec, path, message] of cases) {
      const { issues, objects } = normalize(ingress(spec));
      expect(objects, path).toEqual([]);
      expect(
        issues.map((i) => i.path),
        spec,
      ).toContain(path);
      expect(issues.find((i) => i.path === path)?.message).toContain(message);
    }
  });

  it('reads the legacy class annotation as ingressClassName', () => {
    const { issues } = normalize(ingress(RULES, '\n  annotations:\n    kubernetes.io/ingress.class: nginx'));
    expect(issues.map((i) => i.path)).toEqual(['metadata.annotations["kubernetes.io/ingress.class"]']);
    expect(
      normalize(ingress(RULES, '\n  annotations:\n    kubernetes.io/ingress.class: berth')).issues,
    ).toEqual([]);
  });

  it('drops what the server writes (status, creationTimestamp) as kubectl get -o yaml prints it', () => {
    const text = `${ingress(RULES, '\n  creationTimestamp: "2024-01-01T00:00:00Z"')}status:\n  loadBalancer: {}\n`;
    expect(normalize(text).issues).toEqual([]);
  });
});
