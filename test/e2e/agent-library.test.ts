import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, dockerAvailable, type RunningAgent, startAgent } from '../../agent/index.ts';
import {
  allReady,
  cleanupDir,
  httpdReplica,
  nodeContainers,
  removeNodeContainers,
  requireDocker,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

// The programmatic API the control plane's Node entry uses for its in-process agent.
describe('startAgent (in-process)', () => {
  const node = uniqueNode('e2e-lib');
  let cp: FakeControlPlane;
  let dataDir: string;
  let agent: RunningAgent | undefined;
  const quiet = createLogger('warn');

  beforeAll(async () => {
    await requireDocker();
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await cp?.close();
    await cleanupDir(dataDir);
  });

  it('sees the Docker Engine', async () => {
    expect(await dockerAvailable()).toBe(true);
  });

  it('runs replicas, and stop() leaves them running for the next agent to adopt', async () => {
    const config = {
      server: cp.url,
      joinToken: cp.joinToken,
      name: node,
      labels: {},
      address: '127.0.0.1',
      dataDir,
      logger: quiet,
    };
    agent = await startAgent(config);
    expect(agent.nodeId).toBe(`node-id-${node}`);
    expect((await stat(join(dataDir, 'node.json'))).mode & 0o777).toBe(0o600);
    const replicas = [httpdReplica(), httpdReplica()];
    cp.setAssignments(node, replicas);
    await cp.waitForReport(node, allReady(replicas.map((r) => r.id)));
    expect((await stat(join(dataDir, 'assignments.json'))).mode & 0o777).toBe(0o600);

    await agent.stop();
    const kept = (await nodeContainers(node)).map((c) => [c.Id, c.State]).sort();
    expect(kept).toHaveLength(2);
    expect(kept.every(([, state]) => state === 'running')).toBe(true);

    // Without a join token the stored credential must do.
    agent = await startAgent({ ...config, joinToken: undefined });
    cp.setAssignments(node, replicas);
    await cp.waitForReport(node, allReady(replicas.map((r) => r.id)));
    expect((await nodeContainers(node)).map((c) => [c.Id, c.State]).sort()).toEqual(kept);
    expect(cp.registrations).toHaveLength(1);
  });

  it('refuses to start without a credential or a join token', async () => {
    const fresh = await tempDir('berth-agent');
    try {
      await expect(
        startAgent({
          server: cp.url,
          name: uniqueNode('e2e-nojoin'),
          labels: {},
          dataDir: fresh,
          logger: quiet,
        }),
      ).rejects.toThrow(/give --join-token/);
      await expect(
        startAgent({
          server: cp.url,
          joinToken: 'wrong',
          name: uniqueNode('e2e-badjoin'),
          labels: {},
          dataDir: fresh,
          logger: quiet,
        }),
      ).rejects.toThrow(/registration refused \(HTTP 401\)/);
    } finally {
      await cleanupDir(fresh);
    }
  });
});
