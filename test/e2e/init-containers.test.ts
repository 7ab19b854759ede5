import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssignedInitContainer, Assignment, ReplicaStatus } from '../../common/agent-protocol.ts';
import { Probe } from '../../common/deployment.ts';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  allReady,
  cleanupDir,
  docker,
  HTTPD_1,
  httpdContainer,
  httpdReplica,
  httpText,
  nodeContainers,
  removeNodeContainers,
  replicaOf,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { berthCli } from './support/cli-run.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

/*
 * Init containers and native sidecars on the real Docker Engine: the order they start in (read
 * from the engine's own start and finish times), what they share (the pod's localhost), restarts
 * with back-off, logs, an agent restart, and the order of termination.
 */

/**
 * A sidecar that stores what init containers send it: GET /cgi-bin/put?VALUE keeps VALUE, which
 * GET /marker then answers, on the pod's localhost:9000. /started is its start time.
 */
const STORE = [
  'mkdir -p /tmp/www/cgi-bin',
  `printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\necho "$QUERY_STRING" > /tmp/www/marker\\necho stored\\n' > /tmp/www/cgi-bin/put`,
  'chmod +x /tmp/www/cgi-bin/put',
  'date +%s%N > /tmp/www/started',
  'echo store up',
  'exec httpd -f -p 9000 -h /tmp/www',
].join(' && ');

function init(
  name: string,
  script: string,
  over: Partial<AssignedInitContainer> = {},
): AssignedInitContainer {
  return {
    name,
    image: HTTPD_1,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', script],
    env: [],
    ports: [],
    resources: {},
    ...over,
  };
}

const exec = (cmd: string[], periodSeconds = 1) => Probe.parse({ exec: { command: cmd }, periodSeconds });

function pod(): Assignment {
  return httpdReplica({
    initContainers: [
      init('store', STORE, {
        restartPolicy: 'Always',
        ports: [{ name: 'store', containerPort: 9000, protocol: 'TCP' }],
        startupProbe: exec(['wget', '-qO', '/dev/null', 'http://127.0.0.1:9000/started']),
      }),
      // Reaches the sidecar on the pod's localhost and leaves a marker with it.
      init('marker', 'echo marking; wget -qO- "http://127.0.0.1:9000/cgi-bin/put?init-$(hostname)"'),
      // Fails twice, then succeeds: its writable layer survives its restarts.
      init(
        'flaky',
        'n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; echo "attempt $n"; [ $n -ge 3 ]',
      ),
    ],
    containers: [
      // Ready only once it reads the init container's marker on the pod's localhost.
      httpdContainer({ readinessProbe: exec(['wget', '-qO-', 'http://127.0.0.1:9000/marker']) }),
    ],
  });
}

interface Times {
  started: number;
  finished: number | undefined;
}

async function timesOf(node: string, replica: string): Promise<Map<string, Times>> {
  const out = new Map<string, Times>();
  for (const c of await nodeContainers(node)) {
    if (c.Labels['berth.dev/replica'] !== replica) continue;
    const s = (await docker.getContainer(c.Id).inspect()).State;
    const at = (t: string) => (t.startsWith('0001-') ? undefined : Date.parse(t));
    out.set(c.Labels['berth.dev/container']!, { started: at(s.StartedAt)!, finished: at(s.FinishedAt) });
  }
  return out;
}

async function execIn(id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const e = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise((r) => stream.on('data', (b: Buffer) => chunks.push(b)).on('end', r));
  // The multiplexed stream: 8-byte frame headers before each chunk.
  const raw = Buffer.concat(chunks);
  let text = '';
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4);
    text += raw.subarray(i + 8, i + 8 + size).toString();
    i += 8 + size;
  }
  return { code: (await e.inspect()).ExitCode ?? -1, out: text };
}

