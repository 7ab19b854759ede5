import { describe, expect, it } from 'vitest';
import { ManifestSyntaxError, normalizeManifests, parseManifestText } from './manifest.ts';

/** Manifests as people write them for kubectl: what kubectl accepts applies, what it refuses is refused. */

const deployment = (spec = '', metadata = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web${metadata}
spec:${spec}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`;
const SELECTOR = '\n  selector:\n    matchLabels: {app: web}';

const normalize = (text: string, namespace?: string) =>
  normalizeManifests(parseManifestText(text, 'yaml'), { namespace });

describe('apps/v1 Deployment selectors', () => {
  it('accepts a selector that picks some of the template labels', () => {
    expect(normalize(deployment(SELECTOR)).issues).toEqual([]);
  });

  it('requires one, as apps/v1 does', () => {
    expect(normalize(deployment()).issues).toEqual([
      { document: 0, path: 'spec.selector', message: "is required: matchLabels with the template's labels" },
    ]);
    expect(normalize(deployment('\n  selector: null')).issues.map((i) => i.path)).toEqual(['spec.selector']);
  });

  it('refuses an empty one', () => {
    for (const empty of ['\n  selector: {}', '\n  selector: {matchLabels: {}}']) {
      expect(normalize(deployment(empty)).issues).toEqual([
        {
          document: 0,
          path: 'spec.selector',
          message: 'must not be empty: an empty selector would select every pod',
        },
      ]);
    }
  });

  it('refuses one the template does not match', () => {
    expect(normalize(deployment('\n  selector:\n    matchLabels: {app: api}')).issues).toEqual([
      {
        document: 0,
        path: 'spec.selector.matchLabels.app',
        message: 'selector does not match template labels (template.metadata.labels.app must be "api")',
      },
    ]);
  });
});

describe('metadata.namespace against the request', () => {
  it('refuses a namespace other than the one the request names, naming metadata.namespace', () => {
    const { objects, issues } = normalize(deployment(SELECTOR, '\n  namespace: team-b'), 'team-a');
    expect(objects).toEqual([]);
    expect(issues).toEqual([
      {
        document: 0,
        path: 'metadata.namespace',
        message:
          'the namespace of the object ("team-b") does not match the namespace of the request ("team-a"): remove it, or apply with namespace team-b',
      },
    ]);
  });

  it('accepts the same namespace, none, or any when the request names none', () => {
    expect(normalize(deployment(SELECTOR, '\n  namespace: team-a'), 'team-a').issues).toEqual([]);
    expect(normalize(deployment(SELECTOR), 'team-a').issues).toEqual([]);
    expect(normalize(deployment(SELECTOR, '\n  namespace: team-b')).issues).toEqual([]);
  });

  it('checks the items of a List too', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${deployment(SELECTOR, '\n  namespace: b')
      .trim()
      .replace(/\n/g, '\n  ')}\n`;
    expect(normalize(list, 'a').issues.map((i) => i.path)).toEqual(['items[0].metadata.namespace']);
  });
});

