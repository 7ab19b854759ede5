import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type CapturedIo, captureIo, problem, StubServer } from '../cli/testing/stub-server.ts';
import { BUNDLE, bundleAction } from './build.ts';
import { escapeData, getInput } from './github.ts';
import { readInputs, runAction } from './main.ts';

const FIXTURES = new URL('../test/fixtures/manifests/', import.meta.url).pathname;

let stub: StubServer;
let io: CapturedIo;
let dir: string;

const done = (name: string, revision: number, image = 'web:1') => ({
  metadata: { name, generation: 1 },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image }] } } },
  status: {
    observedGeneration: 1,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 2,
    availableReplicas: 2,
    revision,
    conditions: [{ type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable' }] as Record<
      string,
      string
    >[],
  },
});

beforeEach(async () => {
  stub = await new StubServer().start();
  dir = await mkdtemp(join(tmpdir(), 'berth-action-'));
  io = captureIo({
    env: {
      INPUT_SERVER: stub.url,
      INPUT_TOKEN: 'ci-token',
      INPUT_MANIFESTS: 'quick-start.yaml',
      INPUT_WAIT: 'true',
      INPUT_TIMEOUT: '5m',
      GITHUB_WORKSPACE: FIXTURES,
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
      BERTH_POLL_INTERVAL_MS: '1',
    },
  });
  stub.on('GET', '/v1/namespaces/default/replicas', { body: { items: [] } });
  stub.on('GET', '/v1/namespaces/default/events', { body: { items: [] } });
});
afterEach(() => stub.stop());

const file = (name: string) => readFile(join(dir, name), 'utf8').catch(() => '');

describe('inputs', () => {
  it('reads INPUT_* variables the way GitHub names them', () => {
    expect(getInput({ INPUT_MY_INPUT: ' x ' }, 'my input')).toBe('x');
    const inputs = readInputs({
      INPUT_SERVER: 'https://berth.example.com',
      INPUT_TOKEN: 't',
      INPUT_MANIFESTS: 'deploy/web.yaml\ndeploy/*.yml, k8s/',
      INPUT_IMAGE: 'web=registry.example.com/web:abc123',
      INPUT_WAIT: 'false',
      INPUT_TIMEOUT: '90s',
      'INPUT_JOBS-FIRST': 'false',
    });
    expect(inputs).toEqual({
      server: 'https://berth.example.com',
      token: 't',
      oidc: false,
      audience: 'berth',
      trustRule: undefined,
      manifests: ['deploy/web.yaml', 'deploy/*.yml', 'k8s/'],
      namespace: undefined,
      images: [{ container: 'web', image: 'registry.example.com/web:abc123' }],
      wait: false,
      timeoutMs: 90_000,
      jobsFirst: false,
    });
  });

  it('fails the job when a required input is missing', async () => {
    delete io.env.INPUT_TOKEN;
    expect(await runAction(io)).toBe(1);
    expect(io.output()).toBe(
      '::error::input token is required (or oidc: true, with permissions: id-token: write)\n',
    );
  });

  it('escapes workflow command data', () => {
    expect(escapeData('50% done\nnext')).toBe('50%25 done%0Anext');
  });
});

