import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type KubectlFront,
  kubectl as runKubectl,
  startTlsFront,
  writeKubeconfig,
} from './support/kubectl-front.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The real kubectl (v1.32) and Berth's field ownership: `apply --server-side` keeps the applied
 * fields as its manager's (so a label dropped from a later apply is removed), another writer's
 * change (`kubectl scale`, a client-side apply) makes a different value a conflict that kubectl
 * prints with its hint, `--force-conflicts` takes the field over, and `--show-managed-fields` shows
 * who holds what. No agent runs: replicas stay Pending, and only kubectl changes the objects.
 */

let server: BerthServer;
let dir: string;
let front: KubectlFront;
let kubeconfig: string;

const kubectl = (args: string[]) => runKubectl(kubeconfig, dir, args);

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}\n${server.output().slice(-2000)}`).toBe(0);
  return r.stdout;
}

const manifest = (name: string, labels: Record<string, string>, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: ${name}
        image: registry.example.com/${name}:1
`;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  subresource?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
}

async function managedFields(name: string): Promise<Entry[]> {
  const out = await ok(['get', 'deploy', name, '-o', 'json', '--show-managed-fields']);
  return (JSON.parse(out) as { metadata: { managedFields?: Entry[] } }).metadata.managedFields ?? [];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kubectl-ssa-'));
  server = await startBerthServer();
  front = await startTlsFront(dir, server.url);
  kubeconfig = await writeKubeconfig(dir, front, 'admin', server.adminToken, 'default');
}, 300_000);

afterAll(async () => {
  await front?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl apply --server-side with field ownership', () => {
  it("keeps the applied fields as kubectl's, and removes a label a later apply drops", async () => {
    const path = file('web.yaml', manifest('web', { app: 'web', tier: 'front' }, 2));
    expect(await ok(['apply', '--server-side', '-f', path])).toBe('deployment.apps/web serverside-applied\n');
    const [entry, ...more] = await managedFields('web');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1' });
    expect(entry?.fieldsType).toBe('FieldsV1');
    expect(entry?.fieldsV1).toMatchObject({
      'f:metadata': { 'f:labels': { 'f:app': {}, 'f:tier': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': {
            'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } },
          },
        },
      },
    });

    file('web.yaml', manifest('web', { app: 'web' }, 2));
    expect(await ok(['apply', '--server-side', '-f', path])).toBe('deployment.apps/web serverside-applied\n');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.labels}'])).toBe('{"app":"web"}');
    // Plain -o yaml leaves the ownership out (kubectl does), and the same apply again changes nothing.
    const yaml = await ok(['get', 'deploy', 'web', '-o', 'yaml']);
    expect(yaml).not.toContain('managedFields');
    const version = await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.resourceVersion}']);
    await ok(['apply', '--server-side', '-f', path]);
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.resourceVersion}'])).toBe(version);
  });

  it("refuses to change replicas kubectl scale set, with kubectl's message; --force-conflicts takes them", async () => {
    expect(await ok(['scale', 'deploy/web', '--replicas=4'])).toBe('deployment.apps/web scaled\n');
    const both = await managedFields('web');
    expect(both.map((e) => `${e.manager}/${e.operation}/${e.subresource ?? ''}`)).toEqual([
      'kubectl/Apply/',
      'kubectl/Update/scale',
    ]);
    expect(both[1]?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(both[0]?.fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
    const shown = await ok(['get', 'deploy', 'web', '-o', 'yaml', '--show-managed-fields']);
    expect(shown).toContain('managedFields:');
    expect(shown).toContain('manager: kubectl');
    expect(shown).toContain('subresource: scale');

    const path = file('web.yaml', manifest('web', { app: 'web' }, 3));
    const refused = await kubectl(['apply', '--server-side', '-f', path]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas',
    );
    expect(refused.stderr).toContain('--force-conflicts');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('4');

    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', path])).toBe(
      'deployment.apps/web serverside-applied\n',
    );
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('3');
    const after = await managedFields('web');
    expect(after.map((e) => e.manager)).toEqual(['kubectl']);
    expect(after[0]?.fieldsV1['f:spec']).toHaveProperty('f:replicas');
  });

  it('names the client-side apply that set a field; an agreeing apply then takes its fields over', async () => {
    const path = file('api.yaml', manifest('api', { app: 'api' }, 2));
    expect(await ok(['apply', '-f', path])).toBe('deployment.apps/api created\n');
    file('api.yaml', manifest('api', { app: 'api' }, 5));
    const refused = await kubectl(['apply', '--server-side', '-f', path]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    expect(refused.stderr).toContain('--force-conflicts');

    // The same value is no conflict; kubectl then rewrites the ownership itself, moving the
    // client-side apply's fields to its own apply (and the last-applied annotation to its keeper).
    file('api.yaml', manifest('api', { app: 'api' }, 2));
    expect(await ok(['apply', '--server-side', '-f', path])).toBe('deployment.apps/api serverside-applied\n');
    const entries = await managedFields('api');
    expect(entries.map((e) => `${e.manager}/${e.operation}`)).toEqual([
      'kubectl/Apply',
      'kubectl-last-applied/Apply',
    ]);
    expect(entries[0]?.fieldsV1['f:spec']).toHaveProperty('f:replicas');
  });

  it("forgets the fields with the object: a recreated object starts with its creator's alone", async () => {
    await ok(['delete', 'deploy', 'api', '--wait=false']);
    const path = file('api.yaml', manifest('api', { app: 'api' }, 1));
    expect(await ok(['apply', '--server-side', '-f', path])).toBe('deployment.apps/api serverside-applied\n');
    expect((await managedFields('api')).map((e) => e.manager)).toEqual(['kubectl']);
  });
});
