import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import {
  type KubectlFront,
  kubectl as runKubectl,
  startTlsFront,
  writeKubeconfig as writeKubeconfigFile,
} from './support/kubectl-front.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The real kubectl (v1.32, /usr/bin/kubectl) reading Berth through its Kubernetes API face, with
 * a kubeconfig that `berth kubeconfig` printed: discovery, `get` with Kubernetes' columns, YAML,
 * all namespaces, label selectors, and the errors kubectl users know.
 */

let server: BerthServer;
let fleet: SimFleet;
let dir: string;
let front: KubectlFront;
const kubeconfigs: Record<string, string> = {};

const kubectl = (config: string, args: string[]) => runKubectl(kubeconfigs[config]!, dir, args);

async function ok(config: string, args: string[]): Promise<string> {
  const r = await kubectl(config, args);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}\n${server.output().slice(-2000)}`).toBe(0);
  return r.stdout;
}

/** `berth kubeconfig` for a token, written where kubectl reads it. */
async function writeKubeconfig(name: string, token: string, namespace: string) {
  kubeconfigs[name] = await writeKubeconfigFile(dir, front, name, token, namespace);
}

async function put(path: string, body: unknown) {
  const res = await server.call('PUT', path, body);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

const pod = (image: string, labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kubectl-'));
  server = await startBerthServer();
  front = await startTlsFront(dir, server.url);
  fleet = await startSimAgents({
    server: server.url,
    adminToken: server.adminToken,
    count: 2,
    prefix: 'kube-node',
    options: { readyAfterMs: 100, waitSeconds: 20 },
  });
  const web = { app: 'web', tier: 'front' };
  await put('/v1/namespaces/default/deployments/web', {
    metadata: { name: 'web', labels: web },
    spec: { replicas: 2, template: pod('registry.example.com/web:1.0', web) },
  });
  await put('/v1/namespaces/default/deployments/api', {
    metadata: { name: 'api', labels: { app: 'api' } },
    spec: { replicas: 1, template: pod('registry.example.com/api:2.0', { app: 'api' }) },
  });
  await put('/v1/namespaces/team-a/deployments/worker', {
    metadata: { name: 'worker', labels: { app: 'worker' } },
    spec: { replicas: 1, template: pod('registry.example.com/worker:3.0', { app: 'worker' }) },
  });
  await put('/v1/namespaces/default/services/web', {
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  const applied = await server.call('POST', '/v1/apply', [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { a: '1', b: '2' },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate' },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'migrate', image: 'registry.example.com/migrate:1' }],
          },
        },
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: {
        rules: [
          {
            host: 'web.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
  ]);
  expect(applied.status, JSON.stringify(applied.body)).toBe(200);
  const token = async (role: string, namespaces: string[]) => {
    const res = await server.call('POST', '/v1/tokens', { name: `kube-${role}`, role, namespaces });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return (res.body as { token: string }).token;
  };
  await writeKubeconfig('admin', server.adminToken, 'default');
  await writeKubeconfig('viewer', await token('viewer', ['default']), 'default');
  await writeKubeconfig('deployer', await token('deployer', ['team-a']), 'team-a');
  await eventually(
    async () => {
      const res = await server.call('GET', '/v1/namespaces/default/deployments/web');
      return (res.body as { status?: { readyReplicas?: number } }).status?.readyReplicas === 2;
    },
    60_000,
    'web to have 2 ready replicas',
  );
}, 300_000);

afterAll(async () => {
  await fleet?.stop();
  await front?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against Berth', () => {
  it('prints the server version', async () => {
    const out = await ok('admin', ['version', '-o', 'json']);
    const v = JSON.parse(out) as { serverVersion: { gitVersion: string; minor: string } };
    expect(v.serverVersion.gitVersion).toBe('v1.32.0-berth');
  });

  it('lists the resources Berth serves', async () => {
    const out = await ok('admin', ['api-resources', '--no-headers']);
    const names = out.split('\n').map((l) => l.split(/\s+/)[0]);
    for (const r of [
      'configmaps',
      'namespaces',
      'nodes',
      'pods',
      'services',
      'deployments',
      'jobs',
      'cronjobs',
    ])
      expect(names).toContain(r);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/m);
  });

  it('gets deployments, services, pods and jobs with Kubernetes columns (-o wide)', async () => {
    const out = await ok('admin', ['get', 'deploy,svc,pods,jobs', '-o', 'wide']);
    expect(out).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(out).toMatch(
      /deployment\.apps\/web\s+2\/2\s+2\s+2\s+\S+\s+web\s+registry\.example\.com\/web:1\.0\s+app=web,tier=front/,
    );
    expect(out).toMatch(/NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR/);
    expect(out).toMatch(/service\/web\s+ClusterIP\s+[\d.]+\s+<none>\s+80\/TCP\s+\S+\s+app=web/);
    expect(out).toMatch(/NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(
      out.match(/^pod\/\S+\s+1\/1\s+Running\s+0\s+\S+\s+\S+\s+kube-node-[12]\s/gm)?.length,
    ).toBeGreaterThanOrEqual(3);
    expect(out).toMatch(/job\.batch\/migrate\s+\w+\s+\d\/1/);
    const more = await ok('admin', ['get', 'cm,ing,ns,nodes']);
    expect(more).toMatch(/configmap\/settings\s+2\s/);
    expect(more).toMatch(/NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE/);
    expect(more).toMatch(/ingress\.networking\.k8s\.io\/web\s+<none>\s+web\.example\.com\s+80\s/);
    expect(more).toMatch(/namespace\/team-a\s+Active\s+\d+[sm]/);
    expect(more).toMatch(/node\/kube-node-1\s+Ready\s+<none>\s+\S+\s+berth-agent\//);
  });

  it('prints one deployment as YAML, as Kubernetes would', async () => {
    const out = await ok('admin', ['get', 'deploy', 'web', '-o', 'yaml']);
    expect(out).toMatch(/^apiVersion: apps\/v1$/m);
    expect(out).toMatch(/^kind: Deployment$/m);
    expect(out).toMatch(/^ {2}creationTimestamp: "?\d{4}-/m);
    expect(out).toMatch(/^ {2}uid: \S+/m);
    expect(out).toMatch(/^ {2}resourceVersion: "\d+"/m);
    expect(out).toMatch(/deployment\.kubernetes\.io\/revision: "1"/);
    expect(out).toMatch(/^ {2}readyReplicas: 2$/m);
  });

  it('lists across namespaces with -A and selects by label with -l', async () => {
    const all = await ok('admin', ['get', 'deploy', '-A']);
    expect(all).toMatch(/^NAMESPACE\s+NAME\s+READY/m);
    expect(all).toMatch(/^default\s+web\s/m);
    expect(all).toMatch(/^team-a\s+worker\s/m);
    const selected = await ok('admin', ['get', 'deploy', '-l', 'app=web', '-o', 'name']);
    expect(selected.trim()).toBe('deployment.apps/web');
    const pods = await ok('admin', ['get', 'pods', '-l', 'app=api', '-o', 'name']);
    expect(pods.trim().split('\n')).toHaveLength(1);
    // A pod of the current revision shows its template's containers.
    const image = await ok('admin', [
      'get',
      'pods',
      '-l',
      'app=api',
      '-o',
      'jsonpath={.items[0].spec.containers[0].image}',
    ]);
    expect(image).toBe('registry.example.com/api:2.0');
    const none = await kubectl('admin', ['get', 'deploy', '-l', 'app=nothing']);
    expect(none.stderr).toContain('No resources found in default namespace.');
  });

  it('says NotFound as Kubernetes does', async () => {
    const r = await kubectl('admin', ['get', 'deploy', 'missing']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "missing" not found');
  });

  it('says what it does not serve, and refuses a token it does not know', async () => {
    const secrets = await kubectl('admin', ['get', 'limitranges']);
    expect(secrets.stderr).toContain('the server doesn\'t have a resource type "limitranges"');
    // A write Berth does not serve: events are the control plane's own record.
    const write = await kubectl('admin', ['delete', 'events', '--all']);
    expect(write.stderr).toContain(
      'Error from server (MethodNotAllowed): the server does not allow this method on the requested resource',
    );
    expect(await ok('admin', ['get', 'namespace', 'team-a', '-o', 'name'])).toBe('namespace/team-a\n');
    await writeKubeconfig('stranger', 'berth_u_not-a-token', 'default');
    const stranger = await kubectl('stranger', ['get', 'deploy']);
    expect(stranger.stderr).toContain('error: You must be logged in to the server');
  });

  it('refuses what a token may not read with Forbidden', async () => {
    const other = await kubectl('deployer', ['get', 'deploy', '-n', 'default']);
    expect(other.stderr).toContain(
      'Error from server (Forbidden): deployments.apps is forbidden: User "kube-deployer" cannot list resource "deployments" in API group "apps" in the namespace "default"',
    );
    const everywhere = await kubectl('viewer', ['get', 'deploy', '-A']);
    expect(everywhere.stderr).toContain('Error from server (Forbidden): deployments.apps is forbidden');
    // What the tokens may read, they read.
    expect(await ok('deployer', ['get', 'deploy', '-o', 'name'])).toBe('deployment.apps/worker\n');
    expect(await ok('viewer', ['get', 'deploy', 'web', '-o', 'name'])).toBe('deployment.apps/web\n');
  });
});
