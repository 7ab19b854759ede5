import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import {
  type KubectlFront,
  kubectl as runKubectl,
  startTlsFront,
  writeKubeconfig as writeKubeconfigFile,
} from './support/kubectl-front.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The real kubectl (v1.32) changing Berth's objects through the Kubernetes API face: client-side
 * and server-side apply, diff, scale, set image, label, annotate, rollout restart/pause/resume,
 * server dry runs, kustomize, delete, cordon, Secrets (values never shown), namespaces (created,
 * labelled, deleted with what runs in them), and the Invalid and Forbidden refusals as kubectl
 * prints them. No agent runs until the cordon: replicas stay Pending until then, so an object
 * changes only when kubectl changes it; the namespace test after it has its replica run and stop.
 */

let server: BerthServer;
let fleet: SimFleet | undefined;
let dir: string;
let front: KubectlFront;
const kubeconfigs: Record<string, string> = {};

const kubectl = (config: string, args: string[]) => runKubectl(kubeconfigs[config]!, dir, args);

async function ok(args: string[], config = 'admin'): Promise<string> {
  const r = await kubectl(config, args);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}\n${server.output().slice(-2000)}`).toBe(0);
  return r.stdout;
}

async function writeKubeconfig(name: string, token: string) {
  kubeconfigs[name] = await writeKubeconfigFile(dir, front, name, token, 'default');
}

const manifest = (image: string, replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 8080
        env:
        - {name: MODE, value: edge}
`;

