import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
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
 * Required pod anti-affinity on kubernetes.io/hostname over three real agents (three node names
 * on the shared Docker Engine: each agent labels its containers with its node and touches no
 * other's): one replica per node, each ready; a fourth has nowhere to go and waits Pending with
 * the scheduler's reason. One agent also offers an extended resource (BERTH_EXTENDED_RESOURCES):
 * `berth describe node` shows it beside the disk every agent reports.
 */
const deployment = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      automountServiceAccountToken: false
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: spread}}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: web
        image: ${HTTPD_1}
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
`;

interface ApiReplica {
  id: string;
  node: string | null;
  phase: string;
  ready: boolean;
  message?: string | null;
}

describe('required pod anti-affinity over three real agents', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let dir: string;
  const agents: AgentProcess[] = [];
  const nodes = [uniqueNode('e2e-anti-a'), uniqueNode('e2e-anti-b'), uniqueNode('e2e-anti-c')];
  const cli = (args: string[]) =>
    berthCli(args, { env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir } });
  const replicas = async () =>
    (await server.call('GET', '/v1/namespaces/default/replicas?deployment=spread')).body
      .items as ApiReplica[];
  const apply = async (count: number) => {
    const file = join(dir, `spread-${count}.yaml`);
    writeFileSync(file, deployment(count));
    const applied = await cli(['apply', '-f', file]);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
  };

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    const joinToken = (await server.call('POST', '/v1/join-tokens', { maxUses: 3 })).body.token;
    dir = await tempDir('berth-e2e-anti');
    // The first also offers an extended resource, as an operator with a device would.
    for (const name of nodes)
      agents.push(
        startAgentProcess({
          server: server.url,
          name,
          dataDir: join(dir, name),
          joinToken,
          ...(name === nodes[0] ? { env: { BERTH_EXTENDED_RESOURCES: 'example.com/dongle=1' } } : {}),
        }),
      );
    try {
      await eventually(
        async () => {
          for (const name of nodes)
            if ((await server.call('GET', `/v1/nodes/${name}`)).status !== 200) return false;
          return true;
        },
        60_000,
        'three agents to register',
      );
    } catch (e) {
      throw new Error(`${String(e)}\n${agents.map((a) => a.output().slice(-2000)).join('\n---\n')}`);
    }
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all(nodes.map((n) => removeNodeContainers(n)));
    await server?.close();
    await db?.drop();
    if (dir) await cleanupDir(dir);
  });

  it('shows what an agent offers beyond cpu and memory: its extended resources and its disk', async () => {
    const described = await cli(['describe', 'node', nodes[0]!]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^Allocatable: .*, ephemeral-storage \S+, example\.com\/dongle 1$/m);
    const other = (await server.call('GET', `/v1/nodes/${nodes[1]}`)).body;
    expect(other.allocatable.ephemeralStorageBytes).toBeGreaterThan(0);
    expect(other.allocatable.extendedResources).toBeUndefined();
  });

  it('runs one ready replica on each node, and a fourth waits Pending with the reason', async () => {
    await apply(3);
    const ready = await eventually(
      async () => {
        const list = await replicas();
        return list.length === 3 && list.every((r) => r.ready && r.phase === 'Running') ? list : undefined;
      },
      90_000,
      'three ready replicas',
    );
    expect(ready.map((r) => r.node).sort()).toEqual([...nodes].sort());
    // Each agent runs its own replica's container on the engine, none of another node's.
    for (const name of nodes) {
      const mine = ready.find((r) => r.node === name)!;
      const running = (await nodeContainers(name)).filter((c) => c.Labels['berth.dev/container'] === 'web');
      expect(running.map((c) => c.Labels['berth.dev/replica'])).toEqual([mine.id]);
    }

    await apply(4);
    const waiting = await eventually(
      async () => {
        const list = await replicas();
        const pending = list.find((r) => r.node === null || r.node === undefined);
        return list.length === 4 && pending?.message ? pending : undefined;
      },
      30_000,
      'the fourth replica to be Pending with a reason',
    );
    expect(waiting.phase).toBe('Pending');
    expect(waiting.message).toBe("0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules");
    // The three placed replicas are untouched and still ready.
    const after = await replicas();
    expect(
      after
        .filter((r) => r.ready)
        .map((r) => r.id)
        .sort(),
    ).toEqual(ready.map((r) => r.id).sort());
    const listed = await cli(['get', 'replicas']);
    expect(listed.stdout).toMatch(/Pending/);
  });
});
