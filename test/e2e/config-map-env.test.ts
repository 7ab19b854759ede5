import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demuxDockerStream } from '../../agent/log-tail.ts';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  docker,
  HTTPD_1,
  nodeContainers,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { berthCli } from './support/cli-run.ts';

/**
 * A Deployment whose env reads a ConfigMap key, `envFrom` a Secret exactly as `kubectl create
 * secret generic --dry-run=client -o yaml` prints it, and a `$(VAR)` in its args, on the real
 * agent and Docker Engine: the container sees the values.
 */
const NS = '/v1/namespaces/default';
const SECRET = readFileSync(
  new URL('../fixtures/manifests/kubectl-create-secret-generic.yaml', import.meta.url),
  'utf8',
);

/** Runs a command in a container; its output. */
async function execIn(id: string, cmd: string[]): Promise<string> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((r) => stream.once('end', r));
  return demuxDockerStream(Buffer.concat(chunks));
}

describe('env from a ConfigMap and a kubectl-made Secret, on a real agent and Docker Engine', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let agent: AgentProcess;
  let dir: string;
  const node = uniqueNode('e2e-cfg');

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    const joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    dir = await tempDir('berth-e2e-cfg');
    agent = startAgentProcess({ server: server.url, name: node, dataDir: join(dir, 'agent'), joinToken });
    await eventually(
      async () => (await server.call('GET', `/v1/nodes/${node}`)).status === 200,
      30_000,
      'agent registration',
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await server?.close();
    await db?.drop();
  });

  it('runs the container with the ConfigMap value, the secret keys, the pod name and the expanded args', async () => {
    const manifest = join(dir, 'app.yaml');
    writeFileSync(
      manifest,
      `${SECRET}---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {GREETING: hello world}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cfg}
spec:
  replicas: 1
  selector:
    matchLabels: {app: cfg}
  template:
    metadata:
      labels: {app: cfg}
    spec:
      terminationGracePeriodSeconds: 2
      automountServiceAccountToken: false
      containers:
      - name: web
        image: ${HTTPD_1}
        command: [sh, -c, 'echo "$1" > /tmp/arg; exec httpd -f -p 8080 -h /www', sh]
        args: ['--greeting=$(GREETING) from $(POD_NAME), literally $$(GREETING)']
        readinessProbe: {exec: {command: [test, -s, /tmp/arg]}, periodSeconds: 1}
        envFrom:
        - secretRef: {name: app-secrets}
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: app-config, key: GREETING}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
`,
    );
    const applied = await berthCli(['apply', '-f', manifest], {
      env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir },
    });
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect(applied.stdout).toBe(
      'secret/app-secrets created\nconfigmap/app-config created\ndeployment/cfg created\n',
    );

    const ready = await eventually(
      async () => {
        const [r] = (await server.call('GET', `${NS}/replicas?deployment=cfg`)).body.items as {
          id: string;
          ready: boolean;
        }[];
        return r?.ready ? r : undefined;
      },
      60_000,
      'the replica to be ready',
    );
    const [made] = (await nodeContainers(node)).filter(
      (c) => c.Labels['berth.dev/deployment'] === 'default/cfg',
    );
    const seen = await execIn(made!.Id, [
      'sh',
      '-c',
      'echo "$GREETING|$DB_PASSWORD|$DB_USER|$POD_NAME"; cat /tmp/arg',
    ]);
    expect(seen.split('\n')).toEqual([
      `hello world|s3cr=t|app|${ready.id}`,
      `--greeting=hello world from ${ready.id}, literally $(GREETING)`,
      '',
    ]);
  });
});
