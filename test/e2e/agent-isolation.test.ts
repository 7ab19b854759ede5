import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demuxDockerStream } from '../../agent/log-tail.ts';
import type { Assignment } from '../../common/agent-protocol.ts';
import { freshPostgres } from '../support/databases.ts';
import { freePort, type ServerProcess, startServerProcess } from '../support/processes.ts';
import {
  type AgentProcess,
  allReady,
  cleanupDir,
  docker,
  hostPortOf,
  httpdReplica,
  httpText,
  removeNodeContainers,
  replicaOf,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
  until,
} from './support/agent-harness.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

/**
 * What a tenant's containers cannot do on a node (issue 14): gain privileges, forge packets,
 * exhaust the node's processes, reach another namespace's containers, or reach the cloud
 * metadata service; and what a deployer cannot make the agent do (probe another host).
 */

const METADATA = '169.254.169.254';
const CAP_NET_RAW = 13n;

/** Runs a command in a container; exit code and output. */
async function execIn(id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((r) => stream.once('end', r));
  return { code: (await exec.inspect()).ExitCode ?? -1, out: demuxDockerStream(Buffer.concat(chunks)) };
}

/** `wget` from inside a container, bounded (busybox's own wget -T crashes: see test/fixtures/images). */
const fetchFrom = (id: string, url: string, seconds: number) =>
  execIn(id, ['timeout', String(seconds), 'wget', '-qO-', url]);

async function containerIp(id: string): Promise<string> {
  const info = await docker.getContainer(id).inspect();
  const ip = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress;
  if (!ip) throw new Error(`container ${id} has no address`);
  return ip;
}