describe('runAction', () => {
  it('applies, waits, and reports outputs and a summary', async () => {
    stub.on('POST', '/v1/apply', {
      body: {
        items: [{ kind: 'Deployment', namespace: 'default', name: 'flask-app', action: 'configured' }],
      },
    });
    stub.on('GET', '/v1/namespaces/default/deployments/flask-app', { body: done('flask-app', 4) });
    expect(await runAction(io)).toBe(0);
    expect(io.output()).toContain('::add-mask::ci-token\n');
    expect(io.output()).toContain('deployment/flask-app configured\n');
    expect(io.output()).toContain(
      'deployment/flask-app: deployment "flask-app" successfully rolled out (revision 4)\n',
    );
    expect(await file('output')).toBe('url=\nrevision=4\nimage=web:1\nstatus=succeeded\n');
    const summary = await file('summary.md');
    expect(summary).toContain('### Berth deploy: succeeded');
    expect(summary).toContain('| deployment/flask-app | default | configured | 4 | 2/2 | complete |');
    expect(summary).not.toMatch(/https?:\/\/\S+\)/); // no links
    expect(stub.sent('POST', '/v1/apply')[0]!.headers.authorization).toBe('Bearer ci-token');
  });

  it("stops at a failed Job before anything else is applied, with its pods' last lines in the summary", async () => {
    io.env.INPUT_MANIFESTS = 'action/migrate-then-deploy.yaml';
    stub.on('GET', '/v1/namespaces/default/jobs/shop-migrate', () =>
      stub.sent('POST', '/v1/apply').length === 0
        ? { status: 404, body: problem(404, 'NOT_FOUND', 'job "default/shop-migrate" not found') }
        : {
            body: {
              metadata: { name: 'shop-migrate' },
              status: {
                active: 0,
                succeeded: 0,
                failed: 1,
                conditions: [
                  {
                    type: 'Failed',
                    status: 'True',
                    reason: 'BackoffLimitExceeded',
                    message: 'Job has reached the specified backoff limit',
                  },
                ],
              },
            },
          },
    );
    stub.on('POST', '/v1/apply', {
      body: { items: [{ kind: 'Job', namespace: 'default', name: 'shop-migrate', action: 'created' }] },
    });
    stub.on('GET', '/v1/namespaces/default/replicas', {
      body: {
        items: [
          {
            id: 'shop-migrate-x1',
            job: 'shop-migrate',
            phase: 'Failed',
            node: 'vm-1',
            createdAt: '2026-12-05T12:00:00Z',
          },
        ],
      },
    });
    stub.on('GET', '/v1/namespaces/default/replicas/shop-migrate-x1/logs', {
      body: {
        replica: 'shop-migrate-x1',
        lines: ['migrating 0042_orders', 'error: relation "orders" already exists'],
      },
    });
    expect(await runAction(io)).toBe(1);
    // One apply, of the Job alone: the Deployment was never sent.
    const sent = stub.sent('POST', '/v1/apply');
    expect(sent).toHaveLength(1);
    expect(parseAllDocuments(sent[0]!.body).map((d) => d.toJSON().kind)).toEqual(['Job']);
    expect(io.output()).toContain(
      '::error::job/shop-migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit; nothing else was applied\n',
    );
    const summary = await file('summary.md');
    expect(summary).toContain('#### job/shop-migrate: failed: BackoffLimitExceeded');
    expect(summary).toContain('[pod/shop-migrate-x1] error: relation "orders" already exists');
    expect(await file('output')).toBe('revision=\nstatus=failed\n');
  });

  it('shows the warnings of the apply as ::warning:: annotations', async () => {
    stub.on('POST', '/v1/apply', {
      body: {
        items: [{ kind: 'Deployment', namespace: 'default', name: 'flask-app', action: 'created' }],
        warnings: [
          {
            kind: 'Deployment',
            namespace: 'default',
            name: 'flask-app',
            message:
              'secret "db" not found: its replicas stay Pending (CreateContainerConfigError) until it exists',
          },
        ],
      },
    });
    stub.on('GET', '/v1/namespaces/default/deployments/flask-app', { body: done('flask-app', 1) });
    expect(await runAction(io)).toBe(0);
    expect(io.output()).toContain(
      '::warning::deployment/flask-app: secret "db" not found: its replicas stay Pending (CreateContainerConfigError) until it exists\n',
    );
  });

  it('overrides the image of every Deployment before applying', async () => {
    io.env.INPUT_MANIFESTS = 'berth-app.yaml';
    io.env.INPUT_IMAGE = 'web=registry.example.com/web:sha-1234';
    io.env.INPUT_WAIT = 'false';
    stub.on('POST', '/v1/apply', {
      body: { items: [{ kind: 'Deployment', name: 'web', action: 'configured' }] },
    });
    stub.on('GET', '/v1/namespaces/default/deployments/web', {
      body: done('web', 7, 'registry.example.com/web:sha-1234'),
    });
    expect(await runAction(io)).toBe(0);
    const docs = parseAllDocuments(stub.sent('POST', '/v1/apply')[0]!.body).map((d) => d.toJS());
    expect(docs.find((d) => d.kind === 'Deployment').spec.template.spec.containers[0].image).toBe(
      'registry.example.com/web:sha-1234',
    );
    expect(await file('output')).toBe(
      `url=http://web.example.com:${new URL(stub.url).port}/\nrevision=7\nimage=registry.example.com/web:sha-1234\nstatus=applied\n`,
    );
    expect(await file('summary.md')).toContain(
      '| deployment/web | default | configured | 7 | 2/2 | Complete (not awaited) |',
    );
  });

  it('fails the job with the reason when a rollout fails', async () => {
    stub.on('POST', '/v1/apply', {
      body: { items: [{ kind: 'Deployment', name: 'flask-app', action: 'configured' }] },
    });
    const stuck = done('flask-app', 5);
    stuck.status.updatedReplicas = 1;
    stuck.status.conditions = [
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: 'no progress for 600s',
      },
    ];
    stub.on('GET', '/v1/namespaces/default/deployments/flask-app', { body: stuck });
    expect(await runAction(io)).toBe(1);
    expect(io.output()).toContain(
      '::error::deployment/flask-app: ProgressDeadlineExceeded: no progress for 600s\n',
    );
    expect(await file('output')).toBe('url=\nrevision=5\nimage=web:1\nstatus=failed\n');
    expect(await file('summary.md')).toContain('failed: ProgressDeadlineExceeded: no progress for 600s');
  });

  it('reports a rejected manifest with each path', async () => {
    stub.on(
      'POST',
      '/v1/apply',
      problem(422, 'VALIDATION_FAILED', 'the manifest is invalid', [
        { path: 'spec.template.spec.volumes', message: 'volumes is not supported by Berth' },
      ]),
    );
    expect(await runAction(io)).toBe(1);
    expect(io.output()).toContain(
      '::error::the manifest is invalid (VALIDATION_FAILED)%0Aspec.template.spec.volumes: volumes is not supported by Berth\n',
    );
    expect(await file('output')).toBe('revision=\nstatus=failed\n');
  });

  it('reads globs relative to the workspace and joins several deployments in the revision output', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'berth-ws-'));
    for (const name of ['web', 'api']) {
      await writeFile(
        join(ws, `${name}.yaml`),
        `apiVersion: berth.dev/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: "web:1"}]\n`,
      );
    }
    io.env.GITHUB_WORKSPACE = ws;
    io.env.INPUT_MANIFESTS = '*.yaml';
    io.env.INPUT_NAMESPACE = 'prod';
    stub.on('POST', '/v1/apply', (req) => {
      expect(req.body).toContain('namespace: prod');
      return {
        body: {
          items: [
            { kind: 'Deployment', namespace: 'prod', name: 'api', action: 'created' },
            { kind: 'Deployment', namespace: 'prod', name: 'web', action: 'unchanged' },
          ],
        },
      };
    });
    stub.on('GET', '/v1/namespaces/prod/deployments/api', { body: done('api', 1) });
    stub.on('GET', '/v1/namespaces/prod/deployments/web', { body: done('web', 3) });
    stub.on('GET', '/v1/namespaces/prod/replicas', { body: { items: [] } });
    stub.on('GET', '/v1/namespaces/prod/events', { body: { items: [] } });
    expect(await runAction(io)).toBe(0);
    expect(await file('output')).toBe(
      'url=\nrevision=api=1,web=3\nimage=api=web:1,web=web:1\nstatus=succeeded\n',
    );
  });
});

