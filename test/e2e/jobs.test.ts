import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
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
 * batch/v1 Jobs on a real agent and Docker Engine, applied as Kubernetes manifests: completions
 * with parallelism, logs of finished pods, backoffLimit, activeDeadlineSeconds, an Indexed Job's
 * index, and ttlSecondsAfterFinished removing the Job and its containers.
 */
const NS = '/v1/namespaces/default';

interface JobObject {
  status: {
    active: number;
    succeeded: number;
    failed: number;
    completedIndexes?: string;
    startTime?: string;
    completionTime?: string;
    conditions: { type: string; status: string; reason: string }[];
  };
}
interface Pod {
  id: string;
  phase: string;
  completionIndex?: number;
  createdAt: string;
}

function jobManifest(name: string, spec: string, script: string, restartPolicy = 'Never'): string {
  return `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
${spec
  .split('\n')
  .filter(Boolean)
  .map((l) => `  ${l}`)
  .join('\n')}
  template:
    spec:
      restartPolicy: ${restartPolicy}
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      containers:
      - name: work
        image: ${HTTPD_1}
        command: [sh, -c, ${JSON.stringify(script)}]
`;
}

describe('Jobs on a real agent and Docker Engine', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let server: ServerProcess;
  let agent: AgentProcess;
  let dir: string;
  const node = uniqueNode('e2e-job');

  const apply = async (name: string, yaml: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, yaml);
    const out = await berthCli(['apply', '-f', file], {
      env: { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir },
    });
    expect([out.code, out.stderr, out.stdout]).toEqual([0, '', `job/${name} created\n`]);
  };
  const job = async (name: string) => (await server.call('GET', `${NS}/jobs/${name}`)).body as JobObject;
  const finished = (name: string, type: 'Complete' | 'Failed', timeoutMs = 90_000) =>
    eventually(
      async () => {
        const j = await job(name);
        return j.status.conditions.some((c) => c.type === type && c.status === 'True') ? j : undefined;
      },
      timeoutMs,
      `job ${name} to be ${type}`,
    );
  const pods = async (name: string) =>
    ((await server.call('GET', `${NS}/replicas?job=${name}`)).body.items as Pod[]).sort(
      (a, b) => (a.completionIndex ?? 0) - (b.completionIndex ?? 0) || a.createdAt.localeCompare(b.createdAt),
    );
  const logs = async (id: string) =>
    ((await server.call('GET', `${NS}/replicas/${id}/logs?tail=20`)).body.lines as string[]).join('\n');
  const containersOf = async (name: string) =>
    (await nodeContainers(node)).filter((c) => c.Labels['berth.dev/deployment'] === `default/${name}`);

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    db = await freshPostgres();
    server = await startServerProcess({ databaseUrl: db.url, env: { BERTH_RECONCILE_INTERVAL_MS: '500' } });
    const joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    dir = await tempDir('berth-e2e-job');
    agent = startAgentProcess({ server: server.url, name: node, dataDir: join(dir, 'agent'), joinToken });
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

  it('runs completions: 3 two at a time to Complete, and keeps each finished pod’s logs', async () => {
    await apply(
      'batch',
      jobManifest('batch', 'completions: 3\nparallelism: 2', 'echo "done by $(hostname)"'),
    );
    const done = await finished('batch', 'Complete');
    expect(done.status).toMatchObject({ succeeded: 3, failed: 0, active: 0 });
    expect(Date.parse(done.status.completionTime!)).toBeGreaterThanOrEqual(
      Date.parse(done.status.startTime!),
    );
    const all = await pods('batch');
    expect(all.map((p) => p.phase)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    for (const p of all) expect(await logs(p.id)).toContain('done by');
    // Never more than parallelism at once: the third pod was created after one of the first two.
    const created = all.map((p) => Date.parse(p.createdAt)).sort();
    expect(created[2]! - created[0]!).toBeGreaterThan(0);
    // The finished containers stay (for their logs) until the Job goes.
    expect(await containersOf('batch')).toHaveLength(3);
  });

  it('stops at backoffLimit with BackoffLimitExceeded, after Kubernetes’ backoff between tries', async () => {
    await apply('fails', jobManifest('fails', 'backoffLimit: 1', 'echo trying; exit 3'));
    const failed = await finished('fails', 'Failed', 120_000);
    expect(failed.status.conditions.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(failed.status).toMatchObject({ failed: 2, succeeded: 0, active: 0 });
    const tries = await pods('fails');
    expect(tries.map((p) => p.phase)).toEqual(['Failed', 'Failed']);
    // The second try waited the first backoff (10 s) after the first failure.
    expect(Date.parse(tries[1]!.createdAt) - Date.parse(tries[0]!.createdAt)).toBeGreaterThanOrEqual(9_000);
    expect(await logs(tries[0]!.id)).toContain('trying');
  });

  it('kills a Job past activeDeadlineSeconds with DeadlineExceeded', async () => {
    await apply('slow', jobManifest('slow', 'activeDeadlineSeconds: 3', 'echo started; exec sleep 600'));
    const failed = await finished('slow', 'Failed');
    expect(failed.status.conditions.find((c) => c.type === 'Failed')?.reason).toBe('DeadlineExceeded');
    await eventually(
      async () => {
        const running = (await containersOf('slow')).filter((c) => c.State === 'running');
        return running.length === 0 ? true : undefined;
      },
      30_000,
      'the deadline to stop the container',
    );
  });

  it('gives each pod of an Indexed Job its JOB_COMPLETION_INDEX', async () => {
    await apply(
      'indexed',
      jobManifest(
        'indexed',
        'completions: 2\nparallelism: 2\ncompletionMode: Indexed',
        'echo "index=$JOB_COMPLETION_INDEX"',
      ),
    );
    const done = await finished('indexed', 'Complete');
    expect(done.status.completedIndexes).toBe('0-1');
    const all = await pods('indexed');
    expect(all.map((p) => p.completionIndex)).toEqual([0, 1]);
    expect(await logs(all[0]!.id)).toContain('index=0');
    expect(await logs(all[1]!.id)).toContain('index=1');
  });

  it('deletes a finished Job after ttlSecondsAfterFinished, with its containers', async () => {
    await apply('brief', jobManifest('brief', 'ttlSecondsAfterFinished: 2', 'echo brief'));
    await finished('brief', 'Complete');
    await eventually(
      async () => ((await server.call('GET', `${NS}/jobs/brief`)).status === 404 ? true : undefined),
      60_000,
      'the TTL to delete the Job',
    );
    await eventually(
      async () => ((await containersOf('brief')).length === 0 ? true : undefined),
      60_000,
      'the agent to remove its containers',
    );
    // Its pod's row goes once the agent has reported the containers gone.
    await eventually(
      async () => ((await pods('brief')).length === 0 ? true : undefined),
      30_000,
      'the pod row',
    );
  });
});
