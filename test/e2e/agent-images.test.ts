import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  allReady,
  cleanupDir,
  docker,
  hostPortOf,
  httpdContainer,
  httpdReplica,
  httpText,
  removeNodeContainers,
  replicaOf,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { FakeControlPlane } from './support/fake-control-plane.ts';

// Pulls from the local registry of test/setup/services.sh (basic auth berth / berth-secret).
const REGISTRY = '127.0.0.1:5000';
const PRIVATE = `${REGISTRY}/berth-test/private:1`;
const AUTH = [{ server: REGISTRY, username: 'berth', password: 'berth-secret' }];

async function forgetImage(image: string): Promise<void> {
  await docker
    .getImage(image)
    .remove({ force: true })
    .catch(() => {});
}

describe('berth-agent image pulls', () => {
  const node = uniqueNode('e2e-img');
  let cp: FakeControlPlane;
  let agent: AgentProcess;
  let dataDir: string;

  beforeAll(async () => {
    await requireDocker();
    const res = await fetch(`http://${REGISTRY}/v2/`).catch((e: unknown) => {
      throw new Error(
        `the test registry on ${REGISTRY} is not running (test/setup/services.sh): ${String(e)}`,
      );
    });
    expect(res.status).toBe(401);
    await forgetImage(PRIVATE);
    cp = await FakeControlPlane.start();
    dataDir = await tempDir('berth-agent');
    agent = startAgentProcess({ server: cp.url, name: node, dataDir, joinToken: cp.joinToken });
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await forgetImage(PRIVATE);
    await cp?.close();
    await cleanupDir(dataDir);
    if (cp?.protocolErrors.length) throw new Error(`protocol errors: ${cp.protocolErrors.join('; ')}`);
  });

  it('fails a private image without credentials with the registry message, and leaves others alone', async () => {
    const denied = httpdReplica({}, { image: PRIVATE, imagePullPolicy: 'Always' });
    const fine = httpdReplica();
    cp.setAssignments(node, [denied, fine]);
    const { report } = await cp.waitForReport(
      node,
      (r) => replicaOf(r, denied.id)?.phase === 'Failed' && allReady([fine.id])(r),
    );
    const s = replicaOf(report, denied.id)!;
    expect(s.ready).toBe(false);
    expect(s.message).toMatch(
      /failed to pull image: .*(no basic auth credentials|unauthorized|authentication required)/i,
    );
  });

  it('pulls a private image with the credentials for its registry', async () => {
    const ok = httpdReplica({ imagePullAuth: AUTH }, { image: PRIVATE, imagePullPolicy: 'Always' });
    cp.setAssignments(node, [ok]);
    const { report } = await cp.waitForReport(node, allReady([ok.id]));
    expect((await httpText(`http://127.0.0.1:${hostPortOf(replicaOf(report, ok.id))}/`)).trim()).toBe('v1');
  });

  it('reports a nonexistent image as Failed with the registry reason; other replicas run', async () => {
    const missing = httpdReplica(
      { imagePullAuth: AUTH },
      { image: `${REGISTRY}/berth-test/does-not-exist:1` },
    );
    const others = [httpdReplica(), httpdReplica()];
    cp.setAssignments(node, [missing, ...others]);
    const { report } = await cp.waitForReport(
      node,
      (r) => replicaOf(r, missing.id)?.phase === 'Failed' && allReady(others.map((o) => o.id))(r),
    );
    const s = replicaOf(report, missing.id)!;
    expect(s.message).toMatch(/failed to pull image: .*(manifest unknown|not found)/i);
    expect(s.containers[0]).toMatchObject({ name: 'web', state: 'waiting' });
  });

  it('never pulls under imagePullPolicy Never', async () => {
    await forgetImage(PRIVATE);
    const never = httpdReplica({ imagePullAuth: AUTH }, { image: PRIVATE, imagePullPolicy: 'Never' });
    cp.setAssignments(node, [never]);
    const { report } = await cp.waitForReport(node, (r) => replicaOf(r, never.id)?.phase === 'Failed');
    expect(replicaOf(report, never.id)?.message).toMatch(
      /not present on the node and imagePullPolicy is Never/,
    );
  });

  it('shares one pull among replicas of one image (IfNotPresent)', async () => {
    await forgetImage(PRIVATE);
    const mark = agent.output().length;
    const many = [1, 2, 3].map(() =>
      httpdReplica(
        { imagePullAuth: AUTH },
        { ...httpdContainer(), image: PRIVATE, imagePullPolicy: 'IfNotPresent' },
      ),
    );
    cp.setAssignments(node, many);
    await cp.waitForReport(node, allReady(many.map((m) => m.id)));
    expect(
      agent
        .output()
        .slice(mark)
        .split('\n')
        .filter((line) => line.includes('"message":"image pulled"') && line.includes(`"image":"${PRIVATE}"`)),
    ).toHaveLength(1);
  });
});
