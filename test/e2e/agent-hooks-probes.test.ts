import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcHealthServer } from '../../agent/testing/grpc-health-server.ts';
import { Probe } from '../../common/deployment.ts';
import {
  type AgentProcess,
  allReady,
  cleanupDir,
  docker,
  httpdReplica,
  removeNodeContainers,
  replicaOf,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
  until,
} from './support/agent-harness.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

// Lifecycle hooks and the probes Kubernetes added after the first three, on the real engine.
describe('berth-agent lifecycle hooks, startup and grpc probes', () => {
  const node = uniqueNode('e2e-hooks');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;
  let grpc: GrpcHealthServer | undefined;

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.joinToken });
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await grpc?.close();
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('runs postStart before the container counts as running, and preStop before its SIGTERM', async () => {
    // The app says, when SIGTERM reaches it, whether the preStop hook's marker is there yet.
    const app = [
      `trap 'echo "SIGTERM, preStop marker: $(cat /tmp/prestop 2>/dev/null || echo missing)"; exit 0' TERM`,
      'echo app up',
      'while :; do sleep 0.2 & wait $!; done',
    ].join('\n');
    const pod = httpdReplica(
      { terminationGracePeriodSeconds: 10 },
      {
        command: ['sh', '-c', app],
        ports: [],
        readinessProbe: undefined,
        lifecycle: {
          postStart: { exec: { command: ['sh', '-c', 'sleep 1; echo done > /tmp/poststart'] } },
          preStop: { exec: { command: ['sh', '-c', 'sleep 1; echo done > /tmp/prestop'] } },
        },
      },
    );
    const assignedAt = Date.now();
    cp.setAssignments(node, [pod]);
    // Started, its hook running: reported waiting, with its container.
    const during = await cp.waitForReport(node, (r) => {
      const c = replicaOf(r, pod.id)?.containers[0];
      return c?.state === 'waiting' && c.containerId !== undefined;
    });
    expect(replicaOf(during.report, pod.id)?.ready).toBe(false);
    const ready = await cp.waitForReport(node, allReady([pod.id]));
    const id = replicaOf(ready.report, pod.id)!.containers[0]!.containerId!;
    const container = docker.getContainer(id);
    const startedAt = Date.parse((await container.inspect()).State.StartedAt);
    // Ready no sooner than the hook's second after the start (the clocks are one machine's).
    expect(assignedAt + ready.sinceAssignedMs - startedAt).toBeGreaterThanOrEqual(900);

    // Follow its output to the end: the container is removed once it has stopped.
    const stream = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadableStream;
    let output = '';
    const out = new PassThrough();
    out.on('data', (b: Buffer) => {
      output += b.toString();
    });
    docker.modem.demuxStream(stream, out, out);
    const ended = new Promise((r) => stream.on('end', r));

    const stopAt = Date.now();
    cp.setAssignments(node, []);
    await cp.waitForReport(node, (r) => replicaOf(r, pod.id) === undefined, 30_000);
    await ended;
    expect(output).toContain('app up');
    expect(output).toContain('SIGTERM, preStop marker: done');
    // The hook's second came before SIGTERM, and SIGTERM (not SIGKILL at 10 s) ended it.
    const took = Date.now() - stopAt;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(10_000);
  });

  it('a startupProbe holds the liveness probe off while the app starts', async () => {
    // Three seconds before it serves: a liveness probe every second, failing once, would kill it.
    const slow = httpdReplica(
      {},
      {
        command: ['sh', '-c', 'sleep 3; exec httpd -f -p 8080 -h /www'],
        startupProbe: Probe.parse({
          httpGet: { path: '/healthz', port: 8080 },
          periodSeconds: 1,
          failureThreshold: 15,
        }),
        livenessProbe: Probe.parse({
          httpGet: { path: '/healthz', port: 8080 },
          periodSeconds: 1,
          failureThreshold: 1,
        }),
      },
    );
    cp.setAssignments(node, [slow]);
    const { report, sinceAssignedMs } = await cp.waitForReport(node, allReady([slow.id]), 60_000);
    expect(sinceAssignedMs).toBeGreaterThanOrEqual(3000);
    expect(replicaOf(report, slow.id)!.containers[0]!.restartCount).toBe(0);
    // Liveness runs now: two more periods and still no restart.
    await new Promise((r) => setTimeout(r, 2500));
    expect(replicaOf(cp.latest(node), slow.id)!.containers[0]!.restartCount).toBe(0);
  });

  it('a grpc readiness probe follows the health server behind the pod port', async () => {
    // busybox cannot serve gRPC: the pod relays its port 9000 to a health server on the host, so the
    // probe goes the way it goes to any pod, through the published port.
    grpc = await GrpcHealthServer.start('0.0.0.0');
    const relay = `gw=$(ip route | awk '/default/ {print $3}'); exec nc -ll -p 9000 -e nc $gw ${grpc.port}`;
    const pod = httpdReplica(
      {},
      {
        command: ['sh', '-c', relay],
        ports: [{ name: 'grpc', containerPort: 9000, protocol: 'TCP' }],
        readinessProbe: Probe.parse({ grpc: { port: 9000 }, periodSeconds: 1 }),
      },
    );
    cp.setAssignments(node, [pod]);
    await cp.waitForReport(node, allReady([pod.id]), 30_000);
    expect(grpc.asked.length).toBeGreaterThan(0);

    grpc.statuses.set('', 2);
    // (Reports from before it was first ready say not ready too: wait for the one that says why.)
    const { report } = await cp.waitForReport(
      node,
      (r) => replicaOf(r, pod.id)?.ready === false && replicaOf(r, pod.id)?.message !== undefined,
      30_000,
    );
    expect(replicaOf(report, pod.id)).toMatchObject({
      phase: 'Running',
      message: 'readiness probe of web failed: service unhealthy (responded with "NOT_SERVING")',
    });
    grpc.statuses.set('', 1);
    await until('ready again', () => replicaOf(cp.latest(node), pod.id)?.ready === true);
  });
});
