import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  allReady,
  cleanupDir,
  docker,
  hostPortOf,
  httpdReplica,
  httpText,
  nodeContainers,
  removeNodeContainers,
  replicaOf,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
  until,
} from './support/agent-harness.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Crashes of the agent and outages of the control plane: containers must keep running, be
// restarted when they die, and be adopted (never duplicated) by the next agent process.
describe('berth-agent resilience', () => {
  const node = uniqueNode('e2e-res');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;
  const replicas = [httpdReplica(), httpdReplica(), httpdReplica()];
  const ids = replicas.map((r) => r.id);

  const start = () => {
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.joinToken });
  };
  const containerIds = async () =>
    (await nodeContainers(node))
      .map((c) => `${c.Labels['berth.dev/replica']}/${c.Labels['berth.dev/container']}=${c.Id}`)
      .sort();

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    start();
    cp.setAssignments(node, replicas);
    await cp.waitForReport(node, allReady(ids));
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('adopts its containers after kill -9 and a restart, duplicating none', async () => {
    const before = await containerIds();
    expect(before).toHaveLength(3);
    await agent.kill9();
    const registrations = cp.registrations.length;
    cp.setAssignments(node, replicas); // new reports count from here
    start();
    await cp.waitForReport(node, allReady(ids));
    expect(await containerIds()).toEqual(before);
    // The stored credential was reused: no new registration.
    expect(cp.registrations.length).toBe(registrations);
    expect(agent.output()).toMatch(/adopted container/);
  });

  it('keeps containers running, and restarts them, while the control plane is unreachable', async () => {
    await cp.stopListening();
    const [c] = await docker.listContainers({ filters: { label: [`berth.dev/replica=${ids[0]}`] } });
    await docker.getContainer(c!.Id).kill();
    await until(
      'the killed container to run again',
      async () => (await docker.getContainer(c!.Id).inspect()).State.Running || undefined,
      15_000,
    );
    for (const id of ids) {
      const [x] = await docker.listContainers({ filters: { label: [`berth.dev/replica=${id}`] } });
      expect(x?.State).toBe('running');
    }
    await cp.resumeListening();
    cp.setAssignments(node, replicas);
    const { report } = await cp.waitForReport(node, (r) => {
      const s = replicaOf(r, ids[0]!);
      return allReady(ids)(r) && (s?.containers[0]?.restartCount ?? 0) >= 1;
    });
    expect(replicaOf(report, ids[0]!)?.containers[0]?.containerId).toBe(c!.Id);
  });

  it('keeps serving the saved assignments when restarted during an outage (503s)', async () => {
    const before = await containerIds();
    cp.mode = 'down';
    await agent.kill9();
    start();
    // The agent cannot reach the server, yet must not remove what it was last told to run.
    await until(
      'the agent to resume saved assignments',
      () => /resuming saved assignments/.test(agent.output()) || undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await containerIds()).toEqual(before);
    const status = replicaOf(cp.latest(node), ids[1]!);
    expect((await httpText(`http://127.0.0.1:${hostPortOf(status)}/`)).trim()).toBe('v1');
    cp.mode = 'up';
    cp.setAssignments(node, replicas);
    await cp.waitForReport(node, allReady(ids));
    expect(await containerIds()).toEqual(before);
  });

  it('exits when its credential is refused, registering nothing, and re-joins only with a new join token', async () => {
    const before = await containerIds();
    const registrations = cp.registrations.length;
    cp.revokeCredentials();
    cp.setAssignments(node, replicas);
    const code = await Promise.race([agent.exited, sleep(20_000).then(() => 'still running')]);
    expect(code).toBe(78);
    expect(agent.output()).toMatch(
      /node credential refused: node deleted or reset; re-join it with a new join token/,
    );
    expect(cp.registrations.length).toBe(registrations);
    // Its containers are the Docker Engine's: they keep running.
    expect(await containerIds()).toEqual(before);
    // Started again with the join token it already spent: it stays out.
    start();
    expect(await Promise.race([agent.exited, sleep(20_000).then(() => 'still running')])).toBe(78);
    expect(agent.output()).toMatch(/registration refused|refused the credential/);
    expect(cp.registrations.length).toBe(registrations);
    // An operator's new join token brings it back, adopting its containers.
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.newJoinToken() });
    await until('a new registration', () => cp.registrations.length > registrations || undefined, 20_000);
    cp.setAssignments(node, replicas);
    await cp.waitForReport(node, allReady(ids));
    expect(await containerIds()).toEqual(before);
  });

  it('paces itself by pollIntervalSeconds when the server answers at once (Workers)', async () => {
    cp.longPoll = false;
    cp.pollIntervalSeconds = 1;
    const extra = httpdReplica();
    const t0 = Date.now();
    cp.setAssignments(node, [...replicas, extra]);
    await cp.waitForReport(node, allReady([...ids, extra.id]));
    expect(Date.now() - t0).toBeLessThan(5000);
    const calls = cp.assignmentCalls;
    await new Promise((r) => setTimeout(r, 3000));
    // About one poll a second, not a busy loop.
    expect(cp.assignmentCalls - calls).toBeLessThanOrEqual(5);
    cp.longPoll = true;
    replicas.push(extra);
    ids.push(extra.id);
  });
});