describe('oidc, annotations and the summary', () => {
  it("trades the runner's identity token for a Berth token, and deploys with it", async () => {
    delete io.env.INPUT_TOKEN;
    io.env.INPUT_OIDC = 'true';
    io.env.ACTIONS_ID_TOKEN_REQUEST_URL = `${stub.url}/runner/idtoken?api-version=2.0`;
    io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'runner-request-token';
    stub.on('GET', '/runner/idtoken', { body: { value: 'header.identity.signature' } });
    stub.on('POST', '/v1/tokens/exchange', {
      body: {
        id: 'tok_1',
        token: 'berth_u_exchanged',
        name: 'shop: repo:acme/shop',
        role: 'deployer',
        namespaces: ['default'],
        expiresAt: '2030-01-01T00:15:00.000Z',
        exchange: { issuer: 'i', subject: 's', claims: {}, rules: ['shop'] },
      },
    });
    stub.on('POST', '/v1/apply', {
      body: {
        items: [{ kind: 'Deployment', namespace: 'default', name: 'flask-app', action: 'configured' }],
      },
    });
    stub.on('GET', '/v1/namespaces/default/deployments/flask-app', { body: done('flask-app', 4) });
    expect(await runAction(io)).toBe(0);
    const [ask] = stub.sent('GET', '/runner/idtoken');
    expect(ask!.query.get('audience')).toBe('berth');
    expect(ask!.query.get('api-version')).toBe('2.0');
    expect(ask!.headers.authorization).toBe('Bearer runner-request-token');
    const [exchange] = stub.sent('POST', '/v1/tokens/exchange');
    expect(exchange!.headers.authorization).toBeUndefined();
    expect(JSON.parse(exchange!.body)).toEqual({ token: 'header.identity.signature' });
    expect(io.output()).toContain('::add-mask::header.identity.signature\n');
    expect(io.output()).toContain('::add-mask::berth_u_exchanged\n');
    expect(io.output()).toContain(
      'oidc: deployer token for default until 2030-01-01T00:15:00.000Z (trust rule shop)',
    );
    expect(stub.sent('POST', '/v1/apply')[0]!.headers.authorization).toBe('Bearer berth_u_exchanged');
  });

  it('says what the workflow lacks when the runner offers no identity token, and the refusal when Berth refuses it', async () => {
    delete io.env.INPUT_TOKEN;
    io.env.INPUT_OIDC = 'true';
    expect(await runAction(io)).toBe(1);
    expect(io.output()).toContain('permissions: id-token: write');

    io.env.ACTIONS_ID_TOKEN_REQUEST_URL = `${stub.url}/runner/idtoken`;
    io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'r';
    stub.on('GET', '/runner/idtoken', { body: { value: 'a.b.c' } });
    stub.on(
      'POST',
      '/v1/tokens/exchange',
      problem(
        401,
        'UNAUTHENTICATED',
        'identity token refused (no matching rule): no trust rule matches repository acme/x',
      ),
    );
    expect(await runAction(io)).toBe(1);
    expect(io.output()).toContain(
      "::error::oidc: Berth refused this job's identity token: identity token refused (no matching rule): no trust rule matches repository acme/x",
    );
    expect(stub.sent('POST', '/v1/apply')).toHaveLength(0);
  });

  it('annotates the manifest line of each refused field', async () => {
    stub.on(
      'POST',
      '/v1/apply',
      problem(422, 'VALIDATION_FAILED', 'the manifest is invalid', [
        { path: 'spec.template.spec.containers[0].image', message: 'is required', document: 0 },
      ]),
    );
    expect(await runAction(io)).toBe(1);
    const text = await readFile(join(FIXTURES, 'quick-start.yaml'), 'utf8');
    const line = text.split('\n').findIndex((l) => /^\s+image:/.test(l)) + 1;
    expect(io.output()).toContain(
      `::error file=quick-start.yaml,line=${line},title=Berth refused the manifest::spec.template.spec.containers[0].image: is required\n`,
    );
  });

  it("shows what the apply changed, the rollout's progress, and a failure's replicas, log lines and events", async () => {
    stub.on('POST', '/v1/apply', {
      body: {
        items: [{ kind: 'Deployment', namespace: 'default', name: 'flask-app', action: 'configured' }],
      },
    });
    let reads = 0;
    stub.on('GET', '/v1/namespaces/default/deployments/flask-app', () => {
      reads++;
      if (stub.sent('POST', '/v1/apply').length === 0) return { body: done('flask-app', 1, 'web:1') };
      const d = done('flask-app', 2, 'web:2');
      d.status.readyReplicas = reads > 3 ? 1 : 0;
      d.status.conditions = [
        reads > 3
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'no progress',
            }
          : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'updating' },
      ];
      return { body: d };
    });
    stub.on('GET', '/v1/namespaces/default/replicas', {
      body: {
        items: [
          {
            id: 'flask-app-x1',
            revision: 2,
            node: 'n1',
            phase: 'Failed',
            ready: false,
            restartCount: 3,
            message: 'crashed',
          },
        ],
      },
    });
    stub.on('GET', '/v1/namespaces/default/replicas/flask-app-x1/logs', {
      body: { lines: ['boot', 'panic: no DB'] },
    });
    stub.on('GET', '/v1/namespaces/default/events', {
      body: {
        items: [{ id: 1, type: 'Warning', reason: 'BackOff', message: 'restarting failed container' }],
      },
    });
    io.env.INPUT_TIMEOUT = '5m';
    expect(await runAction(io)).toBe(1);
    const summary = await file('summary.md');
    expect(summary).toContain('#### What changed');
    expect(summary).toMatch(/-\s+image: web:1\n\+\s+image: web:2/);
    expect(summary).toContain('deployment/flask-app: rollout progress');
    expect(summary).toMatch(/\n\+\d+s replica flask-app-x1 on node n1 failed: crashed\n/);
    expect(summary).toContain('| flask-app-x1 | n1 | Failed | 3 | crashed |');
    expect(summary).toContain('[pod/flask-app-x1] panic: no DB');
    expect(summary).toContain('| Warning | BackOff | restarting failed container |');
  });
});

describe('the committed bundle', () => {
  it('is what action/build.ts builds from the current sources (run npm run build:action)', async () => {
    const fresh = join(dir, 'index.mjs');
    await bundleAction(fresh);
    const digest = async (path: string) =>
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
    expect(await digest(fresh)).toBe(await digest(BUNDLE));
  });
});
