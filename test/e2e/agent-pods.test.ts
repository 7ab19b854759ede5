import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Probe } from '../../common/deployment.ts';
import {
  type AgentProcess,
  allReady,
  cleanupDir,
  docker,
  HTTPD_1,
  hostPortOf,
  httpdContainer,
  httpdReplica,
  httpText,
  nodeContainers,
  ROOT,
  removeNodeContainers,
  replicaOf,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
  until,
} from './support/agent-harness.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

// Pod semantics: shared localhost, probes of every kind, restart policies and backoff.
describe('berth-agent pods', () => {
  const node = uniqueNode('e2e-pod');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;
  let unrelated: string | undefined;

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    // The checkout's launcher (the sources through tsx), which developers run; the other files run the bundle.
    agent = startAgentProcess({
      server: cp.url,
      name: node,
      dataDir,
      joinToken: cp.joinToken,
      entry: join(ROOT, 'bin/berth-agent.mjs'),
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    if (unrelated)
      await docker
        .getContainer(unrelated)
        .remove({ force: true })
        .catch(() => {});
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('runs a two-container pod whose containers share localhost', async () => {
    const pod = httpdReplica({
      containers: [
        httpdContainer(),
        {
          name: 'sidecar',
          image: HTTPD_1,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'echo sidecar up; exec sleep 3600'],
          env: [],
          ports: [],
          resources: {},
          // Ready only if the web container answers on the pod's localhost.
          readinessProbe: Probe.parse({
            exec: { command: ['wget', '-qO-', 'http://localhost:8080/'] },
            periodSeconds: 2,
          }),
        },
      ],
    });
    cp.setAssignments(node, [pod]);
    const { report } = await cp.waitForReport(node, allReady([pod.id]));
    const s = replicaOf(report, pod.id)!;
    expect(s.containers.map((c) => [c.name, c.state, c.ready])).toEqual([
      ['web', 'running', true],
      ['sidecar', 'running', true],
    ]);
    expect(s.containers[1]!.hostPorts).toEqual([]);
    expect((await httpText(`http://127.0.0.1:${hostPortOf(s)}/`)).trim()).toBe('v1');
    const sidecar = await docker.getContainer(s.containers[1]!.containerId!).inspect();
    expect(sidecar.HostConfig.NetworkMode).toBe(`container:${s.containers[0]!.containerId}`);

    const logs = await cp.requestLogs(node, pod.id, 20);
    expect(logs.lines).toContain('[sidecar] sidecar up');
  });

  it('restarts the other containers of a pod when its network owner restarts', async () => {
    const pod = cp.assignments(node)[0]!;
    const before = replicaOf(cp.latest(node), pod.id)!;
    await docker.getContainer(before.containers[0]!.containerId!).kill();
    const { report } = await cp.waitForReport(node, (r) => {
      const s = replicaOf(r, pod.id);
      return s?.ready === true && s.containers.every((c) => c.restartCount === 1);
    });
    const s = replicaOf(report, pod.id)!;
    // Same containers, started again: the sidecar reaches web on localhost in the new namespace.
    expect(s.containers.map((c) => c.containerId)).toEqual(before.containers.map((c) => c.containerId));
    const exec = await docker.getContainer(s.containers[1]!.containerId!).exec({
      Cmd: ['wget', '-qO-', 'http://localhost:8080/'],
      AttachStdout: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    await new Promise((r) => stream.on('end', r).resume());
    expect((await exec.inspect()).ExitCode).toBe(0);
  });

  it('restarts a container whose liveness probe fails', async () => {
    const sick = httpdReplica(
      {},
      {
        livenessProbe: Probe.parse({
          httpGet: { path: '/no-such-page', port: 8080 },
          periodSeconds: 1,
          failureThreshold: 1,
        }),
      },
    );
    cp.setAssignments(node, [sick]);
    await cp.waitForReport(
      node,
      (r) => (replicaOf(r, sick.id)?.containers[0]?.restartCount ?? 0) >= 1,
      20_000,
    );
  });

  it('follows restartPolicy Never and OnFailure', async () => {
    const run = (policy: 'Never' | 'OnFailure', code: number) =>
      httpdReplica(
        { restartPolicy: policy },
        { command: ['sh', '-c', `exit ${code}`], ports: [], readinessProbe: undefined },
      );
    const failed = run('Never', 3);
    const done = run('OnFailure', 0);
    cp.setAssignments(node, [failed, done]);
    const { report } = await cp.waitForReport(
      node,
      (r) => replicaOf(r, failed.id)?.phase === 'Failed' && replicaOf(r, done.id)?.phase === 'Succeeded',
    );
    expect(replicaOf(report, failed.id)).toMatchObject({
      ready: false,
      message: 'container web exited with code 3',
      containers: [{ state: 'terminated', exitCode: 3, restartCount: 0, reason: 'Error' }],
    });
    expect(replicaOf(report, done.id)?.containers[0]).toMatchObject({ state: 'terminated', exitCode: 0 });
  });

  it('backs off a crashing container (CrashLoopBackOff)', async () => {
    const crash = httpdReplica({}, { command: ['sh', '-c', 'exit 1'], ports: [], readinessProbe: undefined });
    cp.setAssignments(node, [crash]);
    const { report } = await cp.waitForReport(node, (r) => {
      const c = replicaOf(r, crash.id)?.containers[0];
      return c?.restartCount === 1 && c.state === 'waiting' && c.reason === 'CrashLoopBackOff';
    });
    expect(replicaOf(report, crash.id)?.message).toMatch(/back-off \d+s restarting failed container web/);
    // The second restart waits 10 s: none may happen within 3 s.
    await new Promise((r) => setTimeout(r, 3000));
    expect(replicaOf(cp.latest(node), crash.id)?.containers[0]?.restartCount).toBe(1);
  });

  it('probes with tcpSocket too, and leaves containers without Berth labels alone', async () => {
    const c = await docker.createContainer({ Image: HTTPD_1, name: `unrelated-${node}` });
    unrelated = c.id;
    const tcp = httpdReplica({}, { readinessProbe: Probe.parse({ tcpSocket: { port: 'http' } }) });
    cp.setAssignments(node, [tcp]);
    await cp.waitForReport(node, allReady([tcp.id]));
    cp.setAssignments(node, []);
    await until(
      'containers removed',
      async () => (await nodeContainers(node)).length === 0 || undefined,
      20_000,
    );
    expect((await docker.getContainer(unrelated).inspect()).Id).toBe(unrelated);
  });
});
