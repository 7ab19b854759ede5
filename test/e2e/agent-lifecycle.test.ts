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

// One agent process, one fake control plane: the everyday life of a replica set on one node.
describe('berth-agent lifecycle', () => {
  const node = uniqueNode('e2e-life');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.joinToken });
    await until('registration', () => cp.registrations.length > 0 || undefined, 20_000);
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('registers with its labels, capacity and address', () => {
    const reg = cp.registrations[0]!;
    expect(reg).toMatchObject({ name: node, labels: { test: 'e2e' }, address: '127.0.0.1' });
    expect(reg.capacity.cpu).toBeGreaterThan(0);
    expect(reg.capacity.memoryBytes).toBeGreaterThan(0);
  });

  const replicas = [httpdReplica(), httpdReplica(), httpdReplica()];

  it('runs 3 replicas that become ready and answer HTTP on their host ports', async () => {
    cp.setAssignments(node, replicas);
    const { report, sinceAssignedMs } = await cp.waitForReport(node, allReady(replicas.map((r) => r.id)));
    console.log(`3 replicas: assignment → all ready reported in ${Math.round(sinceAssignedMs)} ms`);
    for (const r of replicas) {
      const status = replicaOf(report, r.id)!;
      expect(status.containers[0]).toMatchObject({
        name: 'web',
        state: 'running',
        restartCount: 0,
        ready: true,
      });
      expect((await httpText(`http://127.0.0.1:${hostPortOf(status)}/`)).trim()).toBe('v1');
    }
    expect(report.capacity?.cpu).toBeGreaterThan(0);
    expect(report.allocatable).toEqual(report.capacity);
  });

  it('labels the containers and applies limits and init', async () => {
    const list = await nodeContainers(node);
    expect(list).toHaveLength(3);
    const info = await docker.getContainer(list[0]!.Id).inspect();
    const labels = info.Config.Labels;
    expect(Object.keys(labels)).toEqual(
      expect.arrayContaining([
        'berth.dev/replica',
        'berth.dev/deployment',
        'berth.dev/namespace',
        'berth.dev/revision',
        'berth.dev/node',
        'berth.dev/container',
        'berth.dev/spec-hash',
      ]),
    );
    expect(labels['berth.dev/deployment']).toBe('default/web');
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.Config.Env).toContain('MODE=test');
    expect(info.HostConfig.PortBindings?.['8080/tcp']?.[0]?.HostIp).toBe('127.0.0.1');
  });

  it('scales up and down', async () => {
    const more = [...replicas, httpdReplica(), httpdReplica()];
    cp.setAssignments(node, more);
    await cp.waitForReport(node, allReady(more.map((r) => r.id)));
    expect(await nodeContainers(node)).toHaveLength(5);

    const fewer = more.slice(0, 2);
    cp.setAssignments(node, fewer);
    await cp.waitForReport(node, (r) => r.replicas.length === 2 && allReady(fewer.map((x) => x.id))(r));
    const left = await nodeContainers(node);
    expect(left.map((c) => c.Labels['berth.dev/replica']).sort()).toEqual(fewer.map((r) => r.id).sort());
    replicas.splice(0, replicas.length, ...fewer);
  });

  it('restarts a killed container and counts it', async () => {
    const target = replicas[0]!;
    const [c] = await docker.listContainers({ filters: { label: [`berth.dev/replica=${target.id}`] } });
    await docker.getContainer(c!.Id).kill();
    const { report } = await cp.waitForReport(node, (r) => {
      const s = replicaOf(r, target.id);
      return s?.ready === true && s.containers[0]!.restartCount === 1;
    });
    const s = replicaOf(report, target.id)!;
    expect(s.containers[0]!.containerId).toBe(c!.Id);
    expect((await httpText(`http://127.0.0.1:${hostPortOf(s)}/`)).trim()).toBe('v1');
  });

  it('reports a desired-stopped replica as Terminating, then drops it and its containers', async () => {
    const [keep, stop] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    cp.setAssignments(node, [keep, { ...stop, desired: 'stopped', drainDelaySeconds: 1 }]);
    await cp.waitForReport(node, (r) => replicaOf(r, stop.id)?.phase === 'Terminating');
    await cp.waitForReport(
      node,
      (r) => replicaOf(r, stop.id) === undefined && replicaOf(r, keep.id)?.ready === true,
    );
    const left = await nodeContainers(node);
    expect(left.map((c) => c.Labels['berth.dev/replica'])).toEqual([keep.id]);
  });

  it('answers log requests', async () => {
    const r = replicas[0]!;
    const status = replicaOf(cp.latest(node), r.id)!;
    await httpText(`http://127.0.0.1:${hostPortOf(status)}/`);
    const answer = await cp.requestLogs(node, r.id, 50);
    expect(answer.error).toBeUndefined();
    expect(Array.isArray(answer.lines)).toBe(true);
    const missing = await cp.requestLogs(node, 'no-such-replica', 10);
    expect(missing.error).toMatch(/no containers/);
  });

  it('removes every container when nothing is assigned any more', async () => {
    cp.setAssignments(node, []);
    await cp.waitForReport(node, (r) => r.replicas.length === 0);
    await until(
      'containers removed',
      async () => (await nodeContainers(node)).length === 0 || undefined,
      15_000,
    );
  });
});