describe('YAML merge keys', () => {
  it('merges a mapping into another, as kubectl reads them', () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: &labels {app: web}
  template:
    metadata:
      labels: *labels
    spec:
      containers:
      - &container
        name: web
        image: nginx:1.27
        resources: {requests: {cpu: 100m, memory: 64Mi}}
      - <<: *container
        name: sidecar
        image: busybox:1.36
      - <<: [*container]
        name: third
`;
    const { objects, issues } = normalize(text);
    expect(issues).toEqual([]);
    const spec = objects[0]?.kind === 'Deployment' ? objects[0].spec : undefined;
    expect(
      spec?.template.spec.containers.map((c) => [c.name, c.image, c.resources.requests?.memory]),
    ).toEqual([
      ['web', 'nginx:1.27', '64Mi'],
      ['sidecar', 'busybox:1.36', '64Mi'],
      ['third', 'nginx:1.27', '64Mi'],
    ]);
  });

  it('keeps the alias limit for aliases under merge keys', () => {
    const lines = ['a: &a {x: 1}'];
    for (let i = 0; i < 60; i++) lines.push(`k${i}: {<<: *a}`);
    expect(() => parseManifestText(lines.join('\n'), 'yaml')).toThrow(ManifestSyntaxError);
  });
});

describe("kinds that only serve Kubernetes' API machinery", () => {
  const rbac = `apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reads-pods}
subjects: [{kind: ServiceAccount, name: web}]
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:metrics-reader"}
rules: [{nonResourceURLs: [/metrics], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics}
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]
roleRef: {kind: ClusterRole, name: "system:metrics-reader", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
`;

  it('accepts them as objects that store nothing, each with the warning that says why', () => {
    const { objects, issues } = normalize(rbac);
    expect(issues).toEqual([]);
    expect(
      objects.map((o) => [o.kind, o.name, o.namespace, 'clusterScoped' in o && o.clusterScoped]),
    ).toEqual([
      ['ServiceAccount', 'web', 'shop', false],
      ['Role', 'pod-reader', undefined, false],
      ['RoleBinding', 'web-reads-pods', undefined, false],
      ['ClusterRole', 'system:metrics-reader', undefined, true],
      ['ClusterRoleBinding', 'metrics', undefined, true],
      ['PodDisruptionBudget', 'web', undefined, false],
    ]);
    // A ServiceAccount is stored (workers' service-accounts verbs); the rest are not.
    expect(objects[0]).toMatchObject({
      kind: 'ServiceAccount',
      spec: { automountServiceAccountToken: false },
    });
    const warnings = objects.map((o) => ('warnings' in o ? o.warnings : undefined));
    expect(warnings[0]).toBeUndefined();
    expect(warnings[1]).toEqual([
      'accepted and not stored: Berth mounts no Kubernetes API token into pods and has no RBAC of its own',
    ]);
    expect(warnings[5]?.[0]).toMatch(/^accepted and not stored: Berth's drain keeps each Deployment within/);
  });

  it("refuses a ServiceAccount's imagePullSecrets, which would change what its pods pull", () => {
    const { objects, issues } = normalize(
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\nimagePullSecrets: [{name: registry}]\n',
    );
    expect(objects).toEqual([]);
    expect(issues.map((i) => i.path)).toEqual(['imagePullSecrets']);
    // Its token secrets name what Berth never mounts; empty lists say nothing.
    expect(
      normalize('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\nsecrets: [{name: web-token}]\n')
        .issues[0]?.path,
    ).toBe('secrets');
    expect(
      normalize(
        'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\nsecrets: []\nimagePullSecrets: []\n',
      ).issues,
    ).toEqual([]);
  });

  it('requires a name, and a namespace that can be one', () => {
    expect(normalize('apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nrules: []\n').issues).toEqual([
      { document: 0, path: 'metadata.name', message: 'is required' },
    ]);
    expect(
      normalize('apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a, namespace: Team_A}\n')
        .issues,
    ).toEqual([
      { document: 0, path: 'metadata.namespace', message: 'must be a namespace name (a DNS-1123 label)' },
    ]);
  });

  it('keeps refusing the kinds whose absence would change what runs, naming kind and why', () => {
    for (const [apiVersion, kind, reason] of [
      ['networking.k8s.io/v1', 'NetworkPolicy', /leave open the traffic/],
      ['apps/v1', 'StatefulSet', /stable per-replica identities/],
      ['apps/v1', 'DaemonSet', /one replica per node/],
      ['v1', 'Pod', /or a Job/],
    ] as const) {
      const { issues } = normalize(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x}\n`);
      expect(issues).toEqual([
        {
          document: 0,
          path: 'kind',
          message: expect.stringMatching(new RegExp(`^kind ${kind} is not supported by Berth \\(`)),
        },
      ]);
      expect(issues[0]?.message).toMatch(reason);
    }
  });

  it('reads a batch/v1 Job as kubectl writes it, and refuses what Berth does not run at its path', () => {
    const job = [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata: {name: migrate, creationTimestamp: null}',
      'spec:',
      '  completions: 3',
      '  parallelism: 2',
      '  completionMode: Indexed',
      '  podReplacementPolicy: TerminatingOrFailed',
      '  template:',
      '    metadata: {creationTimestamp: null}',
      '    spec:',
      '      restartPolicy: Never',
      '      containers:',
      '      - {name: migrate, image: "shop/migrate:1", resources: {}}',
      'status: {}',
      '',
    ].join('\n');
    const { objects, issues } = normalize(job);
    expect(issues).toEqual([]);
    expect(objects[0]).toMatchObject({
      kind: 'Job',
      name: 'migrate',
      spec: { completions: 3, parallelism: 2, completionMode: 'Indexed', backoffLimit: 6, suspend: false },
    });
    // Kubernetes' default restartPolicy (Always) never finishes: a Job must say Never or OnFailure.
    expect(normalize(job.replace('      restartPolicy: Never\n', '')).issues).toEqual([
      {
        document: 0,
        path: 'spec.template.spec.restartPolicy',
        message: expect.stringMatching(/Never or OnFailure/),
      },
    ]);
    expect(normalize(job.replace('  parallelism: 2', '  podFailurePolicy: {rules: []}')).issues).toEqual([
      {
        document: 0,
        path: 'spec.podFailurePolicy',
        message: expect.stringMatching(/not supported by Berth/),
      },
    ]);
    expect(normalize(job.replace('  completions: 3\n', '')).issues).toEqual([
      { document: 0, path: 'spec.completions', message: 'is required when completionMode is Indexed' },
    ]);
  });

  it('reads a batch/v1 CronJob, and names a bad schedule or time zone at its path', () => {
    const cron = [
      'apiVersion: batch/v1',
      'kind: CronJob',
      'metadata: {name: nightly}',
      'spec:',
      '  schedule: "30 2 * * *"',
      '  timeZone: Europe/Paris',
      '  concurrencyPolicy: Forbid',
      '  jobTemplate:',
      '    metadata: {creationTimestamp: null}',
      '    spec:',
      '      template:',
      '        spec:',
      '          restartPolicy: OnFailure',
      '          containers:',
      '          - {name: report, image: "shop/report:1"}',
      '',
    ].join('\n');
    const { objects, issues } = normalize(cron);
    expect(issues).toEqual([]);
    expect(objects[0]).toMatchObject({
      kind: 'CronJob',
      spec: { schedule: '30 2 * * *', timeZone: 'Europe/Paris', concurrencyPolicy: 'Forbid', suspend: false },
    });
    const bad = normalize(
      cron.replace('"30 2 * * *"', '"0 30 2 * * *"').replace('Europe/Paris', 'Mars/Base'),
    );
    expect(bad.issues.map((i) => i.path).sort()).toEqual(['spec.schedule', 'spec.timeZone']);
  });

  it('takes a job template named as its CronJob (what `kubectl create cronjob` writes), and refuses another name', () => {
    const cron = (name: string) =>
      [
        'apiVersion: batch/v1',
        'kind: CronJob',
        'metadata: {name: nightly}',
        'spec:',
        '  schedule: "30 2 * * *"',
        '  jobTemplate:',
        `    metadata: {name: ${name}, creationTimestamp: null}`,
        '    spec:',
        '      template:',
        '        spec:',
        '          restartPolicy: OnFailure',
        '          containers:',
        '          - {name: report, image: "shop/report:1"}',
        '',
      ].join('\n');
    expect(normalize(cron('nightly')).issues).toEqual([]);
    expect(normalize(cron('other')).issues.map((i) => i.path)).toEqual(['spec.jobTemplate.metadata.name']);
  });

  it("records a pod's serviceAccountName and automountServiceAccountToken, and whether Kubernetes would mount a token", () => {
    const { objects, issues } = normalize(
      deployment(SELECTOR).replace(
        '    spec:\n      containers:',
        '    spec:\n      serviceAccountName: web\n      automountServiceAccountToken: true\n      containers:',
      ),
    );
    expect(issues).toEqual([]);
    const web = objects[0];
    expect(web?.kind === 'Deployment' && web.spec.template.spec).toMatchObject({
      serviceAccountName: 'web',
      automountServiceAccountToken: true,
    });
    expect(web?.kind === 'Deployment' && web.serviceAccountToken).toBe('pod');
    // The deprecated alias names the account when serviceAccountName does not; both must agree.
    const alias = normalize(
      deployment(SELECTOR).replace(
        '    spec:\n      containers:',
        '    spec:\n      serviceAccount: web\n      containers:',
      ),
    );
    const aliased = alias.objects[0];
    expect(aliased?.kind === 'Deployment' && aliased.spec.template.spec.serviceAccountName).toBe('web');
    expect(aliased?.kind === 'Deployment' && aliased.serviceAccountToken).toBe('account');
    const both = normalize(
      deployment(SELECTOR).replace(
        '    spec:\n      containers:',
        '    spec:\n      serviceAccountName: web\n      serviceAccount: api\n      containers:',
      ),
    );
    expect(both.issues).toContainEqual({
      document: 0,
      path: 'spec.template.spec.serviceAccount',
      message: expect.stringMatching(/^must equal serviceAccountName \("web"\)/),
    });
    // The defaults are left out of the template (templates stored before keep their hash): no token.
    const quiet = normalize(
      deployment(SELECTOR).replace(
        '    spec:\n      containers:',
        '    spec:\n      serviceAccountName: default\n      automountServiceAccountToken: false\n      containers:',
      ),
    );
    const q = quiet.objects[0];
    expect(q?.kind === 'Deployment' && Object.keys(q.spec.template.spec)).not.toContain('serviceAccountName');
    expect(q?.kind === 'Deployment' && Object.keys(q.spec.template.spec)).not.toContain(
      'automountServiceAccountToken',
    );
    expect(q && 'serviceAccountToken' in q).toBe(false);
  });
});

describe('the drain delay annotation on a pod template', () => {
  const withAnnotation = (value: string) =>
    deployment(SELECTOR).replace(
      '      labels: {app: web, tier: front}',
      `      labels: {app: web, tier: front}\n      annotations: {berth.dev/drain-delay-seconds: "${value}", team: web}`,
    );

  it('sets drainDelaySeconds, and is not kept as an annotation', () => {
    const { objects, issues } = normalize(withAnnotation('0'));
    expect(issues).toEqual([]);
    const spec = objects[0]?.kind === 'Deployment' ? objects[0].spec : undefined;
    expect(spec?.template.spec.drainDelaySeconds).toBe(0);
    expect(spec?.template.metadata.annotations).toBeUndefined();
    const plain = normalize(deployment(SELECTOR)).objects[0];
    expect(plain?.kind === 'Deployment' && plain.spec.template.spec.drainDelaySeconds).toBe(2);
  });

  it('refuses what is not 0 to 300 seconds, at its path', () => {
    for (const bad of ['-1', '301', '2s', '']) {
      expect(normalize(withAnnotation(bad)).issues.map((i) => i.path)).toEqual([
        'spec.template.metadata.annotations["berth.dev/drain-delay-seconds"]',
      ]);
    }
  });
});
