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
 * `kubectl explain` (v1.32) against Berth's OpenAPI v3: the fields of the kinds Berth serves,
 * nested and recursive, each with what Berth does with it; and a client-side `apply`, whose
 * strategic merge patch kubectl computes from the same schemas. No agent is needed: nothing here
 * waits for a replica.
 */

let server: BerthServer;
let dir: string;
let front: KubectlFront;
let config: string;

async function explain(...args: string[]): Promise<string> {
  const r = await runKubectl(config, dir, ['explain', ...args]);
  expect(r.code, `kubectl explain ${args.join(' ')}\n${r.stderr}\n${server.output().slice(-2000)}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kubectl-explain-'));
  server = await startBerthServer();
  front = await startTlsFront(dir, server.url);
  config = await writeKubeconfig(dir, front, 'admin', server.adminToken, 'default');
}, 300_000);

afterAll(async () => {
  await front?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl explain against Berth', () => {
  it('explains a Deployment field with what Berth does with it', async () => {
    const out = await explain('deployment.spec.replicas');
    expect(out).toContain('GROUP:      apps');
    expect(out).toContain('KIND:       Deployment');
    expect(out).toContain('FIELD: replicas <integer>');
    expect(out).toContain('Replicas Berth keeps running');
  });

  it('lists the fields of a pod container, recursively', async () => {
    const out = await explain('pods.spec.containers', '--recursive');
    expect(out).toContain('KIND:       Pod');
    expect(out).toContain('FIELD: containers <[]Container>');
    for (const field of [
      'image\t<string> -required-',
      'livenessProbe\t<Probe>',
      'httpGet\t<HTTPGetAction>',
      'env\t<[]EnvVar>',
    ])
      expect(out).toContain(field);
    // A field Berth refuses is not offered as one (the type's description names it as refused).
    expect(out).not.toMatch(/^\s+volumeDevices\t/m);
    expect(out).toMatch(/Not accepted by Berth[^:]*:\s+claims, resizePolicy, volumeDevices/);
  });

  it('follows nested types down to a probe, and says what Berth refuses', async () => {
    const out = await explain('deploy.spec.template.spec.containers.livenessProbe');
    expect(out).toContain('FIELD: livenessProbe <Probe>');
    expect(out).toContain('the agent restarts the container');
    expect(out).toContain('failureThreshold\t<integer>');
    const pod = await explain('deploy.spec.template.spec');
    expect(pod).toMatch(/Not accepted by Berth[^:]*:[\s\S]*hostAliases/);
    const refused = await runKubectl(config, dir, ['explain', 'deploy.spec.template.spec.hostAliases']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('field "hostAliases" does not exist');
  });

  it('explains Ingress rules and a CronJob schedule', async () => {
    const rules = await explain('ingress.spec.rules');
    expect(rules).toContain('GROUP:      networking.k8s.io');
    expect(rules).toContain('FIELD: rules <[]IngressRule>');
    expect(rules).toContain('host\t<string>');
    expect(rules).toContain('http\t<HTTPIngressRuleValue>');
    const schedule = await explain('cronjob.spec.schedule');
    expect(schedule).toContain('GROUP:      batch');
    expect(schedule).toContain('FIELD: schedule <string>');
    expect(schedule).toContain('Five cron fields');
  });

  it('explains every kind Berth serves', async () => {
    for (const kind of [
      'configmaps',
      'endpoints',
      'events',
      'pvc',
      'secrets',
      'sa',
      'ns',
      'nodes',
      'svc',
      'rs',
      'jobs',
    ]) {
      const out = await explain(kind);
      expect(out).toContain('DESCRIPTION:');
      expect(out).toContain('metadata\t<ObjectMeta>');
    }
  });

  it("applies with the schemas' merge keys: a var dropped from the manifest goes, another writer's stays", async () => {
    const manifest = (env: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: merged}
spec:
  selector: {matchLabels: {app: merged}}
  template:
    metadata: {labels: {app: merged}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1
        env:
${env}
`;
    const file = join(dir, 'merged.yaml');
    const kubectl = async (args: string[]) => {
      const r = await runKubectl(config, dir, args);
      expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    writeFileSync(file, manifest('        - {name: MODE, value: a}\n        - {name: OLD, value: x}'));
    await kubectl(['apply', '-f', file]);
    // Not in the last-applied configuration: a merge keeps it.
    await kubectl(['set', 'env', 'deploy/merged', 'EXTRA=1']);
    // OLD leaves the manifest: only a patch computed with env's merge key says to delete it
    // (`$patch: delete`); without one kubectl sends the new list, which Berth merges by name.
    writeFileSync(file, manifest('        - {name: MODE, value: b}'));
    await kubectl(['apply', '-f', file]);
    const env = JSON.parse(
      await kubectl(['get', 'deploy', 'merged', '-o', 'jsonpath={.spec.template.spec.containers[0].env}']),
    );
    expect(env).toEqual([
      { name: 'MODE', value: 'b' },
      { name: 'EXTRA', value: '1' },
    ]);
  });
});
