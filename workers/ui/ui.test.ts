import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { replicaPhase } from '../../common/replica-phase.ts';
import { assessRollout } from '../../common/rollout.ts';
import { createCertificateFormat } from './client/certificate-format.ts';
import { createCertificatePage } from './client/certificates.ts';
import { createFormat } from './client/format.ts';
import { createJobFormat } from './client/job-format.ts';
import { createLogFollow } from './client/log-follow.ts';
import { createPodParts } from './client/pods.ts';
import { createPolicyPage } from './client/policy.ts';
import type { Certificate, CronJob, Deployment, Job } from './client/types.ts';
import { createUi } from './index.ts';
import { keepNamesHelper } from './script.ts';

function mounted(prefix = '/ui') {
  const app = new Hono();
  app.get('/v1/whoami', (c) => c.json({ name: 'x', role: 'admin', namespaces: ['*'] }));
  app.route(prefix, createUi());
  return app;
}

describe('createUi', () => {
  it('serves the shell for every path under the mount point, so deep links load', async () => {
    const app = mounted();
    for (const path of [
      '/ui',
      '/ui/',
      '/ui/deployments/default/web',
      '/ui/nodes',
      '/ui/events/staging',
      '/ui/policy/staging',
      '/ui/services/staging',
      '/ui/ingresses/staging',
      '/ui/jobs/staging/backup-1',
      '/ui/cronjobs/staging/nightly',
      '/ui/certificates',
    ]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).toContain('data-ui-base="/ui"');
      expect(html).toContain('<a class="skip-link" href="#main">Skip to content</a>');
      expect(html).toMatch(/<script src="\/ui\/assets\/app\.js\?v=[0-9a-f]{16}" defer/);
      expect(html).toMatch(/<link rel="stylesheet" href="\/ui\/assets\/app\.css\?v=[0-9a-f]{16}"/);
    }
    // The API and everything outside the mount are left alone.
    expect((await app.request('/v1/whoami')).status).toBe(200);
    expect((await app.request('/uix')).status).toBe(404);
  });

  it('loads nothing from outside the origin and allows no inline script', async () => {
    const res = await mounted().request('/ui/');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    // The only URL is the SVG namespace inside the inline favicon, which is never fetched.
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('follows the mount point it is given', async () => {
    const html = await (await mounted('/dash').request('/dash/nodes')).text();
    expect(html).toContain('data-ui-base="/dash"');
    expect(html).toContain('src="/dash/assets/app.js?v=');
  });

  it('serves the client script as JavaScript that parses, with a strong ETag and revalidation', async () => {
    const app = mounted();
    const html = await (await app.request('/ui/')).text();
    const src = /src="([^"]+app\.js\?v=[^"]+)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    const res = await app.request(src!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('immutable');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    const js = await res.text();
    // Plain browser script: no module syntax, no Node, no outside fetches.
    expect(() => new Function(js)).not.toThrow();
    expect(js).not.toMatch(/\bimport\s*[({'"]|\brequire\(|['"`]node:|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(js).toContain('sessionStorage');
    expect(js).toContain('Authorization');

    const again = await app.request('/ui/assets/app.js', { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
    const unversioned = await app.request('/ui/assets/app.js');
    expect(unversioned.headers.get('cache-control')).toBe('no-cache');
    expect(unversioned.headers.get('etag')).toBe(etag);
  });

  it('serves the stylesheet and 404s unknown assets', async () => {
    const app = mounted();
    const css = await app.request('/ui/assets/app.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const text = await css.text();
    expect(text).toContain(':focus-visible');
    expect(text).not.toMatch(/@import|url\(\s*['"]?https?:/);
    expect((await app.request('/ui/assets/nope.js')).status).toBe(404);
  });
});

describe('client formatting', () => {
  const fmt = createFormat(assessRollout);
  const dep = (over: {
    spec?: Deployment['spec'];
    status?: Deployment['status'];
    generation?: number;
  }): Deployment => ({
    metadata: { name: 'web', generation: over.generation ?? 2 },
    spec: {
      replicas: 3,
      template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } },
      ...over.spec,
    },
    status: { observedGeneration: 2, ...over.status },
  });

  it('reads a finished rollout as complete and shows ready/desired', () => {
    const d = dep({
      status: {
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [{ type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable' }],
      },
    });
    expect(fmt.readyText(d)).toBe('3/3');
    expect(fmt.rollout(d)).toMatchObject({ key: 'complete', label: 'Complete', progress: 1 });
  });

  it('reads a rollout in flight as progressing with its progress', () => {
    const d = dep({ status: { replicas: 4, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 } });
    const r = fmt.rollout(d);
    expect(r.key).toBe('progressing');
    expect(r.detail).toMatch(/2 of 3 new replicas have been updated/);
    expect(r.progress).toBeCloseTo(2 / 3);
    // A spec the controller has not seen yet is not complete, even if the numbers say so.
    const unseen = dep({
      generation: 3,
      status: { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
    });
    expect(fmt.rollout(unseen).key).toBe('progressing');
  });

  it('reads paused and deadline-exceeded rollouts', () => {
    expect(fmt.rollout(dep({ spec: { paused: true } })).key).toBe('paused');
    const stuck = dep({
      status: {
        updatedReplicas: 1,
        conditions: [
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'stuck' },
        ],
      },
    });
    expect(fmt.rollout(stuck)).toMatchObject({
      key: 'failed',
      label: 'Deadline exceeded',
      detail: 'ProgressDeadlineExceeded: stuck',
    });
  });

  it('names a failed replica of the current revision on the deployment page, which has the replicas', () => {
    const d = dep({
      status: { replicas: 3, updatedReplicas: 1, revision: 2, conditions: [] },
    });
    const replicas = [
      { id: 'web-2-a', revision: 2, node: 'vm-1', phase: 'Failed' as const, message: 'pull access denied' },
    ];
    expect(fmt.rollout(d, replicas)).toMatchObject({
      key: 'failed',
      label: 'Image pull failed',
      detail: 'image pull failure of replica web-2-a on node vm-1: pull access denied',
    });
    expect(fmt.rollout(d).key).toBe('progressing');
  });

  it('judges with the source the browser receives: the shared rule references nothing outside itself', () => {
    // As workers/ui/script.ts serves it: the function's own text, with the compiler's keepNames
    // helper as a no-op.
    const helper = keepNamesHelper() ?? '__name';
    const served = new Function(helper, `return (${assessRollout.toString()});`)(
      (fn: unknown) => fn,
    ) as typeof assessRollout;
    const cases = [
      dep({ spec: { paused: true } }),
      dep({ generation: 3, status: { replicas: 3, updatedReplicas: 3, availableReplicas: 3 } }),
      dep({ status: { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 } }),
      dep({
        status: {
          replicas: 3,
          updatedReplicas: 3,
          readyReplicas: 3,
          availableReplicas: 3,
          revision: 2,
          conditions: [{ type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable' }],
        },
      }),
    ];
    for (const d of cases) {
      expect(createFormat(served).rollout(d)).toEqual(fmt.rollout(d));
      expect(served(d, { replicas: [{ revision: 2, phase: 'Failed' }] })).toEqual(
        assessRollout(d, { replicas: [{ revision: 2, phase: 'Failed' }] }),
      );
    }
  });

  it('is tolerant of resource and port shapes', () => {
    expect(fmt.cpuOf({ cpu: 2 })).toBe(2);
    expect(fmt.cpuOf({ cpu: '250m' })).toBe(0.25);
    expect(fmt.cpuOf({ cpuMillis: 1500 })).toBe(1.5);
    expect(fmt.memoryOf({ memoryBytes: 1024 })).toBe(1024);
    expect(fmt.memoryOf({ memory: '128Mi' })).toBe(128 * 1024 * 1024);
    expect(fmt.memoryOf(undefined)).toBeUndefined();
    expect(fmt.bytes(8 * 1024 ** 3)).toBe('8 GiB');
    expect(fmt.cores(0.75)).toBe('750m');
    expect(fmt.hostPorts([{ containerPort: 8080, hostPort: 31001 }])).toBe('8080→31001');
    expect(fmt.hostPorts([31001, 31002])).toBe('31001, 31002');
    expect(fmt.hostPorts(undefined)).toBe('—');
  });

  it('formats ages and event objects', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(fmt.age('2025-01-01T11:59:30Z', now)).toBe('30s');
    expect(fmt.age('2025-01-01T09:00:00Z', now)).toBe('3h');
    expect(fmt.age('2024-12-20T12:00:00Z', now)).toBe('12d');
    expect(fmt.ago(null, now)).toBe('never');
    expect(fmt.eventObject({ object: 'deployment/web' })).toMatchObject({ kind: 'deployment', name: 'web' });
    expect(fmt.eventObject({ object: 'Deployment/api' })).toMatchObject({ kind: 'deployment', name: 'api' });
    expect(fmt.eventObject({})).toMatchObject({ text: '—' });
  });
});

describe('the namespace policy page', () => {
  it('puts each error the API names beside the field that holds it, and the rest above the form', () => {
    // As the browser receives it: the function's own source.
    const helper = keepNamesHelper() ?? '__name';
    const served = new Function(helper, `return (${createPolicyPage.toString()});`)(
      (fn: unknown) => fn,
    ) as typeof createPolicyPage;
    const { fieldOf } = served({ h: () => null } as never, {} as never, {} as never);
    expect(fieldOf('spec.allowedHostSuffixes')).toBe('allowedHostSuffixes');
    expect(fieldOf('spec.allowedHostSuffixes[3]')).toBe('allowedHostSuffixes');
    expect(fieldOf('spec.hostPorts.max')).toBe('hostPortsMax');
    expect(fieldOf('spec.hostPorts.min')).toBe('hostPortsMin');
    expect(fieldOf('spec.hostPorts')).toBe('hostPortsMin');
    expect(fieldOf('spec.quota.replicas')).toBe('quotaReplicas');
    expect(fieldOf('spec.quota.cpu')).toBe('quotaCpu');
    expect(fieldOf('spec.defaultLimits.memory')).toBe('defaultMemory');
    // Not a field: a prefix alone never matches (quotaX is not quota), nor do the policy's other parts.
    expect(fieldOf('spec.quotas')).toBeUndefined();
    expect(fieldOf('spec.allowWildcardHosts')).toBeUndefined();
    expect(fieldOf('metadata.name')).toBeUndefined();
    expect(fieldOf(undefined)).toBeUndefined();
  });
});

describe('the pod parts of the replica and deployment views', () => {
  /** As the browser receives a function: its own source, the keepNames helper a no-op. */
  function served<F>(fn: F): F {
    const helper = keepNamesHelper() ?? '__name';
    return new Function(helper, `return (${String(fn)});`)((f: unknown) => f) as F;
  }
  const pod = served(createPodParts)({ h: () => null } as never, served(replicaPhase));
  const status = (name: string, state: 'waiting' | 'running' | 'terminated', reason?: string) => ({
    name,
    state,
    reason,
    restartCount: 0,
  });

  it("words a replica's phase as the CLI does, Init:N/M while its init containers run", () => {
    const init = [status('migrate', 'running')];
    expect(pod.phaseText({ phase: 'Starting', message: 'Init:0/1', initContainers: init })).toBe('Init:0/1');
    expect(
      pod.phaseText({
        phase: 'Starting',
        message: 'Init:0/1: back-off 10s',
        initContainers: [status('migrate', 'waiting', 'CrashLoopBackOff')],
      }),
    ).toBe('Init:CrashLoopBackOff');
    expect(pod.phaseText({ phase: 'Running', initContainers: init })).toBe('Running');
    expect(pod.phaseText({})).toBe('Unknown');
  });

  it("shows a container's sampled usage over its request, its limits in the title, tight near the memory limit", () => {
    const el = served(createPodParts)(
      { h: (tag: string, attrs: Record<string, string>, text: string) => ({ tag, attrs, text }) } as never,
      served(replicaPhase),
    );
    const template = {
      spec: {
        containers: [
          {
            name: 'web',
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          },
          { name: 'bare' },
        ],
      },
    };
    const rep = (memoryBytes: number) => ({
      usage: {
        sampledAt: '2026-01-01T00:00:00Z',
        windowSeconds: 15.2,
        containers: [
          { name: 'web', cpuNanoCores: 24_000_000, memoryBytes },
          { name: 'bare', cpuNanoCores: 1_500_000_000, memoryBytes: 10 * 1024 ** 2 },
        ],
      },
    });
    const web = el.usageFact(rep(21 * 1024 ** 2), 'web', template) as unknown as {
      attrs: Record<string, string>;
      text: string;
    };
    expect(web.text).toBe('cpu 24m/100m mem 21Mi/64Mi');
    expect(web.attrs.title).toBe(
      'CPU 24m, request 100m; memory 21Mi, request 64Mi, limit 128Mi; averaged over 15 s',
    );
    expect(web.attrs.class).toBe('ctr-fact ctr-usage');
    const tight = el.usageFact(rep(120 * 1024 ** 2), 'web', template) as unknown as {
      attrs: { class: string };
    };
    expect(tight.attrs.class).toContain('ctr-tight');
    expect((el.usageFact(rep(0), 'bare', template) as unknown as { text: string }).text).toBe(
      'cpu 1500m mem 10Mi',
    );
    expect(el.usageFact({}, 'web', template)).toBeNull();
  });

  it('lists init containers and sidecars before the app containers, each with its status', () => {
    const template = {
      spec: {
        initContainers: [{ name: 'migrate' }, { name: 'proxy', restartPolicy: 'Always' as const }],
        containers: [{ name: 'web' }],
      },
    };
    const rep = {
      id: 'web-1',
      initContainers: [status('migrate', 'terminated', 'Completed'), status('proxy', 'running')],
      containers: [status('web', 'waiting', 'PodInitializing')],
    };
    expect(pod.containersOf(rep, template).map((c) => [c.name, c.role, c.status?.state])).toEqual([
      ['migrate', 'init', 'terminated'],
      ['proxy', 'sidecar', 'running'],
      ['web', 'app', 'waiting'],
    ]);
    // Not reported yet: the template's containers, without a state.
    expect(pod.containersOf({ id: 'web-2' }, template).map((c) => c.status)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("names each volume's source kind and where containers mount it, whatever kinds the server knows", () => {
    const volumes = pod.volumesOf({
      spec: {
        initContainers: [{ name: 'init', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        containers: [
          {
            name: 'web',
            volumeMounts: [
              { name: 'data', mountPath: '/srv', readOnly: true },
              { name: 'conf', mountPath: '/etc/app.conf', subPath: 'app.conf' },
            ],
          },
        ],
        volumes: [
          { name: 'data', emptyDir: { medium: 'Memory' } },
          { name: 'conf', configMap: { name: 'app' } },
          { name: 'keys', secret: { secretName: 'tls' } },
          { name: 'db', persistentVolumeClaim: { claimName: 'pg' } } as never,
        ],
      },
    });
    expect(volumes).toEqual([
      { name: 'data', kind: 'emptyDir', source: 'Memory', mounts: ['init: /data', 'web: /srv (read-only)'] },
      { name: 'conf', kind: 'configMap', source: 'app', mounts: ['web: /etc/app.conf (subPath app.conf)'] },
      { name: 'keys', kind: 'secret', source: 'tls', mounts: [] },
      { name: 'db', kind: 'persistentVolumeClaim', source: 'pg', mounts: [] },
    ]);
  });

  it("picks one container's lines out of the replica's merged logs", () => {
    const lines = ['[migrate] done', '[web] up', '[web] [x] not a tag', 'stray'];
    const names = ['migrate', 'web'];
    expect(pod.linesOf(lines, 'web', names)).toEqual({ lines: ['up', '[x] not a tag'], unsplit: false });
    expect(pod.linesOf(lines, undefined, names)).toEqual({ lines, unsplit: false });
    // One container with logs so far: the agent tags nothing, and the lines are all its own.
    expect(pod.linesOf(['up'], 'web', names)).toEqual({ lines: ['up'], unsplit: true });
  });
});

describe('Jobs and CronJobs', () => {
  const jf = createJobFormat();
  const at = '2026-01-01T00:00:00.000Z';
  const cond = (type: 'Complete' | 'Failed' | 'Suspended', status: 'True' | 'False', reason = '') => ({
    type,
    status,
    reason,
    message: `${type} message`,
    lastProbeTime: at,
    lastTransitionTime: at,
  });
  const job = (over: {
    spec?: Job['spec'];
    status?: Job['status'];
    name?: string;
    createdAt?: string;
  }): Job => ({
    metadata: { name: over.name ?? 'j', createdAt: over.createdAt ?? at },
    spec: { parallelism: 1, ...over.spec },
    status: { succeeded: 0, conditions: [], ...over.status },
  });

  it("words a Job's status as kubectl does: Complete, Failed (with its reason), Suspended, Running", () => {
    expect(jf.jobState(job({ status: { conditions: [cond('Complete', 'True')] } })).label).toBe('Complete');
    expect(
      jf.jobState(job({ status: { conditions: [cond('Failed', 'True', 'BackoffLimitExceeded')] } })),
    ).toEqual({ key: 'failed', label: 'Failed', reason: 'BackoffLimitExceeded', message: 'Failed message' });
    expect(jf.jobState(job({ status: { conditions: [cond('Suspended', 'True')] } })).label).toBe('Suspended');
    // A condition that no longer holds says nothing: a resumed Job runs.
    expect(jf.jobState(job({ status: { conditions: [cond('Suspended', 'False')] } })).label).toBe('Running');
    expect(jf.jobState(job({})).label).toBe('Running');
  });

  it('counts completions as succeeded/completions, and a work queue as n/1 (of its parallelism)', () => {
    expect(jf.completionsText(job({ spec: { completions: 3 }, status: { succeeded: 2 } }))).toBe('2/3');
    expect(jf.completionsText(job({ status: { succeeded: 0 } }))).toBe('0/1');
    expect(jf.completionsText(job({ spec: { parallelism: 4 }, status: { succeeded: 1 } }))).toBe('1/1 of 4');
  });

  it("measures a Job's duration from its start to its completion, or to now while it runs", () => {
    const start = Date.parse(at);
    expect(jf.duration(job({}), start + 5000)).toBeUndefined();
    expect(jf.duration(job({ status: { startTime: at } }), start + 95_000)).toBe('95s');
    expect(
      jf.duration(
        job({ status: { startTime: at, completionTime: '2026-01-01T00:03:12.000Z' } }),
        start + 1e9,
      ),
    ).toBe('3m12s');
    expect(jf.humanDuration(125 * 60_000)).toBe('125m');
    expect(jf.humanDuration(3 * 3600_000 + 5 * 60_000)).toBe('3h5m');
    expect(jf.humanDuration(30 * 3600_000)).toBe('30h');
    expect(jf.humanDuration(76 * 3600_000)).toBe('3d4h');
  });

  it('lists runs newest first', () => {
    const runs = [
      job({ name: 'a', createdAt: '2026-01-01T00:00:00Z' }),
      job({ name: 'c', createdAt: '2026-01-03T00:00:00Z' }),
      job({ name: 'b', createdAt: '2026-01-02T00:00:00Z' }),
    ];
    expect(jf.newestFirst(runs).map((j) => j.metadata?.name)).toEqual(['c', 'b', 'a']);
  });

  it('runs a CronJob by hand as kubectl create job --from does, and suspends it at the version read', () => {
    const cj: CronJob = {
      apiVersion: 'berth.dev/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', labels: { team: 'ops' }, resourceVersion: '7' },
      spec: {
        schedule: '0 3 * * *',
        suspend: false,
        jobTemplate: {
          metadata: { labels: { app: 'backup' } },
          spec: {
            template: { spec: { containers: [{ name: 'main', image: 'b:1' }] } },
            backoffLimit: 1,
          },
        },
      },
      status: { active: [] },
    };
    let i = 0;
    const name = jf.manualJobName('nightly', () => [0, 0.5, 0.99, 0.1, 0.7][i++]!);
    expect(name).toBe('nightly-manual-as9dz');
    expect(jf.manualJobName('nightly')).toMatch(/^nightly-manual-[a-z0-9]{5}$/);
    // A Job's name is at most 63 characters, whatever the CronJob's.
    const long = `${'a'.repeat(49)}-${'b'.repeat(10)}`;
    expect(jf.manualJobName(long, () => 0)).toBe(`${'a'.repeat(49)}-manual-aaaaa`);
    expect(jf.manualJob(cj)).toEqual({
      metadata: {
        labels: { app: 'backup', 'berth.dev/cronjob': 'nightly' },
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
      },
      // The server sets a Job's selector, and refuses one sent.
      spec: { template: { spec: { containers: [{ name: 'main', image: 'b:1' }] } }, backoffLimit: 1 },
    });
    expect(jf.suspended(cj, true)).toEqual({
      apiVersion: 'berth.dev/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', labels: { team: 'ops' }, resourceVersion: '7' },
      spec: { ...cj.spec, suspend: true },
    });
  });
});

describe('Certificates', () => {
  /** As the browser receives a function: its own source, the keepNames helper a no-op. */
  function served<F>(fn: F): F {
    const helper = keepNamesHelper() ?? '__name';
    return new Function(helper, `return (${String(fn)});`)((f: unknown) => f) as F;
  }
  const cf = served(createCertificateFormat)();
  const now = Date.parse('2026-03-01T12:00:00Z');
  const cert = (over: Partial<Certificate>): Certificate => ({
    host: 'a.example.com',
    namespace: 'default',
    status: 'Ready',
    failures: 0,
    lastError: null,
    ...over,
  });

  it('marks a failing renewal, a failed order and an expired certificate as bad news, and orders in flight as live', () => {
    expect(cf.certificateState(cert({ status: 'Ready' }))).toEqual({
      status: 'Ready',
      tone: 'ok',
      live: false,
      failing: false,
    });
    for (const status of ['RenewalFailing', 'Failed', 'Expired'] as const)
      expect(cf.certificateState(cert({ status }))).toMatchObject({ tone: 'bad', failing: true });
    for (const status of ['Pending', 'RenewalDue'] as const)
      expect(cf.certificateState(cert({ status }))).toMatchObject({
        tone: 'info',
        live: false,
        failing: false,
      });
    for (const status of ['Ordering', 'Renewing'] as const)
      expect(cf.certificateState(cert({ status }))).toMatchObject({ tone: 'info', live: true });
    // A status newer than this page is shown as sent, neither good nor bad.
    expect(cf.certificateState({ ...cert({}), status: 'Revoked' } as never)).toMatchObject({
      status: 'Revoked',
      tone: 'neutral',
    });
  });

  it('shows not-after as its date and whole days left, or since it expired', () => {
    expect(cf.expiry('2026-05-30T13:00:00Z', now)).toEqual({
      date: '2026-05-30',
      relative: 'in 90 days',
      expired: false,
    });
    expect(cf.expiry('2026-03-02T11:00:00Z', now)?.relative).toBe('in less than a day');
    expect(cf.expiry('2026-03-02T12:00:00Z', now)?.relative).toBe('in 1 day');
    expect(cf.expiry('2026-03-01T08:00:00Z', now)).toMatchObject({
      relative: 'expired today',
      expired: true,
    });
    expect(cf.expiry('2026-02-26T12:00:00Z', now)?.relative).toBe('expired 3 days ago');
    // The date is the certificate's own (UTC), whatever the browser's time zone.
    expect(cf.expiry('2026-05-30T23:30:00Z', now)?.date).toBe('2026-05-30');
    expect(cf.expiry(null, now)).toBeUndefined();
    expect(cf.expiry('not a date', now)).toBeUndefined();
  });

  it('says when the next order may start', () => {
    expect(cf.nextAttempt('2026-03-01T12:00:45Z', now)).toBe('in 45s');
    expect(cf.nextAttempt('2026-03-01T12:40:00Z', now)).toBe('in 40m');
    expect(cf.nextAttempt('2026-03-01T18:00:00Z', now)).toBe('in 6h');
    expect(cf.nextAttempt('2026-03-05T12:00:00Z', now)).toBe('in 4d');
    expect(cf.nextAttempt('2026-03-01T11:00:00Z', now)).toBe('due now');
    expect(cf.nextAttempt(undefined, now)).toBeUndefined();
  });

  it('lists failing hosts first, then by host name', () => {
    const items = [
      cert({ host: 'c.example.com' }),
      cert({ host: 'b.example.com', status: 'RenewalFailing', failures: 2 }),
      cert({ host: 'a.example.com', status: 'Pending' }),
      cert({ host: 'd.example.com', status: 'Expired' }),
    ];
    expect(cf.ordered(items).map((c) => c.host)).toEqual([
      'b.example.com',
      'd.example.com',
      'a.example.com',
      'c.example.com',
    ]);
  });

  it('says so when there are none, and that a namespaced token sees only its namespaces', () => {
    type Node = { tag: string; attrs: Record<string, unknown> | null; children: unknown[] };
    const text = (n: unknown): string =>
      typeof n === 'string'
        ? n
        : Array.isArray(n)
          ? n.map(text).join('')
          : n
            ? text((n as Node).children)
            : '';
    const h = (tag: string, attrs: Node['attrs'], ...children: unknown[]): Node => ({ tag, attrs, children });
    const parts = {
      table: (_id: string, _head: string[], rows: unknown[], empty: string) => (rows.length ? rows : empty),
      pageHead: (title: string) => title,
      problemBox: (p: { title: string }, what: string) => `${what}: ${p.title}`,
      badge: (_tone: string, t: string) => t,
      liveNote: () => '',
      loading: () => 'Loading…',
    };
    const pageFor = (namespaces: string[]) =>
      served(createCertificatePage)({ h } as never, cf, parts as never, {
        state: { now, identity: { role: 'viewer', namespaces } } as never,
      });
    expect(text(pageFor(['*']).page({ items: [] }))).toContain(
      'No certificates. A host of a Service or an Ingress gets one when the control plane runs with BERTH_ACME_EMAIL.',
    );
    expect(text(pageFor(['default']).page({ items: [] }))).toContain('No certificates in your namespaces.');
    expect(text(pageFor(['*']).page({ error: { title: 'FORBIDDEN', status: 403, detail: 'no' } }))).toContain(
      'Could not load certificates: FORBIDDEN',
    );
    expect(text(pageFor(['*']).page(undefined))).toContain('Loading…');
  });
});

describe('following logs', () => {
  /** As the browser receives a function: its own source, the keepNames helper a no-op. */
  function served<F>(fn: F): F {
    const helper = keepNamesHelper() ?? '__name';
    return new Function(helper, `return (${String(fn)});`)((f: unknown) => f) as F;
  }
  const lf = served(createLogFollow)();
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('reads the stream kubectl logs -f reads, one container named when picked', () => {
    expect(lf.followPath('default', 'web-7f9c-x2')).toBe(
      '/api/v1/namespaces/default/pods/web-7f9c-x2/log?follow=true&tailLines=100',
    );
    expect(lf.followPath('shop', 'r 1', 'log/shipper', 20)).toBe(
      '/api/v1/namespaces/shop/pods/r%201/log?follow=true&tailLines=20&container=log%2Fshipper',
    );
  });

  it('splits bytes into lines, holding back a partial line and a UTF-8 sequence cut between chunks', () => {
    const split = lf.lineSplitter();
    const all = bytes('héllo wörld\nline 😀 two\r\nthree');
    // Every cut: inside the two-byte é and ö, inside the four-byte emoji, before and after a newline.
    const seen: string[] = [];
    for (let i = 0; i < all.length; i += 1) seen.push(...split.push(all.subarray(i, i + 1)));
    expect(seen).toEqual(['héllo wörld', 'line 😀 two']);
    // The last line has no newline: it is a line once the stream ends.
    expect(split.end()).toEqual(['three']);
    expect(split.end()).toEqual([]);
  });

  it('keeps empty lines, and gives nothing for a chunk without a newline', () => {
    const split = lf.lineSplitter();
    expect(split.push(bytes('a\n\nb'))).toEqual(['a', '']);
    expect(split.push(bytes('cd'))).toEqual([]);
    expect(split.push(bytes('\n'))).toEqual(['bcd']);
    expect(split.push(new Uint8Array(0))).toEqual([]);
    expect(split.end()).toEqual([]);
    // A stream cut inside a character ends with the replacement character, not silently.
    const cut = lf.lineSplitter();
    expect(cut.push(bytes('ok\n').slice(0, 3))).toEqual(['ok']);
    expect(cut.push(bytes('€').slice(0, 2))).toEqual([]);
    expect(cut.end()).toEqual(['\uFFFD']);
  });

  it('keeps the last 2,000 lines', () => {
    expect(lf.MAX_LINES).toBe(2000);
    const lines = ['a', 'b'];
    expect(lf.keepLast(lines, [])).toBe(lines);
    expect(lf.keepLast(lines, ['c'], 3)).toEqual(['a', 'b', 'c']);
    expect(lf.keepLast(lines, ['c', 'd'], 3)).toEqual(['b', 'c', 'd']);
    expect(lf.keepLast([], ['a', 'b', 'c', 'd', 'e'], 2)).toEqual(['d', 'e']);
    const chatty = Array.from({ length: 2500 }, (_, i) => `line ${i}`);
    const kept = lf.keepLast(chatty.slice(0, 1990), chatty.slice(1990));
    expect(kept).toHaveLength(2000);
    expect(kept[0]).toBe('line 500');
    expect(kept.at(-1)).toBe('line 2499');
  });

  it('scrolls along only from the bottom', () => {
    // scrollTop, scrollHeight, clientHeight
    expect(lf.atBottom(640, 1000, 360)).toBe(true);
    expect(lf.atBottom(635, 1000, 360)).toBe(true);
    expect(lf.atBottom(600, 1000, 360)).toBe(false);
    expect(lf.atBottom(0, 200, 360)).toBe(true);
  });

  it('tells a server that cannot follow from a stream that ended', () => {
    const since = 1_000_000;
    expect(lf.ended(since, since + 1200, true)).toMatchObject({ state: 'unavailable' });
    expect((lf.ended(since, since + 1200, true) as { reason: string }).reason).toContain('cannot follow');
    // The replica stopped: its stream ends soon, and that is an ending like any other.
    expect(lf.ended(since, since + 1200, false)).toEqual({ state: 'ended', since, at: since + 1200 });
    expect(lf.ended(since, since + 60_000, true)).toEqual({ state: 'ended', since, at: since + 60_000 });
  });
});
