import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually, sleep } from '../support/sim-agents.ts';
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
 * A deployment whose env names a secret that does not exist, on the real agent and Docker Engine:
 * it waits Pending with CreateContainerConfigError and no container, `berth apply` warns about it,
 * and creating the secret starts it within seconds with the value in its environment.
 */
const NS = '/v1/namespaces/default';

describe('a replica waiting for a missing secret, on a real agent and Docker Engine', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let agent: AgentProcess;
  let dir: string;
  const node = uniqueNode('e2e-secret');

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    const joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    dir = await tempDir('berth-e2e-secret');
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

  const replica = async (name: string) =>
    (await server.call('GET', `${NS}/replicas?deployment=${name}`)).body.items[0] as
      | {
          id: string;
          phase: string;
          ready: boolean;
          message: string | null;
          containers: { name: string; state: string; reason?: string; containerId?: string }[];
        }
      | undefined;
  const containersOf = async (deployment: string) =>
    (await nodeContainers(node)).filter((c) => c.Labels['berth.dev/deployment'] === `default/${deployment}`);

  it('waits Pending with no container, warns on apply, and starts within seconds once the secret exists', async () => {
    const manifest = join(dir, 'app.yaml');
    writeFileSync(
      manifest,
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      terminationGracePeriodSeconds: 2
      automountServiceAccountToken: false
      containers:
      - name: web
        image: ${HTTPD_1}
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
        env:
        - {name: MODE, value: prod}
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
`,
    );
    const applied = await berthCli(['apply', '-f', manifest], {
      env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir },
    });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toBe('deployment/app created\n');
    expect(applied.stderr).toBe(
      'Warning: deployment/app: secret "db" not found: its replicas stay Pending (CreateContainerConfigError) until it exists\n',
    );

    const pending = await eventually(
      async () => {
        const r = await replica('app');
        return r?.phase === 'Pending' && r.message?.startsWith('CreateContainerConfigError') ? r : undefined;
      },
      60_000,
      'the replica to wait for its secret',
    );
    expect(pending.message).toBe('CreateContainerConfigError: secret "db" not found');
    expect(pending.containers).toEqual([
      expect.objectContaining({ name: 'web', state: 'waiting', reason: 'CreateContainerConfigError' }),
    ]);
    // Long enough for the agent to have created it if it were going to (a create takes ~50 ms here).
    await sleep(2000);
    expect(await containersOf('app')).toEqual([]);
    expect((await replica('app'))?.phase).toBe('Pending');

    const written = Date.now();
    const put = await server.call('PUT', `${NS}/secrets/db`, {
      type: 'opaque',
      data: { password: 'hunter2' },
    });
    expect(put.status).toBe(201);
    const ready = await eventually(
      async () => {
        const r = await replica('app');
        return r?.ready ? r : undefined;
      },
      60_000,
      'the replica to start once its secret exists',
    );
    // When the engine made the container, not when it became ready (a start and a probe on a
    // loaded machine): woken by the write, its create comes well before a poll times out (25 s)
    // or the safety-net reconcile runs.
    const [created] = await containersOf('app');
    const seconds = ((created!.Created as number) * 1000 - written) / 1000;
    console.log(`secret written to container created: ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(15);
    expect(ready.phase).toBe('Running');
    const [made] = await containersOf('app');
    const env = (await docker.getContainer(made!.Id).inspect()).Config.Env;
    expect(env).toEqual(expect.arrayContaining(['MODE=prod', 'DB_PASSWORD=hunter2']));
  });

  it('keeps the running container when the secret is deleted later', async () => {
    const before = (await containersOf('app')).map((c) => c.Id);
    expect(before).toHaveLength(1);
    expect((await server.call('DELETE', `${NS}/secrets/db`)).status).toBe(200);
    // Anything that sends the node its assignments again now carries the reason: a scale-up.
    await server.call('PUT', `${NS}/deployments/app/scale`, { replicas: 2 });
    await eventually(
      async () => {
        const list = (await server.call('GET', `${NS}/replicas?deployment=app`)).body.items as {
          phase: string;
          message: string | null;
        }[];
        return list.some((r) => r.phase === 'Pending' && r.message?.includes('secret "db" not found'));
      },
      60_000,
      'the new replica to wait for the deleted secret',
    );
    const running = await containersOf('app');
    expect(running.map((c) => c.Id)).toEqual(before);
    expect(running[0]!.State).toBe('running');
    const list = (await server.call('GET', `${NS}/replicas?deployment=app`)).body.items as {
      ready: boolean;
    }[];
    expect(list.filter((r) => r.ready)).toHaveLength(1);
  });
});
