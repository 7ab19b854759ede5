import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKubeProtobuf } from '../../workers/kube/protobuf.ts';
import { type KubectlFront, kubectl, startTlsFront, writeKubeconfig } from './support/kubectl-front.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The real kubectl (v1.32) creating objects from flags: `kubectl create configmap|deployment|
 * service|job|cronjob|ingress` go through client-go's typed clients, which send Kubernetes'
 * protobuf, not JSON. Each prints what it prints against Kubernetes and stores the object the
 * flags describe; the bodies kubectl sends (captured by a server of the test's own) read as the
 * object `--dry-run=client -o json` prints, for these kinds and for the Secret, ServiceAccount
 * and Namespace Berth does not write through this face. No agent runs.
 */

let server: BerthServer;
let dir: string;
let front: KubectlFront;
let config: string;

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(config, dir, args);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}\n${server.output().slice(-2000)}`).toBe(0);
  return r.stdout;
}

async function stored<T>(path: string): Promise<T> {
  const res = await server.call('GET', `/v1/namespaces/default/${path}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kubectl-create-'));
  server = await startBerthServer();
  front = await startTlsFront(dir, server.url);
  config = await writeKubeconfig(dir, front, 'admin', server.adminToken, 'default');
}, 300_000);

afterAll(async () => {
  await front?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl create <kind> (protobuf bodies)', () => {
  it('creates a ConfigMap from literals', async () => {
    expect(
      await ok(['create', 'configmap', 'settings', '--from-literal=mode=edge', '--from-literal=level=3']),
    ).toBe('configmap/settings created\n');
    const cm = await stored<{ data: Record<string, string> }>('configmaps/settings');
    expect(cm.data).toEqual({ mode: 'edge', level: '3' });
  });

  it('creates a Deployment, keeping replicas: 0 (a value protobuf carries only because it was set)', async () => {
    expect(
      await ok([
        'create',
        'deployment',
        'web',
        '--image=registry.example.com/web:1',
        '--replicas=0',
        '--port=8080',
      ]),
    ).toBe('deployment.apps/web created\n');
    const d = await stored<{
      metadata: { labels: Record<string, string> };
      spec: {
        replicas: number;
        selector: { matchLabels: Record<string, string> };
        template: {
          spec: { containers: { name: string; image: string; ports: { containerPort: number }[] }[] };
        };
      };
    }>('deployments/web');
    expect(d.spec.replicas).toBe(0);
    expect(d.metadata.labels).toEqual({ app: 'web' });
    expect(d.spec.selector.matchLabels).toEqual({ app: 'web' });
    expect(d.spec.template.spec.containers).toMatchObject([
      { name: 'web', image: 'registry.example.com/web:1', ports: [{ containerPort: 8080 }] },
    ]);
    // kubectl reads it back as it would from Kubernetes.
    expect(
      await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']),
    ).toBe('registry.example.com/web:1');
  });

  it('changes nothing on --dry-run=server', async () => {
    expect(
      await ok(['create', 'deployment', 'dry', '--image=registry.example.com/web:1', '--dry-run=server']),
    ).toBe('deployment.apps/dry created (server dry run)\n');
    expect((await server.call('GET', '/v1/namespaces/default/deployments/dry')).status).toBe(404);
  });

  it('creates a ClusterIP Service', async () => {
    expect(await ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080'])).toBe(
      'service/web created\n',
    );
    const s = await stored<{ spec: { selector: Record<string, string>; ports: unknown[] } }>('services/web');
    expect(s.spec.selector).toEqual({ app: 'web' });
    expect(s.spec.ports).toMatchObject([{ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' }]);
  });

  it('creates a Job and a CronJob with a command', async () => {
    expect(
      await ok(['create', 'job', 'once', '--image=registry.example.com/tool:1', '--', 'echo', 'hi']),
    ).toBe('job.batch/once created\n');
    const job = await stored<{
      spec: { template: { spec: { restartPolicy: string; containers: { command: string[] }[] } } };
    }>('jobs/once');
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers[0]?.command).toEqual(['echo', 'hi']);

    expect(
      await ok([
        'create',
        'cronjob',
        'tick',
        '--image=registry.example.com/tool:1',
        '--schedule=*/5 * * * *',
        '--restart=OnFailure',
        '--',
        'echo',
        'tick',
      ]),
    ).toBe('cronjob.batch/tick created\n');
    const cron = await stored<{
      spec: {
        schedule: string;
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: string; containers: { command: string[] }[] } } };
        };
      };
    }>('cronjobs/tick');
    expect(cron.spec.schedule).toBe('*/5 * * * *');
    expect(cron.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('OnFailure');
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0]?.command).toEqual(['echo', 'tick']);
  });

  it('creates a Secret (values write-only), a ServiceAccount and a Namespace', async () => {
    expect(await ok(['create', 'secret', 'generic', 'db', '--from-literal=password=s3cret'])).toBe(
      'secret/db created\n',
    );
    const secret = await ok(['get', 'secret', 'db', '-o', 'json']);
    expect(secret).toContain('"password"');
    expect(secret).not.toContain('s3cret');
    expect(await ok(['create', 'serviceaccount', 'builder'])).toBe('serviceaccount/builder created\n');
    expect(await ok(['create', 'namespace', 'edge-team'])).toBe('namespace/edge-team created\n');
    expect(await ok(['get', 'namespace', 'edge-team', '-o', 'jsonpath={.status.phase}'])).toBe('Active');
  });

  it('creates an Ingress from a rule', async () => {
    expect(await ok(['create', 'ingress', 'web', '--rule=web.example.com/api*=web:80'])).toBe(
      'ingress.networking.k8s.io/web created\n',
    );
    const ing = await stored<{ spec: { rules: unknown[] } }>('ingresses/web');
    expect(ing.spec.rules).toMatchObject([
      {
        host: 'web.example.com',
        http: {
          paths: [
            { path: '/api', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
          ],
        },
      },
    ]);
  });

  it('prints an invalid field and an existing name as Kubernetes does', async () => {
    const taken = await kubectl(config, dir, ['create', 'configmap', 'settings', '--from-literal=a=b']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('configmaps "settings" already exists');

    const bad = await kubectl(config, dir, ['create', 'deployment', 'bad', '--image=x', '--replicas=-1']);
    expect(bad.code).toBe(1);
    // kubectl's words for a typed create's refusal, around the Status Berth answers.
    expect(bad.stderr).toContain(
      'failed to create deployment: Deployment.apps "bad" is invalid: spec.replicas: ',
    );
    expect((await server.call('GET', '/v1/namespaces/default/deployments/bad')).status).toBe(404);
  });

  it('refuses a protobuf field it does not know, by number, and a kind it has no schema for', async () => {
    const send = (body: Uint8Array<ArrayBuffer>, path = '/api/v1/namespaces/default/configmaps') =>
      fetch(server.url + path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.adminToken}`,
          'content-type': 'application/vnd.kubernetes.protobuf',
        },
        body,
      });
    // A ConfigMap named "x" with a field 9 Kubernetes does not define.
    const raw = [0x0a, 0x03, 0x0a, 0x01, 0x78, 0x48, 0x01];
    const typeMeta = [0x0a, 0x02, ...utf8('v1'), 0x12, 0x09, ...utf8('ConfigMap')];
    const body = new Uint8Array([
      ...utf8('k8s\0'),
      0x0a,
      typeMeta.length,
      ...typeMeta,
      0x12,
      raw.length,
      ...raw,
    ]);
    const res = await send(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('field 9 of ConfigMap');

    const cbor = await fetch(`${server.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/cbor' },
      body: new Uint8Array([0xa0]),
    });
    expect(cbor.status).toBe(415);
  });
});

describe('the protobuf kubectl sends reads as the object it would send as JSON', () => {
  /** Every body kubectl sends, and an answer it accepts: the body itself, as Kubernetes echoes an object. */
  let capture: Server;
  let captured: Uint8Array[] = [];
  let captureConfig: string;

  beforeAll(async () => {
    capture = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.method !== 'POST') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}');
          return;
        }
        captured.push(new Uint8Array(body));
        res.writeHead(201, { 'content-type': req.headers['content-type'] ?? 'application/json' });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    // Plain HTTP and no token: only the bodies matter here.
    captureConfig = join(dir, 'capture.yaml');
    writeFileSync(
      captureConfig,
      `apiVersion: v1
kind: Config
clusters: [{name: capture, cluster: {server: "http://127.0.0.1:${(capture.address() as AddressInfo).port}"}}]
contexts: [{name: capture, context: {cluster: capture, namespace: default}}]
current-context: capture
users: []
`,
    );
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => capture?.close(() => resolve()));
  });

  const commands: [string, string[]][] = [
    ['ConfigMap', ['create', 'configmap', 'c', '--from-literal=a=b', '--from-literal=empty=']],
    ['Deployment', ['create', 'deployment', 'd', '--image=nginx', '--replicas=0', '--port=80']],
    ['Deployment with a command', ['create', 'deployment', 'e', '--image=busybox', '--', 'sleep', '10']],
    ['Secret', ['create', 'secret', 'generic', 's', '--from-literal=password=p\u00e4ss', '--type=Opaque']],
    [
      'registry Secret',
      [
        'create',
        'secret',
        'docker-registry',
        'r',
        '--docker-server=r.example.com',
        '--docker-username=u',
        '--docker-password=p',
      ],
    ],
    ['ClusterIP Service', ['create', 'service', 'clusterip', 's', '--tcp=80:8080', '--tcp=443:https']],
    ['headless Service', ['create', 'service', 'clusterip', 'h', '--clusterip=None']],
    ['NodePort Service', ['create', 'service', 'nodeport', 'n', '--tcp=80:8080', '--node-port=30080']],
    ['ExternalName Service', ['create', 'service', 'externalname', 'x', '--external-name=example.com']],
    ['Job', ['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi']],
    ['CronJob', ['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--', 'echo', 'hi']],
    [
      'Ingress',
      [
        'create',
        'ingress',
        'i',
        '--class=nginx',
        '--rule=foo.com/bar*=svc:80,tls=cert',
        '--rule=/exact=svc:http',
        '--default-backend=svc:http',
        '--annotation=a=b',
      ],
    ],
    ['ServiceAccount', ['create', 'serviceaccount', 'sa']],
    ['Namespace', ['create', 'namespace', 'ns']],
  ];

  it.each(commands)('%s', async (_name, args) => {
    captured = [];
    // Flags go before `--`, after which everything is the container's command.
    const withFlags = (...flags: string[]) => {
      const end = args.indexOf('--');
      return end < 0 ? [...args, ...flags] : [...args.slice(0, end), ...flags, ...args.slice(end)];
    };
    const sent = await kubectl(captureConfig, dir, withFlags('--validate=false'));
    expect(sent.code, sent.stderr).toBe(0);
    expect(captured).toHaveLength(1);
    const dry = await kubectl(captureConfig, dir, withFlags('--dry-run=client', '-o', 'json'));
    expect(dry.code, dry.stderr).toBe(0);
    expect(decodeKubeProtobuf(captured[0]!)).toEqual(JSON.parse(dry.stdout));
  });
});

function utf8(s: string): number[] {
  return [...new TextEncoder().encode(s)];
}