describe('init containers and sidecars on Docker', () => {
  const node = uniqueNode('e2e-init');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;
  const a = pod();

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.joinToken });
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('runs the init containers in order, restarting the failing one, before the app container', async () => {
    cp.setAssignments(node, [a]);
    const init = (r: ReplicaStatus | undefined, name: string) =>
      r?.initContainers?.find((c) => c.name === name);

    // While flaky backs off: Init:2/3, the sidecar running, the app waiting for the init containers.
    const { report: backingOff } = await cp.waitForReport(
      node,
      (r) => init(replicaOf(r, a.id), 'flaky')?.reason === 'CrashLoopBackOff',
      60_000,
    );
    const b = replicaOf(backingOff, a.id)!;
    expect(b).toMatchObject({ phase: 'Starting', ready: false });
    expect(b.message).toMatch(/^Init:2\/3: back-off \d+s restarting failed container flaky \(exit code 1\)$/);
    expect(b.containers).toEqual([
      expect.objectContaining({ name: 'web', state: 'waiting', reason: 'PodInitializing' }),
    ]);
    expect(b.initContainers!.map((c) => [c.name, c.state])).toEqual([
      ['store', 'running'],
      ['marker', 'terminated'],
      ['flaky', 'waiting'],
    ]);

    // Through the back-off (10 s), then ready.
    const { report } = await cp.waitForReport(node, allReady([a.id]), 60_000);
    const s = replicaOf(report, a.id)!;
    expect(s.message).toBeUndefined();
    expect(s.initContainers).toEqual([
      expect.objectContaining({ name: 'store', state: 'running', ready: true, restartCount: 0 }),
      expect.objectContaining({ name: 'marker', state: 'terminated', reason: 'Completed', exitCode: 0 }),
      expect.objectContaining({ name: 'flaky', state: 'terminated', reason: 'Completed', restartCount: 2 }),
    ]);
    // The sidecar's port is published by the pod, as the app's is.
    const storePort = s.initContainers![0]!.hostPorts.find((h) => h.containerPort === 9000)!.hostPort;
    const marker = (await httpText(`http://127.0.0.1:${storePort}/marker`)).trim();
    expect(marker).toMatch(/^init-/);

    // The app container sees the marker on its localhost.
    const web = s.containers[0]!;
    expect(
      (await execIn(web.containerId!, ['wget', '-qO-', 'http://127.0.0.1:9000/marker'])).out.trim(),
    ).toBe(marker);

    // The engine's own clock: the holder, the sidecar (running), each init container started after
    // the one before it finished, the app container last.
    const t = await timesOf(node, a.id);
    expect(t.get('POD')!.started).toBeLessThanOrEqual(t.get('store')!.started);
    expect(t.get('store')!.finished).toBeUndefined();
    expect(t.get('store')!.started).toBeLessThanOrEqual(t.get('marker')!.started);
    expect(t.get('marker')!.finished!).toBeLessThanOrEqual(t.get('flaky')!.started);
    expect(t.get('flaky')!.finished!).toBeLessThanOrEqual(t.get('web')!.started);
    // Every container in the holder's network namespace.
    const holder = (await nodeContainers(node)).find((c) => c.Labels['berth.dev/container'] === 'POD')!;
    // The holder runs with no privilege at all.
    const h = await docker.getContainer(holder.Id).inspect();
    expect(h.Config.User).toBe('65535:65535');
    expect(h.HostConfig.CapDrop).toContain('ALL');
    expect(h.HostConfig.ReadonlyRootfs).toBe(true);
    for (const c of [...s.initContainers!, web]) {
      const mode = (await docker.getContainer(c.containerId!).inspect()).HostConfig.NetworkMode;
      expect(mode, c.name).toBe(`container:${holder.Id}`);
    }

    // Their logs, like any container's.
    const logs = await cp.requestLogs(node, a.id, 50);
    expect(logs.lines).toEqual(
      expect.arrayContaining(['[store] store up', '[marker] marking', '[flaky] attempt 3']),
    );
  });

  it('runs no completed init container again when the app container restarts or the agent does', async () => {
    const before = await timesOf(node, a.id);
    const web = replicaOf(cp.latest(node), a.id)!.containers[0]!;
    await docker.getContainer(web.containerId!).kill();
    await cp.waitForReport(node, (r) => {
      const s = replicaOf(r, a.id);
      return s?.ready === true && s.containers[0]!.restartCount === 1;
    });
    await agent.stop();
    agent = startAgentProcess({ server: cp.url, name: node, dataDir });
    cp.setAssignments(node, [a]);
    const { report } = await cp.waitForReport(node, allReady([a.id]), 60_000);
    expect(replicaOf(report, a.id)!.initContainers!.map((c) => c.state)).toEqual([
      'running',
      'terminated',
      'terminated',
    ]);
    const after = await timesOf(node, a.id);
    for (const name of ['POD', 'store', 'marker', 'flaky'])
      expect(after.get(name), name).toEqual(before.get(name));
  });

  it('stops the sidecar after the app container, and the holder last', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const stopAskedNs = Date.now() * 1e6;
    cp.setAssignments(node, []);
    await cp.waitForReport(node, (r) => !replicaOf(r, a.id), 30_000);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const stream = await docker.getEvents({
      since,
      until,
      filters: { type: ['container'], event: ['die'], label: [`berth.dev/replica=${a.id}`] },
    });
    let text = '';
    await new Promise((r) => stream.on('data', (b: Buffer) => (text += b.toString())).on('end', r));
    // Whole seconds reach back before this test: the previous test's kill of web may be among
    // them, so only the deaths since the stop was asked for count.
    const order = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { timeNano: number; Actor: { Attributes: Record<string, string> } })
      .filter((e) => e.timeNano >= stopAskedNs)
      .map((e) => e.Actor.Attributes['berth.dev/container']);
    expect(order).toEqual(['web', 'store', 'POD']);
  });
});

