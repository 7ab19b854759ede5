import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.ts';
import { type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import { runNode } from './support/cli-run.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * CI without a stored secret, as GitHub runs it: the Action's bundle with `oidc: true` and the
 * runner's ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, served here by a stand-in for the runner that hands
 * out tokens of a test issuer (keys on 127.0.0.1) for the audience asked. The server trusts that
 * issuer and one rule: acme/shop's main branch deploys to default.
 */

const RUNNER_TOKEN = 'runner-request-token-e2e';

let server: BerthServer;
let fleet: SimFleet;
let issuer: TestIssuer;
let runner: Server;
let runnerUrl = '';
/** The job the runner speaks for: the claims of the identity tokens it hands out. */
let job: Record<string, unknown> = {};
const asked: string[] = [];
let dir: string;
let runs = 0;

async function runAction(inputs: Record<string, string>) {
  const n = ++runs;
  const output = join(dir, `output-${n}`);
  const summary = join(dir, `summary-${n}.md`);
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env: Record<string, string> = {
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    BERTH_POLL_INTERVAL_MS: '200',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${runnerUrl}/_apis/idtoken?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: RUNNER_TOKEN,
    INPUT_SERVER: server.url,
    INPUT_OIDC: 'true',
    INPUT_MANIFESTS: 'shop.yaml',
    INPUT_TIMEOUT: '60s',
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const result = await runNode('action/bundle/index.mjs', [], { env, cwd: dir });
  expect(result.stderr).toBe('');
  const outputs = Object.fromEntries(
    readFileSync(output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { code: result.code, stdout: result.stdout, outputs, summary: readFileSync(summary, 'utf8') };
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  // The runner's endpoint: a job's identity token, for the audience the step asks, to its bearer only.
  runner = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://runner');
    if (url.pathname !== '/_apis/idtoken' || req.headers.authorization !== `Bearer ${RUNNER_TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    const audience = url.searchParams.get('audience') ?? '';
    asked.push(audience);
    void issuer.sign({ aud: audience, ...job }).then((value) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count: 1, value }));
    });
  });
  await new Promise<void>((resolve) => runner.listen(0, '127.0.0.1', resolve));
  runnerUrl = `http://127.0.0.1:${(runner.address() as AddressInfo).port}`;

  server = await startBerthServer({ BERTH_OIDC_ISSUERS: issuer.url });
  fleet = await startSimAgents({
    server: server.url,
    adminToken: server.adminToken,
    count: 1,
    prefix: 'oidc',
    options: { waitSeconds: 5 },
  });
  const rule = await server.call('PUT', '/v1/trustrules/shop-main', {
    spec: {
      issuer: issuer.url,
      claims: { repository: 'acme/shop', ref: 'refs/heads/main' },
      role: 'deployer',
      namespaces: ['default'],
      ttlSeconds: 300,
    },
  });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  expect(
    (
      await server.call('PUT', '/v1/namespaces/default/policy', {
        spec: { allowedHostSuffixes: ['example.com'] },
      })
    ).status,
  ).toBe(201);
  dir = mkdtempSync(join(tmpdir(), 'berth-action-oidc-'));
  const manifest = (image: string) =>
    [
      'apiVersion: berth.dev/v1',
      'kind: Deployment',
      'metadata: {name: shop}',
      'spec:',
      '  replicas: 1',
      '  template:',
      '    metadata: {labels: {app: shop}}',
      '    spec:',
      `      containers: [{name: shop, image: "${image}"}]`,
      '---',
      'apiVersion: berth.dev/v1',
      'kind: Service',
      'metadata: {name: shop}',
      'spec: {selector: {app: shop}, ports: [{port: 80}], hosts: [shop.example.com]}',
      '',
    ].join('\n');
  writeFileSync(join(dir, 'shop.yaml'), manifest('registry.example.com/shop:1'));
}, 300_000);

afterAll(async () => {
  await fleet?.stop();
  await server?.stop();
  await new Promise((resolve) => runner?.close(resolve));
  await issuer?.close();
});

describe('the Action with oidc: true', () => {
  it('deploys with a token exchanged for the job, which expires as its rule says', async () => {
    job = { repository: 'acme/shop', ref: 'refs/heads/main' };
    const started = Date.now();
    const run = await runAction({});
    expect(run.code, run.stdout).toBe(0);
    expect(asked.at(-1)).toBe('berth');
    expect(run.stdout).toMatch(/^oidc: deployer token for default until \S+ \(trust rule shop-main\)$/m);
    expect(run.stdout).toMatch(/^deployment\/shop created$/m);
    expect(run.outputs).toEqual({
      url: `http://shop.example.com:${new URL(server.url).port}/`,
      revision: '1',
      image: 'registry.example.com/shop:1',
      status: 'succeeded',
    });
    expect(run.summary).toContain('#### What changed');

    const tokens = (await server.call('GET', '/v1/tokens')).body as {
      items: { expiresAt: string; exchange?: { claims: Record<string, string>; rules: string[] } }[];
    };
    const exchanged = tokens.items.filter((t) => t.exchange);
    expect(exchanged).toHaveLength(1);
    expect(exchanged[0]!.exchange).toMatchObject({
      rules: ['shop-main'],
      claims: { repository: 'acme/shop', ref: 'refs/heads/main' },
    });
    const ttl = Date.parse(exchanged[0]!.expiresAt) - started;
    expect(ttl).toBeGreaterThan(290_000);
    expect(ttl).toBeLessThanOrEqual(300_000 + (Date.now() - started));
  });

  it('is refused, with its reason and nothing applied, for another repository, branch or audience', async () => {
    writeFileSync(
      join(dir, 'shop.yaml'),
      readFileSync(join(dir, 'shop.yaml'), 'utf8').replace('shop:1', 'shop:2'),
    );
    const cases: [string, Record<string, unknown>, Record<string, string>, RegExp][] = [
      [
        'another repository',
        { repository: 'acme/other', ref: 'refs/heads/main' },
        {},
        /\(no matching rule\)/,
      ],
      ['another branch', { repository: 'acme/shop', ref: 'refs/heads/dev' }, {}, /\(no matching rule\)/],
      [
        'another audience',
        { repository: 'acme/shop', ref: 'refs/heads/main' },
        { audience: 'not-berth' },
        /\(audience\)/,
      ],
    ];
    for (const [what, claims, inputs, reason] of cases) {
      job = claims;
      const run = await runAction(inputs);
      expect(run.code, what).toBe(1);
      expect(run.stdout, what).toMatch(
        /^::error::oidc: Berth refused this job's identity token: identity token refused/m,
      );
      expect(run.stdout, what).toMatch(reason);
      expect(run.outputs.status, what).toBe('failed');
    }
    const deployment = (await server.call('GET', '/v1/namespaces/default/deployments/shop')).body as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]!.image).toBe('registry.example.com/shop:1');
    // What the admin sees.
    const events = (await server.call('GET', '/v1/events?object=tokenexchange')).body as {
      items: { reason: string; message: string }[];
    };
    const refused = events.items.filter((e) => e.reason === 'ExchangeRefused').map((e) => e.message);
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatch(/^refused \(no matching rule\): no trust rule matches repository acme\/other/);
    expect(refused[2]).toMatch(/^refused \(audience\)/);
  });
});
