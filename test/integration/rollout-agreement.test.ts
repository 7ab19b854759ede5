import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../action/main.ts';
import { BerthClient } from '../../cli/client.ts';
import { run } from '../../cli/main.ts';
import { watchRollout } from '../../cli/rollout-watch.ts';
import { captureIo } from '../../cli/testing/stub-server.ts';
import type { Assignment } from '../../common/agent-protocol.ts';
import { assessRollout, type RolloutPhase } from '../../common/rollout.ts';
import { createFormat } from '../../workers/ui/client/format.ts';
import type { Deployment, Replica } from '../../workers/ui/client/types.ts';
import { ADMIN_TOKEN, startTestPlane, type TestPlane } from '../support/plane.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';

/**
 * One rollout, followed step by step, judged the same by everyone who shows it: the CLI's rollout
 * watch (`berth rollout status`), `berth describe`, the GitHub Action's job summary and the
 * dashboard's rollout badge. Each reads the API its own way (the Action and the CLI over HTTP, the
 * dashboard's formatter from what its page loads) and reports its own output; at every step all of
 * them must name the same phase. Simulated agents hold replicas of each image not ready until the
 * test lets that image become ready, so every step stays put while it is looked at.
 */

const NS = 'default';

describe('the CLI, the Action and the dashboard agree on a rollout, step by step', () => {
  let t: TestPlane;
  let fleet: SimFleet;
  let server: ReturnType<typeof serve>;
  let url = '';
  let dir = '';
  const readyImages = new Set<string>();

  beforeAll(async () => {
    t = await startTestPlane('postgres');
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: t.plane.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'berth-agreement-'));
    const imageOf = (a: Assignment) => a.containers[0]?.image ?? '';
    fleet = await startSimAgents({
      server: t.server,
      adminToken: ADMIN_TOKEN,
      count: 2,
      fetch: t.fetch,
      prefix: 'agree',
      options: {
        waitSeconds: 2,
        observe: (a) =>
          imageOf(a).endsWith(':bad')
            ? { phase: 'Failed', ready: false, message: `pull access denied for ${imageOf(a)}` }
            : readyImages.has(imageOf(a))
              ? { phase: 'Running', ready: true }
              : { phase: 'Starting', ready: false },
      },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await new Promise((r) => server?.close(r));
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What the next job deploys: the Action applies this file each time it runs. */
  function manifest(image: string, spec: Record<string, unknown> = {}) {
    writeFileSync(
      join(dir, 'web.json'),
      JSON.stringify({
        apiVersion: 'berth.dev/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
          },
          ...spec,
        },
      }),
    );
  }

  /** A job deploys a change: the Action applies it (its summary right after says Progressing). */
  async function deploy(image: string, spec: Record<string, unknown> = {}) {
    manifest(image, spec);
    expect(await actionSays()).toMatch(/^(Progressing|Paused)$/);
  }

  let runs = 0;
  /** The GitHub Action as a job runs it (without waiting): the phase its job summary shows. */
  async function actionSays(): Promise<string> {
    const summary = join(dir, `summary-${++runs}.md`);
    const io = captureIo({
      env: {
        INPUT_SERVER: url,
        INPUT_TOKEN: ADMIN_TOKEN,
        INPUT_MANIFESTS: 'web.json',
        INPUT_WAIT: 'false',
        GITHUB_WORKSPACE: dir,
        GITHUB_OUTPUT: join(dir, `output-${runs}`),
        GITHUB_STEP_SUMMARY: summary,
      },
    });
    expect(await runAction(io), io.output()).toBe(0);
    const row = readFileSync(summary, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('| deployment/web '));
    const cell = row?.split('|').at(-2)?.trim() ?? '';
    return /^(\w+) \(not awaited\)$/.exec(cell)?.[1] ?? `unreadable: ${cell}`;
  }

  /** `berth rollout status`'s watch, one look (no waiting): the phase it judged and what it does with it. */
  async function cliWatchSays() {
    const client = new BerthClient({ server: url, token: ADMIN_TOKEN });
    const result = await watchRollout(client, NS, 'web', { timeoutMs: 0, intervalMs: 0 });
    return { phase: result.phase, state: result.state, reason: result.reason };
  }

  /** `berth describe deployment web`: its Rollout line. */
  async function describeSays(): Promise<string> {
    const io = captureIo();
    io.env.BERTH_SERVER = url;
    io.env.BERTH_TOKEN = ADMIN_TOKEN;
    expect(await run(['describe', 'deployment', 'web'], io), io.errors()).toBe(0);
    return /^Rollout:\s+(\w+):/m.exec(io.output())?.[1] ?? `unreadable: ${io.output()}`;
  }

  /** The dashboard's deployment page: its badge, from what the page loads (the deployment and its replicas). */
  async function dashboardSays() {
    const deployment = (await t.call('GET', `/v1/namespaces/${NS}/deployments/web`)).body as Deployment;
    const replicas = (await t.call('GET', `/v1/namespaces/${NS}/replicas?deployment=web`)).body
      .items as Replica[];
    const badge = createFormat(assessRollout).rollout(deployment, replicas);
    return { phase: badge.phase, label: badge.label };
  }

  /**
   * Wait (ticking the controller, as its safety net would) until the watch sees `phase`, then ask
   * everyone, and ask the watch again to be sure nothing moved meanwhile.
   */
  async function expectEveryone(phase: RolloutPhase, label: string, reason?: string) {
    await eventually(
      async () => {
        await t.plane.reconciler.tick();
        const cli = await cliWatchSays();
        return cli.phase === phase && (!reason || cli.reason === reason);
      },
      20_000,
      `the rollout to be ${phase}${reason ? ` (${reason})` : ''}`,
    );
    const cli = await cliWatchSays();
    const seen = {
      cli: cli.phase,
      describe: await describeSays(),
      action: await actionSays(),
      dashboard: (await dashboardSays()).phase,
      cliAgain: (await cliWatchSays()).phase,
    };
    expect(seen).toEqual({ cli: phase, describe: phase, action: phase, dashboard: phase, cliAgain: phase });
    expect((await dashboardSays()).label).toBe(label);
    // What the watch does with it: only Complete succeeds; Progressing ran into our zero timeout.
    expect(cli.state).toBe(phase === 'Complete' ? 'complete' : 'failed');
    expect(cli.reason).toBe(phase === 'Progressing' ? 'Timeout' : (reason ?? cli.reason));
    steps.push(`${phase}${reason ? `/${reason}` : ''}`);
  }
  const steps: string[] = [];

  it('from the first apply through an update, a pause, a bad image and a stuck rollout', async () => {
    await deploy('registry.example.com/web:1');
    await expectEveryone('Progressing', 'Progressing');

    readyImages.add('registry.example.com/web:1');
    await expectEveryone('Complete', 'Complete');

    // An update: new replicas come up beside the old ones and stay not ready.
    await deploy('registry.example.com/web:2');
    await expectEveryone('Progressing', 'Progressing');

    await deploy('registry.example.com/web:2', { paused: true });
    await expectEveryone('Paused', 'Paused');

    await deploy('registry.example.com/web:2');
    await expectEveryone('Progressing', 'Progressing');
    readyImages.add('registry.example.com/web:2');
    await expectEveryone('Complete', 'Complete');

    // An image that cannot be pulled fails the rollout at once, for everyone.
    await deploy('registry.example.com/web:bad');
    await expectEveryone('Failed', 'Image pull failed', 'ImagePullFailed');

    // One that never becomes ready fails at the progress deadline.
    await deploy('registry.example.com/web:3', { progressDeadlineSeconds: 1 });
    await expectEveryone('Failed', 'Deadline exceeded', 'ProgressDeadlineExceeded');

    console.log(
      `rollout agreement: ${steps.length} steps, each judged alike by 4 callers: ${steps.join(' → ')}`,
    );
  });
});
