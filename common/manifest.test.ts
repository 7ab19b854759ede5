import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssignedProbe, DeploymentInput } from './deployment.ts';
import {
  issuePath,
  MAX_DOCUMENTS,
  type ManifestObject,
  ManifestSyntaxError,
  normalizeManifests,
  parseManifestText,
  zodFieldErrors,
} from './manifest.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../test/fixtures/manifests/${name}`, import.meta.url), 'utf8');

function apply(text: string, format: 'yaml' | 'json' = 'yaml') {
  return normalizeManifests(parseManifestText(text, format));
}

function only(text: string): ManifestObject {
  const { objects, issues } = apply(text);
  expect(issues).toEqual([]);
  expect(objects).toHaveLength(1);
  return objects[0]!;
}

function issuesOf(text: string) {
  const { objects, issues } = apply(text);
  expect(objects).toEqual([]);
  return issues;
}

const k8sDeployment = (podSpecExtra = '', containerExtra = '', specExtra = '') => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}${specExtra}
  template:
    metadata:
      labels: {app: web}
    spec:${podSpecExtra}
      containers:
      - name: web
        image: web:1${containerExtra}
`;

describe('issuePath', () => {
  it('renders zod paths as JSON paths', () => {
    expect(issuePath(['spec', 'template', 'spec', 'containers', 0, 'image'])).toBe(
      'spec.template.spec.containers[0].image',
    );
    expect(issuePath([])).toBe('');
    expect(issuePath([3, 'a'])).toBe('[3].a');
    expect(issuePath(['metadata', 'annotations', 'berth.dev/hosts'])).toBe(
      'metadata.annotations["berth.dev/hosts"]',
    );
    expect(issuePath(['resources', 'limits', 'ephemeral-storage'])).toBe(
      'resources.limits.ephemeral-storage',
    );
    expect(issuePath(['a b', '1x'])).toBe('["a b"]["1x"]');
  });
});

describe('zodFieldErrors', () => {
  it('gives one entry per unrecognized key, with the key in the path', () => {
    const result = DeploymentInput.safeParse({
      metadata: { name: 'web' },
      spec: { foo: 1, bar: 2, template: { spec: { containers: [{ name: 'web', image: 'x' }] } } },
    });
    expect(result.success).toBe(false);
    expect(zodFieldErrors(result.error!)).toEqual([
      { path: 'spec.foo', message: 'unknown field "foo"' },
      { path: 'spec.bar', message: 'unknown field "bar"' },
    ]);
  });

  it('says "is required" for a missing field and keeps a prefix', () => {
    const result = DeploymentInput.safeParse({ spec: {} });
    expect(zodFieldErrors(result.error!, ['items', 2])).toEqual([
      { path: 'items[2].spec.template', message: 'is required' },
    ]);
  });

  it('explains the union branch that matched the type rather than "Invalid input"', () => {
    const result = DeploymentInput.safeParse({
      spec: {
        template: {
          spec: {
            containers: [{ name: 'web', image: 'x', readinessProbe: { tcpSocket: { port: 'Not A Name' } } }],
          },
        },
      },
    });
    const errors = zodFieldErrors(result.error!);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('spec.template.spec.containers[0].readinessProbe.tcpSocket.port');
    expect(errors[0]!.message).toMatch(/DNS-1123/);
  });
});

describe('parseManifestText', () => {
  it('splits YAML documents and skips empty ones', () => {
    const docs = parseManifestText('---\n---\n# only a comment\n---\na: 1\n---\n~\n---\nb: 2\n', 'yaml');
    expect(docs).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('takes a JSON object or a JSON array', () => {
    expect(parseManifestText('{"a":1}', 'json')).toEqual([{ a: 1 }]);
    expect(parseManifestText('[{"a":1},{"b":2}]', 'json')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('accepts JSON sent as YAML (YAML 1.2 is a superset)', () => {
    expect(parseManifestText('{"a": [1, "x"]}', 'yaml')).toEqual([{ a: [1, 'x'] }]);
  });

  it('keeps YAML 1.2 scalars: yes/on stay strings, dates stay strings', () => {
    expect(parseManifestText('a: yes\nb: on\nc: 2024-01-01\nd: "80"\ne: 0x10\n', 'yaml')).toEqual([
      { a: 'yes', b: 'on', c: '2024-01-01', d: '80', e: 16 },
    ]);
  });

  it('allows a few aliases', () => {
    expect(parseManifestText('a: &x [1]\nb: *x\n', 'yaml')).toEqual([{ a: [1], b: [1] }]);
  });

  it('reads __proto__ as a plain key, never as a prototype', () => {
    const [doc] = parseManifestText('__proto__: {polluted: true}\n', 'yaml') as [Record<string, unknown>];
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  const bad: [string, string, 'yaml' | 'json', RegExp, number?][] = [
    ['unclosed flow sequence', 'a: [1,\n', 'yaml', /invalid YAML/, 2],
    ['tab indentation', 'a: b\n\tc: d\n', 'yaml', /Tabs are not allowed/, 2],
    ['duplicate keys', 'a: 1\na: 2\n', 'yaml', /unique/, 2],
    ['a js/function tag', 'a: !!js/function "function(){}"\n', 'yaml', /Unresolved tag|not allowed/, 1],
    ['a custom local tag', 'a: !shell "rm -rf /"\n', 'yaml', /Unresolved tag|not allowed/, 1],
    ['a binary tag', 'a: !!binary aGVsbG8=\n', 'yaml', /tag tag:yaml.org,2002:binary is not allowed/, 1],
    ['a set tag', 'a: !!set {x}\n', 'yaml', /not allowed/, 1],
    ['a collection as a key', '? [a, b]\n: 1\n', 'yaml', /mapping key/, 1],
    ['nothing at all', '', 'yaml', /no documents/],
    ['only separators', '---\n---\n', 'yaml', /no documents/],
    ['an empty JSON array', '[]', 'json', /no documents/],
    ['malformed JSON', '{"a": 1,\n "b": }', 'json', /invalid JSON/],
    ['YAML given as JSON', 'a: 1', 'json', /invalid JSON/],
  ];
  for (const [name, text, format, message, line] of bad) {
    it(`rejects ${name}`, () => {
      let error: unknown;
      try {
        parseManifestText(text, format);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ManifestSyntaxError);
      expect((error as ManifestSyntaxError).message).toMatch(message);
      if (line !== undefined) expect((error as ManifestSyntaxError).line).toBe(line);
    });
  }

  it('rejects alias bombs (billion laughs)', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    expect(() => parseManifestText(`${lines.join('\n')}\n`, 'yaml')).toThrow(/aliases/);
  });

  it('rejects more than 100 documents, in YAML and in JSON', () => {
    const yaml = Array.from({ length: MAX_DOCUMENTS + 1 }, (_, i) => `n: ${i}`).join('\n---\n');
    expect(() => parseManifestText(yaml, 'yaml')).toThrow(/too many documents/);
    expect(
      parseManifestText(Array.from({ length: MAX_DOCUMENTS }, () => 'n: 1').join('\n---\n'), 'yaml'),
    ).toHaveLength(MAX_DOCUMENTS);
    const json = JSON.stringify(Array.from({ length: MAX_DOCUMENTS + 1 }, () => ({})));
    expect(() => parseManifestText(json, 'json')).toThrow(/too many documents/);
  });

  it('reports which document a syntax error is in', () => {
    try {
      parseManifestText('a: 1\n---\nb: 1\n---\nc: [\n', 'yaml');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ManifestSyntaxError);
      expect((e as ManifestSyntaxError).document).toBe(2);
    }
  });
});

describe('normalizeManifests: Kubernetes Deployments', () => {
  it('applies the classic quick-start unchanged', () => {
    const object = only(fixture('quick-start.yaml'));
    expect(object).toMatchObject({ kind: 'Deployment', name: 'flask-app', labels: {}, namespace: undefined });
    if (object.kind !== 'Deployment') throw new Error('kind');
    expect(object.spec.replicas).toBe(3);
    expect(object.spec.selector).toEqual({ matchLabels: { app: 'flask-app' } });
    expect(object.spec.template.metadata.labels).toEqual({ app: 'flask-app' });
    expect(object.spec.template.spec.containers).toEqual([
      {
        name: 'flask-app',
        image: 'your-docker-image',
        env: [],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: {},
      },
    ]);
    expect(object.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
  });

  it('round-trips `kubectl get deployment -o yaml` output', () => {
    const object = only(fixture('kubectl-get-deployment.yaml'));
    if (object.kind !== 'Deployment') throw new Error('kind');
    // The Kubernetes resourceVersion means nothing to Berth and would only cause a 409.
    expect(object).toMatchObject({
      name: 'nginx-deployment',
      namespace: 'default',
      labels: { app: 'nginx' },
    });
    expect(object.resourceVersion).toBeUndefined();
    const [container] = object.spec.template.spec.containers;
    expect(container).toMatchObject({
      image: 'nginx:1.14.2',
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
      resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      ],
    });
    expect(container!.readinessProbe).toMatchObject({ httpGet: { path: '/', port: 'http', scheme: 'HTTP' } });
    expect(object.spec.template.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(object.spec.template.spec.terminationGracePeriodSeconds).toBe(30);
  });

  it('gives the same spec for the Kubernetes and the berth.dev/v1 form', () => {
    const k8s = only(k8sDeployment());
    const berth = only(`
