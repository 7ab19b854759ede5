import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import { ROOT, runNode } from './support/cli-run.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The GitHub Action as the runner starts it: `node action/bundle/index.mjs` (the committed
 * bundle, no npm install) with INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files,
 * against the real server with simulated agents.
 */

function observe(a: Assignment) {
  const image = a.containers[0]?.image ?? '';
  // A Job's pod: it runs to its end, and an image tagged "broken" fails.
  if (a.restartPolicy !== 'Always')
    return image.includes('broken')
      ? { phase: 'Failed' as const, ready: false, exitCode: 1, message: 'container shop exited with code 1' }
      : { phase: 'Succeeded' as const, ready: false, exitCode: 0 };
  if (image.includes('does-not-exist')) {
    return {
      phase: 'Failed' as const,
      ready: false,
      message: `pull access denied for ${image}: repository does not exist`,
    };
  }
  return undefined as never;
}

let server: BerthServer;
let fleet: SimFleet;
let deployerToken: string;
let dir: string;
let runs = 0;

interface ActionRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

async function runAction(inputs: Record<string, string>): Promise<ActionRun> {
  const n = ++runs;
  const output = join(dir, `output-${n}`);
  const summary = join(dir, `summary-${n}.md`);
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env: Record<string, string> = {
    GITHUB_WORKSPACE: ROOT,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    BERTH_POLL_INTERVAL_MS: '200',
    INPUT_SERVER: server.url,
    INPUT_TOKEN: deployerToken,
    INPUT_WAIT: 'true',
    INPUT_TIMEOUT: '60s',
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const result = await runNode('action/bundle/index.mjs', [], { env, cwd: dir });
  const outputs = Object.fromEntries(
    readFileSync(output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  expect(result.stderr).toBe('');
  return { code: result.code, stdout: result.stdout, outputs, summary: readFileSync(summary, 'utf8') };
}

async function webImage(): Promise<string> {
  const res = await server.call('GET', '/v1/namespaces/default/deployments/web');
  return (res.body as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template
    .spec.containers[0]!.image;
}

beforeAll(async () => {
  server = await startBerthServer();
  fleet = await startSimAgents({
    server: server.url,
    adminToken: server.adminToken,
    count: 2,
    prefix: 'gha',
    options: { observe, waitSeconds: 5 },
  });
  const created = await server.call('POST', '/v1/tokens', {
    name: 'github',
    role: 'deployer',
    namespaces: ['default'],
  });
  expect(created.status).toBe(201);
  deployerToken = (created.body as { token: string }).token;
  // What an admin does before handing a pipeline a deployer token: the hosts it may claim.
  const policy = await server.call('PUT', '/v1/namespaces/default/policy', {
    spec: { allowedHostSuffixes: ['example.com'], allowWildcardHosts: true },
  });
  expect(policy.status).toBe(201);
  dir = mkdtempSync(join(tmpdir(), 'berth-action-e2e-'));
});

afterAll(async () => {
  await fleet?.stop();
  await server?.stop();
});

async function shopImage(): Promise<string | undefined> {
  const res = await server.call('GET', '/v1/namespaces/default/deployments/shop');
  if (res.status === 404) return undefined;
  return (res.body as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template
    .spec.containers[0]!.image;
}

describe('the Action against a live server', () => {
  it('runs the migration Job to completion, then rolls out; a failed migration touches nothing else', async () => {
    const manifests = 'test/fixtures/manifests/action/migrate-then-deploy.yaml';
    const first = await runAction({ manifests, image: 'shop=registry.example.com/shop:1.1.0' });
    expect(first.code).toBe(0);
    const out = first.stdout;
    expect(out).toMatch(/^job\/shop-migrate created$/m);
    expect(out).toMatch(/^job\/shop-migrate: complete$/m);
    // Nothing else was applied before the Job completed.
    expect(out.indexOf('job/shop-migrate: complete')).toBeLessThan(out.indexOf('deployment/shop created'));
    expect(first.summary).toMatch(/\| job\/shop-migrate \| default \| created \| {2}\| {2}\| complete \|/);
    expect(await shopImage()).toBe('registry.example.com/shop:1.1.0');

    // The next deploy runs the migration again (its earlier run is deleted): it fails, so the
    // Deployment keeps its image and the workflow fails with the Job's reason.
    const broken = await runAction({ manifests, image: 'shop=registry.example.com/shop:broken' });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^job\/shop-migrate: deleted its earlier run \(complete\)$/m);
    expect(broken.stdout).toMatch(/::error::job\/shop-migrate failed: BackoffLimitExceeded/);
    expect(broken.stdout).not.toMatch(/^deployment\/shop/m);
    expect(broken.outputs.status).toBe('failed');
    expect(broken.summary).toContain('#### job/shop-migrate: failed: BackoffLimitExceeded');
    expect(broken.summary).toContain('Nothing else was applied.');
    expect(await shopImage()).toBe('registry.example.com/shop:1.1.0');
  });

  it('applies a secret, a deployment and a service with an image override, waits, and reports', async () => {
    const run = await runAction({
      manifests: 'test/fixtures/manifests/berth-app.yaml',
      image: 'web=registry.example.com/web:2.0.0',
    });
    expect(run.stdout).toContain(`::add-mask::${deployerToken}`);
    expect(run.stdout).toMatch(/^secret\/db created$/m);
    expect(run.stdout).toMatch(/^deployment\/web created$/m);
    expect(run.stdout).toMatch(/^service\/web created$/m);
    expect(run.stdout).toMatch(/^deployment\/web: deployment "web" successfully rolled out \(revision 1\)$/m);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({
      revision: '1',
      image: 'registry.example.com/web:2.0.0',
      status: 'succeeded',
    });
    expect(run.summary).toContain('### Berth deploy: succeeded');
    expect(run.summary).toMatch(/\| deployment\/web \| default \| created \| 1 \| 2\/2 \| complete \|/);
    expect(run.summary).toMatch(/\| service\/web \| default \| created \|/);
    expect(await webImage()).toBe('registry.example.com/web:2.0.0');
  });

  it('rolls out a new image as a new revision; the same again changes nothing', async () => {
    const next = await runAction({
      manifests: 'test/fixtures/manifests/[bq]*.yaml',
      image: 'web=registry.example.com/web:2.1.0',
    });
    // The glob also matches the Kubernetes quick-start, applied alongside.
    expect(next.stdout).toMatch(/^deployment\/flask-app created$/m);
    expect(next.stdout).toMatch(/^deployment\/web configured$/m);
    expect(next.code).toBe(0);
    expect(next.outputs.revision).toMatch(/(^|,)web=2(,|$)/);
    expect(next.outputs.status).toBe('succeeded');

    const same = await runAction({
      manifests: 'test/fixtures/manifests/berth-app.yaml',
      image: 'web=registry.example.com/web:2.1.0',
    });
    expect(same.stdout).toMatch(/^deployment\/web unchanged$/m);
    expect(same.outputs).toMatchObject({ revision: '2', status: 'succeeded' });
  });

  it('fails the job with the reason when the rollout fails', async () => {
    const run = await runAction({
      manifests: 'test/fixtures/manifests/berth-app.yaml',
      image: 'web=registry.example.com/does-not-exist:1',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error::deployment\/web: image pull failure of replica web-\S+ on node gha-\d: pull access denied/m,
    );
    expect(run.outputs.status).toBe('failed');
    expect(run.summary).toContain('### Berth deploy: failed');
  });

  it('reports an invalid manifest with its paths and changes nothing', async () => {
    const path = join(dir, 'invalid.yaml');
    writeFileSync(
      path,
      readFileSync(join(ROOT, 'test/fixtures/manifests/quick-start.yaml'), 'utf8').replace(
        '      containers:',
        '      hostNetwork: true\n      containers:',
      ),
    );
    const run = await runAction({ manifests: path });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^::error::.*VALIDATION_FAILED.*%0A.*invalid\.yaml \(Deployment \\?"flask-app\\?"\): spec\.template\.spec\.hostNetwork: hostNetwork is not supported by Berth/m,
    );
    // And at its line in the file, where the workflow's annotations point.
    const line = readFileSync(path, 'utf8').split('\n').indexOf('      hostNetwork: true') + 1;
    expect(run.stdout).toMatch(
      new RegExp(
        `^::error file=[^,]*invalid\\.yaml,line=${line},title=Berth refused the manifest::.*spec\\.template\\.spec\\.hostNetwork: hostNetwork is not supported by Berth`,
        'm',
      ),
    );
    expect(run.outputs).toEqual({ revision: '', status: 'failed' });
  });

  it('lets the later of two concurrent deploys win, both finishing', async () => {
    const first = runAction({
      manifests: 'test/fixtures/manifests/berth-app.yaml',
      image: 'web=registry.example.com/web:3.0.0',
    });
    // The second push starts once the first has applied, while it still waits for its rollout.
    await eventually(
      async () => (await webImage()) === 'registry.example.com/web:3.0.0',
      20_000,
      'the first apply',
    );
    const second = runAction({
      manifests: 'test/fixtures/manifests/berth-app.yaml',
      image: 'web=registry.example.com/web:3.1.0',
    });
    const [a, b] = await Promise.all([first, second]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(await webImage()).toBe('registry.example.com/web:3.1.0');
    const deployment = (await server.call('GET', '/v1/namespaces/default/deployments/web')).body as {
      status: { readyReplicas: number; updatedReplicas: number };
      spec: { replicas: number };
    };
    expect(deployment.status.updatedReplicas).toBe(deployment.spec.replicas);
  });
});