/** An init container that fills an emptyDir the app serves, written as a Kubernetes manifest. */
const SITE = `apiVersion: apps/v1
kind: Deployment
metadata: {name: site}
spec:
  replicas: 1
  selector:
    matchLabels: {app: site}
  template:
    metadata:
      labels: {app: site}
    spec:
      terminationGracePeriodSeconds: 2
      automountServiceAccountToken: false
      volumes:
      - name: content
        emptyDir: {}
      initContainers:
      - name: render
        image: ${HTTPD_1}
        # Waits for the test's go-ahead, so that the replica is seen initializing.
        command: [sh, -c, 'until [ -f /content/go ]; do sleep 0.2; done; echo rendered > /content/index.html; echo render done']
        volumeMounts:
        - {name: content, mountPath: /content}
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      - name: cache
        image: ${HTTPD_1}
        restartPolicy: Always
        command: [httpd, -f, -p, '9000', -h, /www]
      containers:
      - name: web
        image: ${HTTPD_1}
        command: [httpd, -f, -p, '8080', -h, /content]
        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet: {path: /index.html, port: 8080}
          periodSeconds: 1
        volumeMounts:
        - {name: content, mountPath: /content, readOnly: true}
`;

describe('init containers through the API, the agent and the CLI', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let agent: AgentProcess;
  let dir: string;
  let volumeDir: string;
  const node = uniqueNode('e2e-init-api');
  const cli = (args: string[]) =>
    berthCli(args, { env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir } });
  type ApiReplica = ReplicaStatus & { ready: boolean };
  const replicas = async () =>
    (await server.call('GET', '/v1/namespaces/default/replicas?deployment=site')).body.items as ApiReplica[];

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    const joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    dir = await tempDir('berth-e2e-init');
    // A directory on a tmpfs already (the agent would mount one on any other).
    volumeDir = join('/dev/shm', `berth-e2e-${node}`);
    agent = startAgentProcess({
      server: server.url,
      name: node,
      dataDir: join(dir, 'agent'),
      joinToken,
      env: { BERTH_VOLUME_DIR: volumeDir },
    });
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
    if (volumeDir) await rm(volumeDir, { recursive: true, force: true });
    await cleanupDir(dir);
  });

  it('shows Init:0/2 while the first init container runs, then serves what it prepared in a volume', async () => {
    const manifest = join(dir, 'site.yaml');
    writeFileSync(manifest, SITE);
    const applied = await cli(['apply', '-f', manifest]);
    expect([applied.code, applied.stderr]).toEqual([0, '']);

    const initializing = await eventually(
      async () => {
        const [r] = await replicas();
        return r?.initContainers?.[0]?.state === 'running' ? r : undefined;
      },
      60_000,
      'the init container to run',
    );
    expect(initializing).toMatchObject({ phase: 'Starting', ready: false, message: 'Init:0/2' });
    expect(initializing.containers).toEqual([
      expect.objectContaining({ name: 'web', reason: 'PodInitializing' }),
    ]);
    const listed = await cli(['get', 'replicas']);
    expect(listed.stdout).toMatch(
      new RegExp(`${initializing.id}\\s+site\\s+1\\s+${node}\\s+Init:0/2\\s+false`),
    );

    // The go-ahead, through the volume the init container shares with the pod.
    const render = initializing.initContainers![0]!.containerId!;
    await execIn(render, ['touch', '/content/go']);
    const ready = await eventually(
      async () => {
        const [r] = await replicas();
        return r?.ready ? r : undefined;
      },
      60_000,
      'the replica to be ready',
    );
    expect(ready.phase).toBe('Running');
    expect(ready.initContainers!.map((c) => [c.name, c.state, c.reason])).toEqual([
      ['render', 'terminated', 'Completed'],
      ['cache', 'running', undefined],
    ]);
    const hostPort = ready.containers[0]!.hostPorts[0]!.hostPort;
    expect((await httpText(`http://127.0.0.1:${hostPort}/index.html`)).trim()).toBe('rendered');
    expect((await cli(['get', 'replicas'])).stdout).toMatch(/\sRunning\s+true\s/);

    // berth logs reads the init containers too.
    const logs = await cli(['logs', 'deployment/site']);
    expect(logs.stdout).toContain('[render] render done');
  });
});