apiVersion: berth.dev/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
`);
    // Only the Kubernetes form says Kubernetes would mount a token (its account decides).
    expect(k8s).toEqual({ ...berth, serviceAccountToken: 'account' });
  });

  const unsupported: [string, string, string, RegExp?][] = [
    [
      'a csi volume',
      k8sDeployment('\n      volumes: [{name: data, csi: {driver: x}}]'),
      'spec.template.spec.volumes[0].csi',
    ],
    [
      'ephemeralContainers',
      k8sDeployment('\n      ephemeralContainers: [{name: i, image: x}]'),
      'spec.template.spec.ephemeralContainers',
    ],
    [
      'a pod affinity term over other namespaces',
      k8sDeployment(
        '\n      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, namespaceSelector: {}}]}}',
      ),
      'spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector',
      /own namespace/,
    ],
    [
      'topologySpreadConstraints minDomains',
      k8sDeployment(
        '\n      topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, minDomains: 3}]',
      ),
      'spec.template.spec.topologySpreadConstraints[0].minDomains',
    ],
    [
      'pod securityContext sysctls',
      k8sDeployment('\n      securityContext: {runAsUser: 1000, sysctls: [{name: a, value: b}]}'),
      'spec.template.spec.securityContext.sysctls',
    ],
    ['hostNetwork: true', k8sDeployment('\n      hostNetwork: true'), 'spec.template.spec.hostNetwork'],
    [
      'dnsPolicy: None',
      k8sDeployment('\n      dnsPolicy: None'),
      'spec.template.spec.dnsPolicy',
      /ClusterFirst/,
    ],
    ['nodeName', k8sDeployment('\n      nodeName: n1'), 'spec.template.spec.nodeName', /berth.dev\/node/],
    [
      'priorityClassName',
      k8sDeployment('\n      priorityClassName: high'),
      'spec.template.spec.priorityClassName',
    ],
    [
      'volumeMounts[].mountPropagation',
      k8sDeployment(
        '\n      volumes: [{name: d, emptyDir: {}}]',
        '\n        volumeMounts: [{name: d, mountPath: /d, mountPropagation: HostToContainer}]',
      ),
      'spec.template.spec.containers[0].volumeMounts[0].mountPropagation',
    ],
    [
      'container securityContext procMount',
      k8sDeployment('', '\n        securityContext: {procMount: Unmasked}'),
      'spec.template.spec.containers[0].securityContext.procMount',
    ],
    ['tty: true', k8sDeployment('', '\n        tty: true'), 'spec.template.spec.containers[0].tty'],
    [
      'a custom terminationMessagePath',
      k8sDeployment('', '\n        terminationMessagePath: /tmp/x'),
      'spec.template.spec.containers[0].terminationMessagePath',
    ],
    [
      'resources.claims',
      k8sDeployment('', '\n        resources: {claims: [{name: gpu}]}'),
      'spec.template.spec.containers[0].resources.claims',
    ],
    [
      'a huge-pages resource',
      k8sDeployment('', '\n        resources: {limits: {hugepages-2Mi: 4Mi}}'),
      'spec.template.spec.containers[0].resources.limits.hugepages-2Mi',
      /only cpu, memory, ephemeral-storage and extended resources/,
    ],
    [
      'an ephemeral-storage limit',
      k8sDeployment('', '\n        resources: {limits: {ephemeral-storage: 1Gi}}'),
      'spec.template.spec.containers[0].resources.limits.ephemeral-storage',
      /could not be enforced/,
    ],
    [
      'ports[].hostIP',
      k8sDeployment('', '\n        ports: [{containerPort: 80, hostIP: 0.0.0.0}]'),
      'spec.template.spec.containers[0].ports[0].hostIP',
    ],
    [
      'selector.matchExpressions',
      k8sDeployment('', '', '\n    matchExpressions: [{key: tier, operator: In, values: [web]}]'),
      'spec.selector.matchExpressions',
      /matchLabels/,
    ],
  ];
  for (const [name, text, path, hint] of unsupported) {
    it(`rejects ${name} at ${path}`, () => {
      const issues = issuesOf(text);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({ document: 0, path });
      const match = /(?:\["([^"]+)"\]|\.([^.[\]]+))$/.exec(path)!;
      const key = match[1] ?? match[2]!;
      expect(issues[0]!.message).toMatch(
        new RegExp(`^${key.replace(/\./g, '\\.')} is not supported by Berth`),
      );
      if (hint) expect(issues[0]!.message).toMatch(hint);
    });
  }

  it('leaves a hostPath volume to the namespace policy (the server refuses it where none allows it)', () => {
    const o = only(k8sDeployment('\n      volumes: [{name: data, hostPath: {path: /srv}}]'));
    expect(o.kind === 'Deployment' && o.spec.template.spec.volumes).toEqual([
      { name: 'data', hostPath: { path: '/srv' } },
    ]);
  });

  it('accepts and ignores fields whose value is the Kubernetes default', () => {
    const text = k8sDeployment(
      '\n      dnsPolicy: ClusterFirst\n      schedulerName: default-scheduler\n      securityContext: {}\n      hostNetwork: false\n      volumes: []\n      tolerations: null',
      '\n        terminationMessagePath: /dev/termination-log\n        terminationMessagePolicy: File\n        tty: false\n        stdin: false\n        volumeMounts: []\n        command: null',
      '\n    matchExpressions: []',
    );
    expect(only(text)).toEqual(only(k8sDeployment()));
  });

  it('reports every unsupported field of one document, and no object for it', () => {
    const issues = issuesOf(
      k8sDeployment(
        '\n      volumes: [{name: d, nfs: {server: n, path: /d}}]\n      hostPID: true',
        '\n        volumeMounts: [{name: d, mountPath: /d, subPathExpr: $(POD)}]',
      ),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'spec.template.spec.containers[0].volumeMounts[0].subPathExpr',
      'spec.template.spec.hostPID',
      'spec.template.spec.volumes[0].nfs',
    ]);
  });

  it('reports a typo as an unknown field, not as unsupported', () => {
    const issues = issuesOf(k8sDeployment().replace('  selector:', '  replica: 3\n  selector:'));
    expect(issues.some((i) => i.path === 'spec.replica' && i.message === 'unknown field "replica"')).toBe(
      true,
    );
  });

  it('requires selector.matchLabels to match the template labels', () => {
    const text = k8sDeployment().replace('matchLabels: {app: web}', 'matchLabels: {app: api}');
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'spec.selector.matchLabels.app' });
    expect(issues[0]!.message).toMatch(/does not match template labels/);
  });

  it('reports type and range errors with their paths', () => {
    const text = k8sDeployment('', '\n        ports: [{containerPort: 70000}]').replace(
      '  selector:',
      '  replicas: three\n  selector:',
    );
    const paths = issuesOf(text).map((i) => i.path);
    expect(paths).toContain('spec.replicas');
    expect(paths).toContain('spec.template.spec.containers[0].ports[0].containerPort');
  });

  it('ignores the Kubernetes resourceVersion but keeps a Berth one', () => {
    const k8s = only(k8sDeployment().replace('  name: web', '  name: web\n  resourceVersion: "99"'));
    expect(k8s.kind === 'Deployment' && k8s.resourceVersion).toBeUndefined();
    const berth = only(
      k8sDeployment()
        .replace('apps/v1', 'berth.dev/v1')
        .replace('  name: web', '  name: web\n  resourceVersion: "99"'),
    );
    expect(berth.kind === 'Deployment' && berth.resourceVersion).toBe('99');
  });

  it('uses metadata.namespace', () => {
    expect(only(k8sDeployment().replace('  name: web', '  name: web\n  namespace: prod')).namespace).toBe(
      'prod',
    );
  });

  it('requires a name, and a valid one', () => {
    expect(issuesOf(k8sDeployment().replace('  name: web\n', '  labels: {}\n'))).toEqual([
      { document: 0, path: 'metadata.name', message: 'is required' },
    ]);
    expect(issuesOf(k8sDeployment().replace('  name: web\n', '  name: Web_App\n'))[0]!.path).toBe(
      'metadata.name',
    );
    expect(issuesOf(k8sDeployment().replace('  name: web\n', '  generateName: web-\n'))[0]).toMatchObject({
      path: 'metadata.generateName',
    });
  });
});

describe('normalizeManifests: enableServiceLinks', () => {
  it("keeps false, and takes out true (Kubernetes' default, the same as absent)", () => {
    const off = only(k8sDeployment('\n      enableServiceLinks: false'));
    expect(off.kind === 'Deployment' && off.spec.template.spec.enableServiceLinks).toBe(false);
    const on = only(k8sDeployment('\n      enableServiceLinks: true'));
    expect(on.kind === 'Deployment' && 'enableServiceLinks' in on.spec.template.spec).toBe(false);
    const absent = only(k8sDeployment());
    expect(absent.kind === 'Deployment' && 'enableServiceLinks' in absent.spec.template.spec).toBe(false);
  });
});

describe('normalizeManifests: Services', () => {
  it('reads a berth.dev/v1 Service and defaults targetPort to port', () => {
    const object = only(`
