import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import {
  type KubectlFront,
  type KubectlResult,
  kubectl,
  kubectlInBackground,
  startTlsFront,
  writeKubeconfig,
} from './support/kubectl-front.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The real kubectl (v1.32) following Berth through watches: `rollout status` and `wait
 * --for=condition=Available` finish when the (simulated) agents report the replicas ready, `get
 * -w` prints a changed row, `wait --for=delete` returns when the object goes.
 */

let server: BerthServer;
let fleet: SimFleet;
let front: KubectlFront;
let dir: string;
let config: string;

const run = (args: string[], timeoutMs?: number) => kubectl(config, dir, args, timeoutMs);
const explain = (r: KubectlResult) =>
  `stdout:\n${r.stdout}\nstderr:\n${r.stderr}\nserver:\n${server.output().slice(-2000)}`;

function deployment(name: string, replicas: number) {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      template: {
        metadata: { labels },
        spec: {
          containers: [
            { name: 'web', image: 'registry.example.com/web:1.0', ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    },
  };
}

async function put(name: string, replicas: number) {
  const res = await server.call(
    'PUT',
    `/v1/namespaces/default/deployments/${name}`,
    deployment(name, replicas),
  );
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kubectl-watch-'));
  server = await startBerthServer();
  front = await startTlsFront(dir, server.url);
  fleet = await startSimAgents({
    server: server.url,
    adminToken: server.adminToken,
    count: 2,
    prefix: 'watch-node',
    options: { readyAfterMs: 300, waitSeconds: 20 },
  });
  config = await writeKubeconfig(dir, front, 'admin', server.adminToken, 'default');
});

afterAll(async () => {
  await fleet?.stop();
  await front?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl following changes', () => {
  it('rollout status and wait --for=condition=Available finish once the replicas are ready', async () => {
    await put('roll', 2);
    const [status, available] = await Promise.all([
      run(['rollout', 'status', 'deploy/roll', '--timeout=40s']),
      run(['wait', '--for=condition=Available', 'deploy/roll', '--timeout=40s']),
    ]);
    expect(status.code, explain(status)).toBe(0);
    expect(status.stdout).toContain('deployment "roll" successfully rolled out');
    expect(available.code, explain(available)).toBe(0);
    expect(available.stdout).toContain('deployment.apps/roll condition met');
  });

  it('get -w prints the row of a changed deployment, and get pods -w the new pod', async () => {
    const deploys = kubectlInBackground(config, dir, ['get', 'deploy', '-w']);
    const pods = kubectlInBackground(config, dir, ['get', 'pods', '-l', 'app=roll', '-w']);
    try {
      await eventually(async () => /roll\s+2\/2/.test(deploys.stdout()), 20_000, 'the listed row');
      await eventually(
        async () =>
          pods
            .stdout()
            .split('\n')
            .filter((l) => l.startsWith('roll-')).length >= 2,
        20_000,
        'the listed pods',
      );
      const listed = pods.stdout();
      await put('roll', 3);
      // The watch prints the row again as it changes: 3 wanted, then the third ready.
      await eventually(async () => /roll\s+\d\/3/.test(deploys.stdout()), 20_000, 'a row with 3 replicas');
      await eventually(async () => /roll\s+3\/3/.test(deploys.stdout()), 20_000, 'the third replica ready');
      await eventually(
        async () => {
          const names = new Set(
            pods
              .stdout()
              .split('\n')
              .filter((l) => l.startsWith('roll-'))
              .map((l) => l.split(/\s+/)[0]),
          );
          return names.size >= 3;
        },
        20_000,
        'a third pod',
      );
      expect(pods.stdout().length).toBeGreaterThan(listed.length);
    } catch (e) {
      throw new Error(
        `${String(e)}\nget deploy -w:\n${deploys.stdout()}${deploys.stderr()}\nget pods -w:\n${pods.stdout()}${pods.stderr()}`,
      );
    } finally {
      await deploys.kill();
      await pods.kill();
    }
  });

  it('wait --for=delete returns when the deployment goes', async () => {
    await put('gone', 1);
    // -v=6 logs each request once its response has begun: the watch is open when it appears.
    const waiting = kubectlInBackground(config, dir, [
      'wait',
      '--for=delete',
      'deploy/gone',
      '--timeout=150s',
      '-v=6',
    ]);
    try {
      await eventually(async () => /watch=true/.test(waiting.stderr()), 90_000, 'the watch to be open');
      const res = await server.call('DELETE', '/v1/namespaces/default/deployments/gone');
      expect(res.status).toBeLessThan(300);
      const code = await Promise.race([
        waiting.exited,
        new Promise((r) => setTimeout(() => r('still waiting'), 90_000)),
      ]);
      expect(code, waiting.stderr()).toBe(0);
      expect(waiting.stdout()).toContain('deployment.apps/gone condition met');
    } finally {
      await waiting.kill();
    }
  });

  it('delete waits, as kubectl does by default, until the deployment is gone', async () => {
    await put('removed', 1);
    const r = await kubectl(config, dir, ['delete', 'deploy/removed', '--timeout=40s']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('deployment.apps "removed" deleted');
    expect((await server.call('GET', '/v1/namespaces/default/deployments/removed')).status).toBe(404);
  });
});