function sh(...args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });
}
function shQuiet(...args: string[]): void {
  spawnSync(args[0]!, args.slice(1), { stdio: 'ignore' });
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

describe('berth-agent: what a tenant container cannot reach or do', () => {
  const node = uniqueNode('e2e-iso');
  const suffix = randomBytes(3).toString('hex');
  const nsA = `iso-a-${suffix}`;
  const nsB = `iso-b-${suffix}`;
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;
  const replicas: Assignment[] = [];
  const assign = (...more: Assignment[]) => {
    replicas.push(...more);
    cp.setAssignments(node, [...replicas]);
  };
  const containerOf = (id: string) => replicaOf(cp.latest(node), id)?.containers[0]?.containerId ?? '';

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.joinToken });
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    for (const ns of [nsA, nsB])
      await docker
        .getNetwork(`berth-ns-${ns}`)
        .remove()
        .catch(() => {});
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('runs containers with no new privileges and without CAP_NET_RAW', async () => {
    const r = httpdReplica(
      { namespace: nsA },
      {
        command: [
          'sh',
          '-c',
          'grep -E "^(NoNewPrivs|CapEff):" /proc/self/status; exec httpd -f -p 8080 -h /www',
        ],
      },
    );
    assign(r);
    await cp.waitForReport(node, allReady([r.id]));
    const lines = (await cp.requestLogs(node, r.id, 20)).lines.join('\n');
    expect(lines).toMatch(/NoNewPrivs:\s+1/);
    const capEff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(lines)?.[1] ?? 'x'}`);
    expect(capEff & (1n << CAP_NET_RAW)).toBe(0n);
    // Docker's other default capabilities stay (CAP_CHOWN is bit 0): only NET_RAW is taken.
    expect(capEff & 1n).toBe(1n);
    const info = await docker.getContainer(containerOf(r.id)).inspect();
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(info.HostConfig.CapDrop).toEqual(['NET_RAW']);
    expect(info.HostConfig.PidsLimit).toBe(4096);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    // The agent says at start whether the metadata address is blocked.
    expect(agent.output()).toMatch(/containers cannot reach the cloud metadata address/);
  });

  it("keeps one namespace's containers from another's; within a namespace, and through published ports, all is as before", async () => {
    const a2 = httpdReplica({ namespace: nsA });
    const b1 = httpdReplica({ namespace: nsB });
    const b2 = httpdReplica({ namespace: nsB });
    assign(a2, b1, b2);
    const { report } = await cp.waitForReport(node, allReady(replicas.map((r) => r.id)));
    const a1 = replicas[0]!;
    const [ipA1, ipB1] = await Promise.all([
      containerIp(containerOf(a1.id)),
      containerIp(containerOf(b1.id)),
    ]);
    const a2c = containerOf(a2.id);
    const b2c = containerOf(b2.id);
    expect((await docker.getContainer(a2c).inspect()).HostConfig.NetworkMode).toBe(`berth-ns-${nsA}`);
    expect((await docker.getContainer(b2c).inspect()).HostConfig.NetworkMode).toBe(`berth-ns-${nsB}`);

    // Same namespace: reachable by container address, both ways round.
    expect(await fetchFrom(a2c, `http://${ipA1}:8080/`, 20)).toMatchObject({ code: 0, out: 'v1' });
    expect(await fetchFrom(b2c, `http://${ipB1}:8080/`, 20)).toMatchObject({ code: 0, out: 'v1' });
    // Another namespace: not reachable (Docker drops traffic between bridge networks).
    expect((await fetchFrom(a2c, `http://${ipB1}:8080/`, 3)).code).not.toBe(0);
    expect((await fetchFrom(b2c, `http://${ipA1}:8080/`, 3)).code).not.toBe(0);

    // Published host ports answer exactly as before, for every namespace.
    for (const r of [a1, a2, b1, b2])
      expect((await httpText(`http://127.0.0.1:${hostPortOf(replicaOf(report, r.id))}/`)).trim()).toBe('v1');
  });

  it('rejects the metadata address when the node itself answers on it, while the node reaches it', async () => {
    const dummy = `bmd${suffix}`;
    const server = createServer((_, res) => res.end('metadata'));
    try {
      // A dummy interface where the kernel has the module, else one end of a veth pair: either
      // way the address is the node's own, and packets to it are delivered locally (INPUT).
      if (spawnSync('ip', ['link', 'add', dummy, 'type', 'dummy']).status !== 0)
        sh('ip', 'link', 'add', dummy, 'type', 'veth', 'peer', 'name', `${dummy}p`);
      sh('ip', 'addr', 'add', `${METADATA}/32`, 'dev', dummy);
      sh('ip', 'link', 'set', dummy, 'up');
      const port = await listen(server, '0.0.0.0');
      expect(await httpText(`http://${METADATA}:${port}/`)).toBe('metadata');
      const a2c = containerOf(replicas[1]!.id);
      // The same server on the node's address on the bridge: reachable, so only the address is refused.
      const gateway = (await containerIp(a2c)).replace(/\.\d+$/, '.1');
      expect(await fetchFrom(a2c, `http://${gateway}:${port}/`, 20)).toMatchObject({
        code: 0,
        out: 'metadata',
      });
      const blocked = await fetchFrom(a2c, `http://${METADATA}:${port}/`, 10);
      expect(blocked.code).not.toBe(0);
      expect(blocked.out).not.toContain('metadata');
    } finally {
      server.close();
      shQuiet('ip', 'link', 'del', dummy);
    }
  });

  it('rejects the metadata address routed off the node, as on a cloud, while the node reaches it', async () => {
    // A "metadata service" in its own network namespace, routed through a veth pair: the
    // container's packets are forwarded by the node, as to a cloud's metadata endpoint.
    const netns = `berth-md-${suffix}`;
    const hostEnd = `bmh${suffix}`;
    const nsEnd = `bmn${suffix}`;
    let service: ChildProcess | undefined;
    try {
      sh('ip', 'netns', 'add', netns);
      sh('ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
      sh('ip', 'link', 'set', nsEnd, 'netns', netns);
      sh('ip', 'addr', 'add', '198.18.254.1/30', 'dev', hostEnd);
      sh('ip', 'link', 'set', hostEnd, 'up');
      sh('ip', '-n', netns, 'addr', 'add', '198.18.254.2/30', 'dev', nsEnd);
      sh('ip', '-n', netns, 'addr', 'add', `${METADATA}/32`, 'dev', nsEnd);
      sh('ip', '-n', netns, 'link', 'set', nsEnd, 'up');
      sh('ip', '-n', netns, 'link', 'set', 'lo', 'up');
      sh('ip', '-n', netns, 'route', 'add', 'default', 'via', '198.18.254.1');
      sh('ip', 'route', 'add', `${METADATA}/32`, 'via', '198.18.254.2');
      const port = await freePort();
      service = spawn(
        'ip',
        [
          'netns',
          'exec',
          netns,
          process.execPath,
          '-e',
          `require('node:http').createServer((q, s) => s.end('metadata')).listen(${port}, '0.0.0.0')`,
        ],
        { stdio: 'ignore' },
      );
      await until('the metadata service to answer the node', async () =>
        (await httpText(`http://${METADATA}:${port}/`, 1000)) === 'metadata' ? true : undefined,
      );
      const a2c = containerOf(replicas[1]!.id);
      // The same service on its other address: forwarded and answered, so only the address is refused.
      expect(await fetchFrom(a2c, `http://198.18.254.2:${port}/`, 20)).toMatchObject({
        code: 0,
        out: 'metadata',
      });
      const blocked = await fetchFrom(a2c, `http://${METADATA}:${port}/`, 10);
      expect(blocked.code).not.toBe(0);
      expect(blocked.out).not.toContain('metadata');
    } finally {
      service?.kill('SIGKILL');
      shQuiet('ip', 'route', 'del', `${METADATA}/32`, 'via', '198.18.254.2');
      shQuiet('ip', 'link', 'del', hostEnd);
      shQuiet('ip', 'netns', 'del', netns);
    }
  });
});