apiVersion: berth.dev/v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
  hosts: [web.example.com]
`);
    expect(object).toEqual({
      kind: 'Service',
      name: 'web',
      namespace: undefined,
      labels: {},
      annotations: {},
      resourceVersion: undefined,
      spec: {
        selector: { app: 'web' },
        ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }],
        hosts: ['web.example.com'],
      },
    });
  });

  it('round-trips `kubectl get services -o yaml` (a List, ClusterIP and LoadBalancer)', () => {
    const { objects, issues } = apply(fixture('kubectl-get-services.yaml'));
    expect(issues).toEqual([]);
    expect(objects).toEqual([
      {
        kind: 'Service',
        name: 'web',
        namespace: 'default',
        labels: { app: 'web' },
        annotations: { 'berth.dev/hosts': 'web.example.com,www.example.com' },
        resourceVersion: undefined,
        spec: {
          clusterIP: '10.96.12.34',
          selector: { app: 'web' },
          ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
          hosts: ['web.example.com', 'www.example.com'],
        },
      },
      {
        kind: 'Service',
        name: 'web-lb',
        namespace: 'default',
        labels: {},
        annotations: {},
        resourceVersion: undefined,
        spec: {
          type: 'LoadBalancer',
          clusterIP: '10.96.12.35',
          selector: { app: 'web' },
          ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 31234 }],
          hosts: [],
        },
      },
    ]);
  });

  const k8sService = (specExtra = '', annotations = '') => `
