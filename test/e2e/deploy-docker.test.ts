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

/**
 * The whole path with nothing simulated: the server and berth-agent as processes, the real
 * Docker Engine, the real PostgreSQL. What a user sees after `berth apply`.
 */
const NS = '/v1/namespaces/default';
const REGISTRY = '127.0.0.1:5000';
const PRIVATE = `${REGISTRY}/berth-test/private:1`;

describe('deployments on a real agent and Docker Engine', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let agent: AgentProcess;
  let agentDir: string;
  let joinToken: string;
  const node = uniqueNode('e2e');

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    agentDir = await tempDir('berth-e2e-agent');
    agent = startAgentProcess({ server: server.url, name: node, dataDir: agentDir, joinToken });
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

  const web = (
    name: string,
    replicas: number,
    extra: Record<string, unknown> = {},
    container: Record<string, unknown> = {},
  ) => ({
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          drainDelaySeconds: 0,
          containers: [
            {
              name: 'web',
              image: HTTPD_1,
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
              ...container,
            },
          ],
          ...extra,
        },
      },
    },
  });
  const replicas = async (name: string) =>
    (await server.call('GET', `${NS}/replicas?deployment=${name}`)).body.items as {
      id: string;
      phase: string;
      ready: boolean;
      desired: string;
      restartCount: number;
      message: string | null;
      hostPorts: { containerPort: number; hostPort: number }[];
      containers: { containerId?: string }[];
    }[];
  const ready = (name: string, n: number, timeout = 60_000) =>
    eventually(
      async () => {
        const d = (await server.call('GET', `${NS}/deployments/${name}`)).body;
        const list = (await replicas(name)).filter((r) => r.desired === 'running');
        return d.status?.readyReplicas === n && list.length === n && list.every((r) => r.ready)
          ? list
          : undefined;
      },
      timeout,
      `${name} to have ${n} ready replicas`,
    );
  const containersOf = async (deployment: string) =>
    (await nodeContainers(node)).filter((c) => c.Labels['berth.dev/deployment'] === `default/${deployment}`);

  it('runs 3 replicas that answer HTTP on their host ports, and scales up and down', async () => {
    expect((await server.call('PUT', `${NS}/deployments/web`, web('web', 3))).status).toBe(201);
    const list = await ready('web', 3);
    for (const r of list) {
      const port = r.hostPorts.find((p) => p.containerPort === 8080)!.hostPort;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('v1');
    }
    await server.call('PUT', `${NS}/deployments/web/scale`, { replicas: 5 });
    await ready('web', 5);
    await server.call('PUT', `${NS}/deployments/web/scale`, { replicas: 2 });
    await ready('web', 2);
    await eventually(
      async () => (await containersOf('web')).length === 2,
      30_000,
      'extra containers to be removed',
    );
  });

  it('restarts a killed container and counts the restart', async () => {
    const [victim] = await ready('web', 2);
    const id = victim!.containers[0]!.containerId!;
    await docker.getContainer(id).kill();
    const after = await eventually(
      async () => {
        const r = (await replicas('web')).find((x) => x.id === victim!.id);
        return r && r.restartCount >= 1 && r.ready ? r : undefined;
      },
      60_000,
      'the killed container to come back',
    );
    expect(after.restartCount).toBeGreaterThanOrEqual(1);
  });

  it('adopts its containers after kill -9 and restart: none recreated, none duplicated', async () => {
    const before = (await containersOf('web')).map((c) => c.Id).sort();
    await agent.kill9();
    agent = startAgentProcess({ server: server.url, name: node, dataDir: agentDir });
    await sleep(3000);
    await ready('web', 2);
    expect((await containersOf('web')).map((c) => c.Id).sort()).toEqual(before);
  });

  it('keeps containers running while the control plane is down', async () => {
    const before = (await containersOf('web')).map((c) => c.Id).sort();
    await server.stop();
    await sleep(3000);
    const during = await containersOf('web');
    expect(during.map((c) => c.Id).sort()).toEqual(before);
    expect(during.every((c) => c.State === 'running')).toBe(true);
    await server.restart();
    await ready('web', 2);
  });

  it('pulls a private image with a registry secret and fails clearly without one, leaving others alone', async () => {
    await docker
      .getImage(PRIVATE)
      .remove({ force: true })
      .catch(() => {});
    await server.call('PUT', `${NS}/secrets/regcred`, {
      type: 'registry',
      data: { server: REGISTRY, username: 'berth', password: 'berth-secret' },
    });
    await server.call(
      'PUT',
      `${NS}/deployments/private`,
      web('private', 1, { imagePullSecrets: [{ name: 'regcred' }] }, { image: PRIVATE }),
    );
    await ready('private', 1, 90_000);
    await docker
      .getImage(PRIVATE)
      .remove({ force: true })
      .catch(() => {});
    await server.call(
      'PUT',
      `${NS}/deployments/nocreds`,
      web('nocreds', 1, {}, { image: PRIVATE, imagePullPolicy: 'Always' }),
    );
    const failed = await eventually(
      async () => {
        const [r] = await replicas('nocreds');
        return r?.phase === 'Failed' && r.message ? r : undefined;
      },
      60_000,
      'the pull without credentials to fail',
    );
    expect(failed.message).toMatch(/unauthorized|authentication|no basic auth|denied/i);
    await ready('web', 2);
    await server.call('DELETE', `${NS}/deployments/nocreds`);
    await server.call('DELETE', `${NS}/deployments/private`);
  });

  it('marks a replica of a missing image Failed with the registry reason', async () => {
    await server.call(
      'PUT',
      `${NS}/deployments/ghost`,
      web('ghost', 1, {}, { image: `${REGISTRY}/berth-test/does-not-exist:1` }),
    );
    const r = await eventually(
      async () => {
        const [x] = await replicas('ghost');
        return x?.phase === 'Failed' && x.message ? x : undefined;
      },
      60_000,
      'the missing image to fail',
    );
    expect(r.message).toMatch(/not found|unknown|manifest|unauthorized/i);
    await ready('web', 2);
    await server.call('DELETE', `${NS}/deployments/ghost`);
  });

  it('runs a two-container pod whose containers share localhost', async () => {
    const body = web('pod', 1);
    (body.spec.template.spec.containers as unknown[]).push({
      name: 'sidecar',
      image: HTTPD_1,
      command: ['/bin/sh', '-c', 'sleep 100000'],
      readinessProbe: {
        exec: { command: ['/bin/sh', '-c', 'wget -qO- http://127.0.0.1:8080/healthz'] },
        periodSeconds: 1,
      },
    });
    await server.call('PUT', `${NS}/deployments/pod`, body);
    await ready('pod', 1);
    expect(await containersOf('pod')).toHaveLength(2);
  });

  it('answers log requests through the agent', async () => {
    const [r] = await ready('web', 2);
    const logs = await server.call('GET', `${NS}/replicas/${r!.id}/logs?tail=20`);
    expect(logs.status).toBe(200);
    expect(Array.isArray(logs.body.lines)).toBe(true);
  });

  it('removes the containers of a deleted deployment', async () => {
    await server.call('DELETE', `${NS}/deployments/pod`);
    await server.call('DELETE', `${NS}/deployments/web`);
    await eventually(
      async () => (await containersOf('web')).length === 0 && (await containersOf('pod')).length === 0,
      60_000,
      'containers to be removed',
    );
    await eventually(async () => (await server.call('GET', `${NS}/deployments/web`)).status === 404);
  });
});