describe('berth-agent --pids-limit', () => {
  const node = uniqueNode('e2e-pids');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    agent = startAgentProcess({
      server: cp.url,
      name: node,
      dataDir,
      joinToken: cp.joinToken,
      env: { BERTH_PIDS_LIMIT: '256' },
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await cp?.close();
    await cleanupDir(dataDir);
  });

  it("gives the agent's limit to every container of a pod", async () => {
    const r = httpdReplica(
      {},
      {
        command: [
          'sh',
          '-c',
          'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; exec httpd -f -p 8080 -h /www',
        ],
      },
    );
    cp.setAssignments(node, [r]);
    const { report } = await cp.waitForReport(node, allReady([r.id]));
    const id = replicaOf(report, r.id)!.containers[0]!.containerId!;
    expect((await docker.getContainer(id).inspect()).HostConfig.PidsLimit).toBe(256);
    // What the kernel enforces, as the container sees it (cgroup v1 or v2).
    expect((await cp.requestLogs(node, r.id, 5)).lines.join('\n')).toMatch(/^256$/m);
  });

  // The limit a fork loop meets is the same whatever its value: the agent's own (here 256, so the
  // loop ends in seconds; the default, 4096, is checked on every container above).
  it('stops a fork loop at the pids limit while the agent keeps answering', async () => {
    const bomb = httpdReplica(
      { deployment: 'bomb' },
      {
        // Each `read` blocks on the fifo in a forked shell; the loop ends when fork fails. Bounded
        // above the limit, so that without one it stops short of the node's own pid_max.
        command: [
          'sh',
          '-c',
          'mkfifo /tmp/f; ( i=0; while [ $i -lt 2000 ]; do read x </tmp/f & i=$((i+1)); done ); echo forks-stopped; exec sleep 3600',
        ],
        ports: [],
        resources: {},
        readinessProbe: undefined,
      },
    );
    cp.setAssignments(node, [bomb]);
    await cp.waitForReport(node, (r) => replicaOf(r, bomb.id)?.phase === 'Running');
    const id = replicaOf(cp.latest(node), bomb.id)!.containers[0]!.containerId!;
    const logs = async () =>
      (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })).toString('latin1');
    // As long as it takes this machine to fork 256 processes: the loop itself says when it ended.
    await until(
      'the fork loop to end',
      async () => ((await logs()).includes('forks-stopped') ? true : undefined),
      120_000,
    );
    expect(await logs()).toMatch(/can't fork/);
    const stats = await docker.getContainer(id).stats({ stream: false });
    expect(stats.pids_stats?.current).toBeGreaterThanOrEqual(240);
    expect(stats.pids_stats?.current).toBeLessThanOrEqual(256);

    // With the container at its limit, the agent still creates, starts, probes, reports and answers.
    const after = httpdReplica({});
    cp.setAssignments(node, [bomb, after]);
    await cp.waitForReport(node, allReady([after.id]));
    expect((await cp.requestLogs(node, bomb.id, 5)).lines.join('\n')).toContain('forks-stopped');
    // And the node forks as ever.
    expect(spawnSync('true').status).toBe(0);

    // Removing it frees its processes.
    cp.setAssignments(node, [after]);
    await cp.waitForReport(node, (r) => !replicaOf(r, bomb.id), 60_000);
  }, 180_000);
});