apiVersion: v1
kind: Service
metadata:
  name: web${annotations}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080${specExtra}
`;

  it('reads hosts from the berth.dev/hosts annotation', () => {
    const object = only(
      k8sService('', '\n  annotations:\n    berth.dev/hosts: " a.example.com , *.b.example.com,"'),
    );
    expect(object.kind === 'Service' && object.spec.hosts).toEqual(['a.example.com', '*.b.example.com']);
  });

  it('reads the Secret served for its hosts from the berth.dev/tls-secret annotation, and points errors there', () => {
    const object = only(
      k8sService(
        '',
        '\n  annotations:\n    berth.dev/hosts: a.example.com\n    berth.dev/tls-secret: web-tls',
      ),
    );
    expect(object.kind === 'Service' && object.spec.tlsSecretName).toBe('web-tls');
    expect(issuesOf(k8sService('', '\n  annotations:\n    berth.dev/tls-secret: web-tls'))).toEqual([
      {
        document: 0,
        path: 'metadata.annotations["berth.dev/tls-secret"]',
        message: "needs hosts: the Secret is served for the service's hosts",
      },
    ]);
  });

  it('points a bad host at the annotation', () => {
    expect(issuesOf(k8sService('', '\n  annotations:\n    berth.dev/hosts: a.example.com,Bad_Host'))).toEqual(
      [
        {
          document: 0,
          path: 'metadata.annotations["berth.dev/hosts"]',
          message: expect.stringMatching(/^"Bad_Host" must be a lowercase hostname/),
        },
      ],
    );
  });

  const good: [string, string, Record<string, unknown>][] = [
    ['type NodePort', '\n  type: NodePort', { type: 'NodePort' }],
    ['a headless service', '\n  clusterIP: None', { clusterIP: 'None' }],
    [
      'a clusterIP given twice',
      '\n  clusterIP: 10.96.0.9\n  clusterIPs: [10.96.0.9]',
      { clusterIP: '10.96.0.9' },
    ],
    ['clusterIPs alone', '\n  clusterIPs: [10.96.0.9]', { clusterIP: '10.96.0.9' }],
    [
      'sessionAffinity ClientIP',
      '\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}',
      { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
    ],
    [
      'the defaults written out',
      '\n  sessionAffinity: None\n  type: ClusterIP\n  externalTrafficPolicy: Cluster',
      {},
    ],
  ];
  for (const [name, extra, fields] of good) {
    it(`accepts ${name}`, () => {
      const object = only(k8sService(extra));
      expect(object.kind === 'Service' && object.spec).toEqual({
        selector: { app: 'web' },
        ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
        hosts: [],
        ...fields,
      });
    });
  }

  it('accepts UDP, and one port number on TCP and UDP (a DNS server)', () => {
    const object = only(`