function writeManifest(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The Deployment as /v1 stores it. */
async function stored(name = 'web') {
  const res = await server.call('GET', `/v1/namespaces/default/deployments/${name}`);
  return res.body as {
    metadata: {
      annotations?: Record<string, string>;
      labels: Record<string, string>;
      resourceVersion: string;
    };
    spec: {
      replicas: number;
      paused?: boolean;
      template: {
        metadata: { annotations?: Record<string, string> };
        spec: { containers: { image: string }[] };
      };
    };
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kubectl-write-'));
  server = await startBerthServer();
  front = await startTlsFront(dir, server.url);
  await writeKubeconfig('admin', server.adminToken);
  const res = await server.call('POST', '/v1/tokens', {
    name: 'kube-viewer',
    role: 'viewer',
    namespaces: ['default'],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await writeKubeconfig('viewer', (res.body as { token: string }).token);
  const ci = await server.call('POST', '/v1/tokens', {
    name: 'kube-deployer',
    role: 'deployer',
    namespaces: ['shop'],
  });
  expect(ci.status, JSON.stringify(ci.body)).toBe(201);
  await writeKubeconfig('deployer', (ci.body as { token: string }).token);
}, 300_000);

afterAll(async () => {
  await fleet?.stop();
  await front?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl writes Berth', () => {
  it('applies a manifest (create), then a changed image as a patch; diff shows the change, then none', async () => {
    const file = writeManifest('web.yaml', manifest('registry.example.com/web:1'));
    expect(await ok(['apply', '-f', file])).toBe('deployment.apps/web created\n');
    const first = await stored();
    expect(first.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      'registry.example.com/web:1',
    );

    writeManifest('web.yaml', manifest('registry.example.com/web:2'));
    const diff = await kubectl('admin', ['diff', '-f', file]);
    expect(diff.code, diff.stderr).toBe(1);
    expect(diff.stdout).toContain('-        image: registry.example.com/web:1');
    expect(diff.stdout).toContain('+        image: registry.example.com/web:2');
    expect((await stored()).metadata.resourceVersion).toBe(first.metadata.resourceVersion);

    expect(await ok(['apply', '-f', file])).toBe('deployment.apps/web configured\n');
    expect((await stored()).spec.template.spec.containers[0]?.image).toBe('registry.example.com/web:2');
    const none = await kubectl('admin', ['diff', '-f', file]);
    expect(none.code, none.stdout + none.stderr).toBe(0);
    expect(await ok(['apply', '-f', file])).toBe('deployment.apps/web unchanged\n');
  });

  it('changes nothing on apply --dry-run=server', async () => {
    // What a write could change: the rollout of the test before may still move the status.
    const written = async () => {
      const { metadata, spec } = await stored();
      return { metadata, spec };
    };
    const before = await written();
    const file = writeManifest('dry.yaml', manifest('registry.example.com/web:dry', 5));
    expect(await ok(['apply', '--dry-run=server', '-f', file])).toBe(
      'deployment.apps/web configured (server dry run)\n',
    );
    expect(await written()).toEqual(before);
  });

  it('scales, sets an image, labels and annotates', async () => {
    expect(await ok(['scale', 'deploy/web', '--replicas=4'])).toBe('deployment.apps/web scaled\n');
    expect(await ok(['set', 'image', 'deploy/web', 'web=registry.example.com/web:3'])).toBe(
      'deployment.apps/web image updated\n',
    );
    expect(await ok(['label', 'deploy', 'web', 'tier=front'])).toBe('deployment.apps/web labeled\n');
    expect(await ok(['annotate', 'deploy', 'web', 'team=edge'])).toBe('deployment.apps/web annotated\n');
    const after = await stored();
    expect(after.spec.replicas).toBe(4);
    expect(after.spec.template.spec.containers[0]?.image).toBe('registry.example.com/web:3');
    expect(after.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(after.metadata.annotations?.team).toBe('edge');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('4');
  });

  it('pauses, resumes and restarts a rollout (a restart is a new pod template)', async () => {
    expect(await ok(['rollout', 'pause', 'deploy/web'])).toBe('deployment.apps/web paused\n');
    expect((await stored()).spec.paused).toBe(true);
    expect(await ok(['rollout', 'resume', 'deploy/web'])).toBe('deployment.apps/web resumed\n');
    expect((await stored()).spec.paused).toBe(false);
    expect(await ok(['rollout', 'restart', 'deploy/web'])).toBe('deployment.apps/web restarted\n');
    const restarted = (await stored()).spec.template.metadata.annotations?.[
      'kubectl.kubernetes.io/restartedAt'
    ];
    expect(restarted).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('applies server-side, and with kustomize (an images override)', async () => {
    const file = writeManifest('ssa.yaml', manifest('registry.example.com/web:ssa', 3));
    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', file])).toBe(
      'deployment.apps/web serverside-applied\n',
    );
    expect((await stored()).spec.template.spec.containers[0]?.image).toBe('registry.example.com/web:ssa');
    expect((await stored()).spec.replicas).toBe(3);

    const kdir = join(dir, 'kustomize');
    mkdirSync(kdir);
    writeFileSync(join(kdir, 'web.yaml'), manifest('registry.example.com/web:1'));
    writeFileSync(
      join(kdir, 'kustomization.yaml'),
      'resources: [web.yaml]\nimages:\n- name: registry.example.com/web\n  newTag: "42"\n',
    );
    await ok(['apply', '-k', kdir]);
    expect((await stored()).spec.template.spec.containers[0]?.image).toBe('registry.example.com/web:42');
  });

  it('prints an invalid field as Kubernetes does, and a viewer is Forbidden', async () => {
    const bad = writeManifest(
      'bad.yaml',
      manifest('registry.example.com/web:1', -1).replace('name: web\n', 'name: bad\n'),
    );
    const invalid = await kubectl('admin', ['apply', '-f', bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('The Deployment "bad" is invalid: spec.replicas: ');
    expect((await server.call('GET', '/v1/namespaces/default/deployments/bad')).status).toBe(404);

    const denied = await kubectl('viewer', ['scale', 'deploy/web', '--replicas=1']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'Error from server (Forbidden): deployments.apps "web" is forbidden: User "kube-viewer" cannot patch resource "deployments" in API group "apps" in the namespace "default"',
    );
    expect((await stored()).spec.replicas).toBe(2);
  });

  it('deletes what a manifest names (without waiting)', async () => {
    const file = join(dir, 'web.yaml');
    expect(await ok(['delete', '-f', file, '--wait=false'])).toBe('deployment.apps "web" deleted\n');
    expect((await server.call('GET', '/v1/namespaces/default/deployments/web')).status).toBe(404);
  });

  it('cordons and uncordons a node', async () => {
    fleet = await startSimAgents({
      server: server.url,
      adminToken: server.adminToken,
      count: 1,
      prefix: 'kw-node',
      options: { readyAfterMs: 100, waitSeconds: 20 },
    });
    expect(await ok(['cordon', 'kw-node-1'])).toBe('node/kw-node-1 cordoned\n');
    const node = async () =>
      ((await server.call('GET', '/v1/nodes/kw-node-1')).body as { unschedulable: boolean }).unschedulable;
    expect(await node()).toBe(true);
    expect(await ok(['uncordon', 'kw-node-1'])).toBe('node/kw-node-1 uncordoned\n');
    expect(await node()).toBe(false);
  });

  it('applies a Secret twice and then a changed value, and never shows a value (get, diff, last-applied)', async () => {
    const secret = (password: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  user: ${btoa('app')}\n  password: ${btoa(password)}\n`;
    const file = writeManifest('secret.yaml', secret('first-value'));
    const version = async () =>
      (
        (await server.call('GET', '/v1/namespaces/default/secrets/db')).body as {
          metadata: { resourceVersion: string };
        }
      ).metadata.resourceVersion;
    expect(await ok(['apply', '-f', file])).toBe('secret/db created\n');
    const created = await version();
    // kubectl never sees the values, so it sends them again; nothing changed is stored.
    expect(await ok(['apply', '-f', file])).toBe('secret/db configured\n');
    expect(await version()).toBe(created);

    writeManifest('secret.yaml', secret('second-value'));
    const diff = await kubectl('admin', ['diff', '-f', file]);
    expect(diff.code, diff.stderr).toBeLessThan(2);
    expect(diff.stdout).not.toContain(btoa('first-value'));
    expect(await ok(['apply', '-f', file])).toBe('secret/db configured\n');
    expect(await version()).not.toBe(created);

    const shown = await ok(['get', 'secret', 'db', '-o', 'json']);
    for (const value of ['first-value', 'second-value']) {
      expect(shown).not.toContain(btoa(value));
      expect(shown).not.toContain(value);
    }
    // kubectl's JSON writes "<" as \u003c.
    expect(shown).toMatch(/\\u003credacted\\u003e|<redacted>/);
    expect(await ok(['get', 'secret', 'db', '-o', 'jsonpath={.data}'])).toBe('');
    expect(await ok(['label', 'secret', 'db', 'tier=db'])).toBe('secret/db labeled\n');
    expect(await ok(['delete', 'secret', 'db'])).toBe('secret "db" deleted\n');
  });

  it('creates and labels a namespace, refuses a deployer, and deletes one with what runs in it', async () => {
    // From a file: kubectl's typed `create namespace NAME` sends protobuf, which the face refuses (415).
    const ns = (name: string) =>
      writeManifest(`${name}.yaml`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`);
    expect(await ok(['create', '-f', ns('shop')])).toBe('namespace/shop created\n');
    const denied = await kubectl('deployer', ['apply', '-f', ns('other')]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'namespaces is forbidden: User "kube-deployer" cannot create resource "namespaces" in API group "" at the cluster scope',
    );
    expect(await ok(['label', 'namespace', 'shop', 'team=a'])).toBe('namespace/shop labeled\n');
    expect(await ok(['get', 'namespace', '-l', 'team=a', '-o', 'name'])).toBe('namespace/shop\n');

    const file = writeManifest('shop.yaml', manifest('registry.example.com/web:1', 1));
    expect(await ok(['-n', 'shop', 'apply', '-f', file], 'deployer')).toBe('deployment.apps/web created\n');
    const denyDelete = await kubectl('deployer', ['delete', 'namespace', 'shop']);
    expect(denyDelete.code).toBe(1);
    expect(denyDelete.stderr).toContain('(Forbidden)');

    // kubectl waits until the namespace has gone: its replica stopped, its Deployment removed.
    expect(await ok(['delete', 'namespace', 'shop', '--timeout=60s'])).toBe('namespace "shop" deleted\n');
    const gone = await kubectl('admin', ['get', 'namespace', 'shop']);
    expect(gone.stderr).toContain('Error from server (NotFound): namespaces "shop" not found');
    const refused = await kubectl('admin', ['delete', 'namespace', 'default']);
    expect(refused.stderr).toContain('namespaces "default" is forbidden: this namespace may not be deleted');
  });
});