describe('probe host through the API', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let deployer: string;

  beforeAll(async () => {
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url });
    const created = await server.call('POST', '/v1/tokens', {
      name: 'ci',
      role: 'deployer',
      namespaces: ['default'],
    });
    expect(created.status).toBe(201);
    deployer = created.body.token;
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const deployment = (probe: Record<string, unknown>) => ({
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'berth-test/httpd:1', readinessProbe: probe }] },
      },
    },
  });
  const PATH = 'spec.template.spec.containers[0].readinessProbe';

  it('answers 422 naming the path to a PUT whose probe names a host, and stores nothing', async () => {
    for (const [kind, action] of [
      ['httpGet', { path: '/', port: 80, host: METADATA }],
      ['tcpSocket', { port: 22, host: '10.0.0.1' }],
    ] as const) {
      const res = await server.call(
        'PUT',
        '/v1/namespaces/default/deployments/probe-host',
        deployment({ [kind]: action }),
        deployer,
      );
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual([
        { path: `${PATH}.${kind}.host`, message: expect.stringMatching(/^host is not supported by Berth/) },
      ]);
    }
    expect(
      (await server.call('GET', '/v1/namespaces/default/deployments/probe-host', undefined, deployer)).status,
    ).toBe(404);
  });

  it('answers 422 naming the path to POST /v1/apply, Berth JSON and Kubernetes YAML alike', async () => {
    const json = await server.call(
      'POST',
      '/v1/apply?namespace=default',
      [
        {
          apiVersion: 'berth.dev/v1',
          kind: 'Deployment',
          metadata: { name: 'probe-host' },
          ...deployment({ httpGet: { port: 80, host: METADATA } }),
        },
      ],
      deployer,
    );
    expect(json.status).toBe(422);
    expect(json.body.errors).toEqual([
      {
        document: 0,
        kind: 'Deployment',
        name: 'probe-host',
        path: `${PATH}.httpGet.host`,
        message: expect.stringMatching(/^host is not supported by Berth/),
      },
    ]);

    const yaml = `apiVersion: apps/v1
kind: Deployment
metadata: {name: probe-host}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: berth-test/httpd:1
        livenessProbe: {tcpSocket: {port: 22, host: ${METADATA}}}
`;
    const res = await fetch(`${server.url}/v1/apply?namespace=default`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/yaml' },
      body: yaml,
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: unknown[] };
    expect(body.errors).toEqual([
      {
        document: 0,
        kind: 'Deployment',
        name: 'probe-host',
        path: 'spec.template.spec.containers[0].livenessProbe.tcpSocket.host',
        message: expect.stringMatching(/^host is not supported by Berth/),
      },
    ]);

    // A Host header is fine: it does not change where the agent connects.
    const ok = await server.call(
      'PUT',
      '/v1/namespaces/default/deployments/probe-header',
      deployment({
        httpGet: { port: 8080, path: '/', httpHeaders: [{ name: 'Host', value: 'web.example.com' }] },
      }),
      deployer,
    );
    expect(ok.status).toBe(201);
  });
});