apiVersion: v1
kind: Service
metadata: {name: dns}
spec:
  selector: {app: dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
`);
    expect(object.kind === 'Service' && object.spec.ports.map((p) => `${p.port}/${p.protocol}`)).toEqual([
      '53/UDP',
      '53/TCP',
    ]);
  });

  it('accepts an ExternalName service without selector or ports', () => {
    const object = only(
      'apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {type: ExternalName, externalName: db.example.com}\n',
    );
    expect(object.kind === 'Service' && object.spec).toEqual({
      type: 'ExternalName',
      externalName: 'db.example.com',
      ports: [],
      hosts: [],
    });
  });

  it('accepts the port names kubectl create service writes (80-8080)', () => {
    const object = only(k8sService('\n    name: 80-8080'));
    expect(object.kind === 'Service' && object.spec.ports[0]?.name).toBe('80-8080');
  });

  const bad: [string, string, string, RegExp][] = [
    ['type Foo', '\n  type: Foo', 'spec.type', /must be ClusterIP, NodePort, LoadBalancer or ExternalName/],
    ['externalName on a ClusterIP service', '\n  externalName: a.example.com', 'spec.externalName', /only/],
    ['an IPv6 clusterIP', '\n  clusterIP: fd00::1', 'spec.clusterIP', /IPv4/],
    [
      'clusterIPs unlike clusterIP',
      '\n  clusterIP: 10.96.0.9\n  clusterIPs: [10.96.0.8]',
      'spec.clusterIPs',
      /\[clusterIP\]/,
    ],
    ['a headless NodePort', '\n  type: NodePort\n  clusterIP: None', 'spec.clusterIP', /None/],
    ['SCTP', '\n    protocol: SCTP', 'spec.ports[0].protocol', /TCP or UDP/],
    ['sessionAffinity Sticky', '\n  sessionAffinity: Sticky', 'spec.sessionAffinity', /None or ClientIP/],
    [
      'an affinity timeout past a day',
      '\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}',
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
      /86400/,
    ],
    [
      'sessionAffinityConfig without ClientIP',
      '\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}',
      'spec.sessionAffinityConfig',
      /ClientIP/,
    ],
    ['externalIPs', '\n  externalIPs: [1.2.3.4]', 'spec.externalIPs', /not supported/],
    [
      'loadBalancerSourceRanges',
      '\n  loadBalancerSourceRanges: [10.0.0.0/8]',
      'spec.loadBalancerSourceRanges',
      /not supported/,
    ],
    [
      'externalTrafficPolicy Local',
      '\n  externalTrafficPolicy: Local',
      'spec.externalTrafficPolicy',
      /only the default, Cluster/,
    ],
    [
      'internalTrafficPolicy Local',
      '\n  internalTrafficPolicy: Local',
      'spec.internalTrafficPolicy',
      /only the default, Cluster/,
    ],
    [
      'publishNotReadyAddresses',
      '\n  publishNotReadyAddresses: true',
      'spec.publishNotReadyAddresses',
      /only false/,
    ],
    ['IPv6 families', '\n  ipFamilies: [IPv6]', 'spec.ipFamilies', /only \[IPv4\]/],
    [
      'a nodePort on a ClusterIP service',
      '\n    nodePort: 30000',
      'spec.ports[0].nodePort',
      /only NodePort and LoadBalancer/,
    ],
    ['a port name past 63 characters', `\n    name: ${'a'.repeat(64)}`, 'spec.ports[0].name', /63/],
    ['a port name that is no DNS label', '\n    name: Web_1', 'spec.ports[0].name', /DNS label/],
  ];
  for (const [name, extra, path, message] of bad) {
    it(`rejects ${name}`, () => {
      const issues = issuesOf(k8sService(extra));
      expect(issues).toEqual([{ document: 0, path, message: expect.stringMatching(message) }]);
    });
  }

  it('requires a selector and at least one port', () => {
    const issues = issuesOf('apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: []}\n');
    expect(issues.map((i) => i.path).sort()).toEqual(['spec.ports', 'spec.selector']);
  });

  it('rejects duplicate ports and hosts', () => {
    const issues = issuesOf(`
apiVersion: berth.dev/v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: a, port: 80}, {name: a, port: 80}]
  hosts: [x.example.com, x.example.com]
`);
    expect(issues.map((i) => i.path).sort()).toEqual([
      'spec.hosts[1]',
      'spec.ports[1].name',
      'spec.ports[1].port',
    ]);
  });

  it('validates hostnames', () => {
    const host = (h: string) =>
      apply(
        `apiVersion: berth.dev/v1\nkind: Service\nmetadata: {name: w}\nspec: {selector: {a: b}, ports: [{port: 80}], hosts: ["${h}"]}\n`,
      ).issues.length === 0;
    expect(host('web.example.com')).toBe(true);
    expect(host('*.example.com')).toBe(true);
    expect(host('localhost')).toBe(true);
    expect(host('Web.example.com')).toBe(false);
    expect(host('a.*.example.com')).toBe(false);
    expect(host('-a.example.com')).toBe(false);
    expect(host('example.com.')).toBe(false);
    expect(host(`${'a'.repeat(64)}.example.com`)).toBe(false);
    expect(host('web.example.com:8080')).toBe(false);
  });
});

describe('normalizeManifests: Secrets', () => {
  it('reads an opaque secret (the default type)', () => {
    expect(
      only('apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: db}\ndata: {password: x}\n'),
    ).toEqual({
      kind: 'Secret',
      name: 'db',
      namespace: undefined,
      labels: {},
      annotations: {},
      resourceVersion: undefined,
      type: 'opaque',
      data: { password: 'x' },
    });
  });

  it('requires exactly server, username and password for a registry secret', () => {
    const issues = issuesOf(
      'apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: reg}\ntype: registry\ndata: {server: r.example.com, username: u, token: t}\n',
    );
    expect(issues).toEqual([
      { document: 0, path: 'data.password', message: expect.stringMatching(/is required/) },
      { document: 0, path: 'data.token', message: expect.stringMatching(/not allowed/) },
    ]);
    expect(
      only(
        'apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: reg}\ntype: registry\ndata: {server: r.example.com, username: u, password: p}\n',
      ),
    ).toMatchObject({ type: 'registry' });
  });

  it('rejects non-string values, bad keys and unknown types', () => {
    const issues = issuesOf(
      'apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: s}\ntype: tls\ndata: {port: 5432, "bad key": x}\n',
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['data.port', 'data["bad key"]', 'type']);
  });

  it('reads a Kubernetes v1 Secret: data decoded from base64, stringData over it, Opaque as opaque', () => {
    expect(
      only(
        'apiVersion: v1\nkind: Secret\nmetadata: {name: s, creationTimestamp: null}\ntype: Opaque\ndata: {a: eA==, b: eQ==}\nstringData: {b: z}\n',
      ),
    ).toMatchObject({ kind: 'Secret', name: 's', type: 'opaque', data: { a: 'x', b: 'z' } });
    expect(issuesOf('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: "eA"}\n')).toEqual([
      { document: 0, path: 'data.a', message: 'must be base64 (the standard alphabet, padded)' },
    ]);
  });
});

describe('normalizeManifests: documents', () => {
  it('applies a mixed berth.dev/v1 file in order', () => {
    const { objects, issues } = apply(fixture('berth-app.yaml'));
    expect(issues).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.name}`)).toEqual(['Secret/db', 'Deployment/web', 'Service/web']);
  });

  it('numbers issues by document', () => {
    const { objects, issues } = apply(
      `${k8sDeployment()}---\n${k8sDeployment('\n      volumes: [{name: d, nfs: {server: s, path: /}}]').replace('name: web\nspec', 'name: api\nspec')}`,
    );
    expect(objects).toHaveLength(1);
    expect(issues).toEqual([
      { document: 1, path: 'spec.template.spec.volumes[0].nfs', message: 'nfs is not supported by Berth' },
    ]);
  });

  it('rejects the same object twice', () => {
    const { issues } = apply(`${k8sDeployment()}---\n${k8sDeployment()}`);
    expect(issues).toEqual([
      {
        document: 1,
        path: 'metadata.name',
        message: 'Deployment "web" appears more than once (first in document 1)',
      },
    ]);
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['a string', 'hello', '', /must be an object/],
    ['a list', [1, 2], '', /must be an object/],
    ['no kind', { apiVersion: 'apps/v1' }, 'kind', /is required/],
    ['no apiVersion', { kind: 'Deployment' }, 'apiVersion', /is required/],
    [
      'an unknown kind',
      { apiVersion: 'v1', kind: 'PersistentVolume' },
      'kind',
      /PersistentVolume is not supported by Berth/,
    ],
    ['a StatefulSet', { apiVersion: 'apps/v1', kind: 'StatefulSet' }, 'kind', /StatefulSet is not supported/],
    [
      'an old apiVersion',
      { apiVersion: 'extensions/v1beta1', kind: 'Deployment' },
      'apiVersion',
      /use berth.dev\/v1 or apps\/v1/,
    ],
    [
      'a v1 Deployment',
      { apiVersion: 'v1', kind: 'Deployment' },
      'apiVersion',
      /not supported for kind Deployment/,
    ],
    ['apps/v1 Service', { apiVersion: 'apps/v1', kind: 'Service' }, 'apiVersion', /use berth.dev\/v1 or v1/],
    ['a List without items', { apiVersion: 'v1', kind: 'List' }, 'items', /must be a list/],
    [
      'an unknown top-level field',
      { apiVersion: 'berth.dev/v1', kind: 'Secret', metadata: { name: 's' }, extra: 1 },
      'extra',
      /unknown field/,
    ],
    [
      'a bad label',
      { apiVersion: 'berth.dev/v1', kind: 'Secret', metadata: { name: 's', labels: { a: 'not ok' } } },
      'metadata.labels.a',
      /label value/,
    ],
    [
      'a non-string annotation',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's', annotations: { 'berth.dev/hosts': 5 } },
        spec: { selector: { a: 'b' }, ports: [{ port: 1 }] },
      },
      'metadata.annotations["berth.dev/hosts"]',
      /./,
    ],
  ];
  for (const [name, doc, path, message] of bad) {
    it(`rejects ${name}`, () => {
      const { objects, issues } = normalizeManifests([doc]);
      expect(objects).toEqual([]);
      expect(issues).toContainEqual({ document: 0, path, message: expect.stringMatching(message) });
    });
  }

  it('prefixes paths of List items', () => {
    const { issues } = normalizeManifests([
      {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 's' },
            spec: { selector: { a: 'b' }, ports: [{ port: 0 }] },
          },
        ],
      },
    ]);
    expect(issues).toEqual([
      { document: 0, path: 'items[0].spec.ports[0].port', message: expect.any(String) },
    ]);
  });

  it('accepts JSON documents', () => {
    const { objects } = apply(
      JSON.stringify([{ apiVersion: 'berth.dev/v1', kind: 'Secret', metadata: { name: 'a' }, data: {} }]),
      'json',
    );
    expect(objects).toHaveLength(1);
  });
});

describe('probe host', () => {
  const berthDeployment = (probe: unknown, container: Record<string, unknown> = {}) => ({
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      template: {
        spec: { containers: [{ name: 'web', image: 'web:1', readinessProbe: probe, ...container }] },
      },
    },
  });
  const HOST_MESSAGE = /^host is not supported by Berth \(probes connect only to the pod's own address/;

  for (const [kind, action] of [
    ['httpGet', { path: '/', port: 80, host: '169.254.169.254' }],
    ['tcpSocket', { port: 5432, host: 'db.internal' }],
  ] as const) {
    it(`refuses ${kind}.host in the Berth form, with its path`, () => {
      const { objects, issues } = normalizeManifests([berthDeployment({ [kind]: action })]);
      expect(objects).toEqual([]);
      expect(issues).toEqual([
        {
          document: 0,
          path: `spec.template.spec.containers[0].readinessProbe.${kind}.host`,
          message: expect.stringMatching(HOST_MESSAGE),
        },
      ]);
    });

    it(`refuses ${kind}.host in a Kubernetes Deployment, with its path`, () => {
      const issues = issuesOf(
        k8sDeployment('', `\n        livenessProbe: {${kind}: ${JSON.stringify(action)}}`),
      );
      expect(issues).toEqual([
        {
          document: 0,
          path: `spec.template.spec.containers[0].livenessProbe.${kind}.host`,
          message: expect.stringMatching(HOST_MESSAGE),
        },
      ]);
    });
  }

  it('lists a refused host beside the other problems of the document', () => {
    const { issues } = normalizeManifests([
      berthDeployment({ httpGet: { port: 80, host: '10.0.0.1' }, periodSeconds: 0 }, { tty: true }),
    ]);
    expect(issues.map((i) => i.path).sort()).toEqual([
      'spec.template.spec.containers[0].readinessProbe.httpGet.host',
      'spec.template.spec.containers[0].readinessProbe.periodSeconds',
      'spec.template.spec.containers[0].tty',
    ]);
  });

  it("accepts an empty host (Kubernetes' default: the pod's address) and a Host header", () => {
    const httpGet = { path: '/', port: 80, httpHeaders: [{ name: 'Host', value: 'web.example.com' }] };
    const k8s = only(
      k8sDeployment('', `\n        readinessProbe: {httpGet: ${JSON.stringify({ ...httpGet, host: '' })}}`),
    );
    expect(
      k8s.kind === 'Deployment' && k8s.spec.template.spec.containers[0]!.readinessProbe?.httpGet,
    ).toEqual({
      ...httpGet,
      scheme: 'HTTP',
    });
    expect(normalizeManifests([berthDeployment({ httpGet: { ...httpGet, host: '' } })]).issues).toEqual([]);
  });

  it('still carries a stored host to agents, which ignore it', () => {
    const stored = { httpGet: { path: '/', port: 80, host: '10.0.0.1' } };
    expect(AssignedProbe.safeParse(stored).success).toBe(true);
    expect(DeploymentInput.safeParse(berthDeployment(stored)).success).toBe(false);
  });
});
