import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '../../common/agent-protocol.ts';
import { NO_TOKEN_WARNING } from '../../common/service-account.ts';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import { berthCheckoutCli, berthCli, ROOT, type RunningProcess, startCli } from './support/cli-run.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The `berth` CLI as a user runs it, a real process each time (the single-file build; once
 * `node bin/berth.mjs`), against the real server (`npm start`'s entry) with three simulated agents.
 */

const QUICK_START = join(ROOT, 'test/fixtures/manifests/quick-start.yaml');

/** Images the simulated agents treat specially, so rollouts can fail on purpose. */
function observe(a: Assignment) {
  const image = a.containers[0]?.image ?? '';
  if (image.includes('does-not-exist')) {
    return {
      phase: 'Failed' as const,
      ready: false,
      message: `pull access denied for ${image}: repository does not exist`,
    };
  }
  if (image.includes('never-ready')) return { phase: 'Starting' as const, ready: false };
  return undefined as never;
}

let server: BerthServer;
let fleet: SimFleet;
let env: Record<string, string>;
let dir: string;

const berth = (...args: string[]) => berthCli(args, { env });

function manifest(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

const deploymentYaml = (name: string, image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 2${extra}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: ${name}
        image: ${image}
        ports:
        - containerPort: 8080
`;

beforeAll(async () => {
  server = await startBerthServer();
  fleet = await startSimAgents({
    server: server.url,
    adminToken: server.adminToken,
    count: 3,
    prefix: 'cli',
    options: { observe, waitSeconds: 5 },
  });
  dir = mkdtempSync(join(tmpdir(), 'berth-cli-e2e-'));
  env = {
    HOME: dir,
    BERTH_CONFIG: join(dir, 'config.json'),
    BERTH_SERVER: server.url,
    BERTH_TOKEN: server.adminToken,
    BERTH_POLL_INTERVAL_MS: '200',
  };
});

afterAll(async () => {
  await fleet?.stop();
  await server?.stop();
});

describe('berth against a live server', () => {
  it('applies the Kubernetes quick-start unchanged and follows the rollout', async () => {
    const applied = await berth('apply', '-f', QUICK_START);
    // Kubernetes would mount an API token into its pods: Berth says once that it does not.
    expect(applied).toMatchObject({
      code: 0,
      stdout: 'deployment/flask-app created\n',
      stderr: `Warning: deployment/flask-app: ${NO_TOKEN_WARNING}\n`,
    });

    const status = await berth('rollout', 'status', 'deployment/flask-app', '--timeout', '60s');
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout.trim().split('\n').at(-1)).toBe(
      'deployment "flask-app" successfully rolled out (revision 1)',
    );

    const again = await berth('apply', '-f', QUICK_START);
    expect(again).toMatchObject({ code: 0, stdout: 'deployment/flask-app unchanged\n' });
  });

  it('lists deployments, replicas and nodes as tables and json', async () => {
    const table = await berth('get', 'deployments');
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.split('\n');
    expect(header).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+REVISION\s+AGE$/);
    expect(row).toMatch(/^flask-app\s+3\/3\s+3\s+3\s+1\s+\d+s$/);
    // Columns line up: every row starts its second column where the header does.
    expect(row!.indexOf('3/3')).toBe(header!.indexOf('READY'));

    const json = JSON.parse((await berth('get', 'deployments', '-o', 'json')).stdout);
    expect(json.items.map((d: { metadata: { name: string } }) => d.metadata.name)).toEqual(['flask-app']);

    const replicas = await berth('get', 'replicas', '-d', 'flask-app', '-o', 'json');
    const items = JSON.parse(replicas.stdout).items as { phase: string; ready: boolean; node: string }[];
    expect(items).toHaveLength(3);
    expect(items.every((r) => r.phase === 'Running' && r.ready && r.node.startsWith('cli-'))).toBe(true);

    const nodes = await berth('get', 'nodes');
    expect(nodes.stdout).toMatch(/^cli-1\s+Ready\s+127\.0\.0\.1\s+/m);
    expect(nodes.stdout.trim().split('\n')).toHaveLength(4);

    const described = await berth('describe', 'deployment', 'flask-app');
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(
      /^Replicas:\s+3 desired \| 3 updated \| 3 ready \| 3 available \| 0 unavailable$/m,
    );
    expect(described.stdout).toMatch(/^\s+Progressing\s+True\s+NewRevisionAvailable/m);
    expect(described.stdout).toMatch(/^\s+flask-app-\S+\s+1\s+cli-\d\s+Running\s+true/m);
  });

  it('sets an image, follows the new rollout, lists history and undoes it', async () => {
    const set = await berth('set', 'image', 'deployment/flask-app', 'flask-app=your-docker-image:2');
    expect(set).toMatchObject({ code: 0, stdout: 'deployment/flask-app image updated\n' });
    const status = await berth('rollout', 'status', 'deployment/flask-app', '--timeout', '60s');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/successfully rolled out \(revision 2\)/);

    const history = await berth('rollout', 'history', 'deployment/flask-app');
    expect(history.stdout).toMatch(/^1\s+flask-app=your-docker-image\s/m);
    expect(history.stdout).toMatch(/^2\s+flask-app=your-docker-image:2\s/m);

    expect((await berth('rollout', 'undo', 'deployment/flask-app')).code).toBe(0);
    expect((await berth('rollout', 'status', 'deployment/flask-app', '--timeout', '60s')).code).toBe(0);
    const image = JSON.parse((await berth('get', 'deployment', 'flask-app', '-o', 'json')).stdout).spec
      .template.spec.containers[0].image;
    expect(image).toBe('your-docker-image');
  });

  it('scales, pauses and resumes', async () => {
    expect((await berth('scale', 'deployment', 'flask-app', '--replicas', '1')).stdout).toBe(
      'deployment/flask-app scaled\n',
    );
    expect((await berth('rollout', 'status', 'deployment/flask-app', '--timeout', '60s')).code).toBe(0);
    expect((await berth('get', 'deployments')).stdout).toMatch(/^flask-app\s+1\/1\s/m);
    expect((await berth('rollout', 'pause', 'deployment/flask-app')).code).toBe(0);
    const paused = await berth('rollout', 'status', 'deployment/flask-app', '--timeout', '5s');
    expect(paused.code).toBe(1);
    expect(paused.stderr).toMatch(/is paused/);
    expect((await berth('rollout', 'resume', 'deployment/flask-app')).code).toBe(0);
  });

  it('prints logs fetched from the agents', async () => {
    const logs = await berth('logs', 'deployment/flask-app', '--tail', '5');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/log line of flask-app-\S+ from cli-\d/);
  });

  it('rejects an unsupported Kubernetes field with its path, changing nothing', async () => {
    const path = manifest(
      'volumes.yaml',
      deploymentYaml('vol', 'busybox:1').replace(
        '      containers:',
        '      volumes:\n      - name: data\n        nfs: {server: nas, path: /var/lib/data}\n      containers:',
      ),
    );
    const result = await berth('apply', '-f', path);
    expect(result.code).toBe(6);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: .+ \(VALIDATION_FAILED\)$/m);
    expect(result.stderr).toMatch(/spec\.template\.spec\.volumes\[0\]\.nfs: .*not supported by Berth/m);
    expect(result.stderr).not.toMatch(/\n\s+at /); // never a stack trace
    expect((await berth('get', 'deployment', 'vol')).code).toBe(4);
  });

  it('reports a YAML syntax error with file and line', async () => {
    const path = manifest('broken.yaml', 'apiVersion: apps/v1\nkind: [Deployment\n');
    const result = await berth('apply', '-f', path);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/broken\.yaml:\d+: invalid YAML/);
  });

  it('fails a rollout on an image pull failure, naming replica and node', async () => {
    const path = manifest('bad-image.yaml', deploymentYaml('pull', 'registry.example.com/does-not-exist:1'));
    const result = await berth('apply', '-f', path, '--wait', '--timeout', '60s');
    expect(result.stdout).toMatch(/^deployment\/pull created$/m);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: deployment "pull" rollout failed: image pull failure of replica pull-\S+ on node cli-\d: pull access denied/m,
    );
  });

  it('fails a rollout that passes its progress deadline, and reports an automatic rollback', async () => {
    const stuck = manifest(
      'stuck.yaml',
      deploymentYaml('stuck', 'web:never-ready', '\n  progressDeadlineSeconds: 2'),
    );
    const result = await berth('apply', '-f', stuck, '--wait', '--timeout', '60s');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rollout failed: ProgressDeadlineExceeded/);

    // A good revision first, then a bad one that the server rolls back by itself. `apply --wait`
    // follows from before its own write, so it sees the rollback however late it gets to look.
    const good = manifest(
      'auto.yaml',
      deploymentYaml('auto', 'web:1', '\n  progressDeadlineSeconds: 10\n  autoRollback: true'),
    );
    expect((await berth('apply', '-f', good, '--wait', '--timeout', '60s')).code).toBe(0);
    const bad = manifest(
      'auto-bad.yaml',
      deploymentYaml('auto', 'web:never-ready', '\n  progressDeadlineSeconds: 10\n  autoRollback: true'),
    );
    const rolledBack = await berth('apply', '-f', bad, '--wait', '--timeout', '90s');
    expect(rolledBack.code).toBe(1);
    expect(rolledBack.stderr).toMatch(/rollout failed: rolled back/);
  });

  it('exits 4 for an absent object, 5 for a bad token, 3 for an unreachable server, 2 for bad usage', async () => {
    // Through the checkout's entry (tsx), as the README runs it; the rest run the single-file build.
    const absent = await berthCheckoutCli(['get', 'deployment', 'nope'], { env });
    expect(absent.code).toBe(4);
    expect(absent.stderr).toMatch(/^error: .*nope.* \(NOT_FOUND\)$/m);
    expect((await berthCli(['get', 'deployments'], { env: { ...env, BERTH_TOKEN: 'wrong' } })).code).toBe(5);
    const down = await berthCli(['get', 'deployments'], {
      env: { ...env, BERTH_SERVER: 'http://127.0.0.1:9' },
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/^error: cannot reach the Berth server at http:\/\/127\.0\.0\.1:9/);
    expect((await berth('scale', 'deployment', 'flask-app')).code).toBe(2);
  });

  it('creates, uses and revokes a token; saves a context with login', async () => {
    const created = await berth('token', 'create', 'ci', '--role', 'deployer', '--namespaces', 'default');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token.length).toBeGreaterThan(16);

    const loggedIn = await berthCli(['login', '--server', server.url, '--token', token, '--name', 'ci'], {
      env: { HOME: dir, BERTH_CONFIG: join(dir, 'ci-config.json') },
    });
    expect(loggedIn.code).toBe(0);
    const viaContext = await berthCli(['get', 'deployments', '-o', 'name'], {
      env: { HOME: dir, BERTH_CONFIG: join(dir, 'ci-config.json') },
    });
    expect(viaContext).toMatchObject({ code: 0 });
    expect(viaContext.stdout).toMatch(/^deployment\/flask-app$/m);
    // A deployer may not manage nodes.
    expect((await berthCli(['node', 'cordon', 'cli-1'], { env: { ...env, BERTH_TOKEN: token } })).code).toBe(
      5,
    );

    const list = await berth('token', 'list', '-o', 'json');
    const id = (JSON.parse(list.stdout).items as { id: string; name: string }[]).find(
      (t) => t.name === 'ci',
    )!.id;
    expect((await berth('token', 'revoke', id)).code).toBe(0);
    expect((await berthCli(['get', 'deployments'], { env: { ...env, BERTH_TOKEN: token } })).code).toBe(5);
  });

  it('creates join tokens and cordons nodes', async () => {
    const join = await berth('join-token', 'create', '--ttl', '1h', '--max-uses', '1');
    expect(join.code).toBe(0);
    expect(join.stdout.trim()).not.toBe('');
    expect((await berth('node', 'cordon', 'cli-3')).stdout).toBe('node/cli-3 cordoned\n');
    expect((await berth('get', 'nodes')).stdout).toMatch(/^cli-3\s+Ready,SchedulingDisabled\s/m);
    expect((await berth('node', 'uncordon', 'cli-3')).code).toBe(0);
  });

  it('forwards a local port to a service through the ingress', async () => {
    // A real HTTP server stands in for the replica's container: the agent reports its port.
    const backend: Server = createServer((req, res) => {
      res.end(`hello from the backend, host ${req.headers.host}, path ${req.url}`);
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const backendPort = (backend.address() as AddressInfo).port;
    let forward: RunningProcess | undefined;
    try {
      const path = manifest(
        'pf.yaml',
        `${deploymentYaml('pf', 'web:1').replace('replicas: 2', 'replicas: 1')}---
apiVersion: v1
kind: Service
metadata:
  name: pf
  annotations:
    berth.dev/hosts: pf.example.test
spec:
  selector: {app: pf}
  ports:
  - port: 80
    targetPort: 8080
`,
      );
      const applied = await berth('apply', '-f', path, '--wait', '--timeout', '60s');
      expect(applied.stdout).toMatch(/^service\/pf created$/m);
      expect(applied.code).toBe(0);
      const [agent, replica] = await eventually(
        async () => {
          for (const a of fleet.agents) {
            const r = a.running().find((x) => x.deployment === 'pf');
            if (r) return [a, r] as const;
          }
          return undefined;
        },
        20_000,
        'the pf replica to be assigned',
      );
      (agent as unknown as { ports: Map<string, number> }).ports.set(replica.id, backendPort);
      await agent.report();
      await eventually(
        async () => {
          const res = await server.call('GET', '/v1/namespaces/default/services/pf/endpoints');
          return JSON.stringify(res.body).includes(String(backendPort));
        },
        20_000,
        'the endpoint to carry the backend port',
      );

      forward = await startCli(['port-forward', 'service/pf', '0'], env);
      const [, url] = await forward.line(
        /^Forwarding from (http:\/\/127\.0\.0\.1:\d+) -> service\/pf \(Host: pf\.example\.test\)/m,
      );
      const res = await fetch(`${url}/hello`);
      // The ingress picked the service by the Host the forwarder set, and reached the replica.
      expect(await res.text()).toMatch(/^hello from the backend, host \S+, path \/hello$/);
      expect(res.status).toBe(200);
      const stopped = await forward.interrupt();
      forward = undefined;
      expect(stopped.code).toBe(0);
    } finally {
      await forward?.interrupt();
      backend.close();
    }
  });

  it("bounds a deployer's hosts by the policy an admin sets with the CLI", async () => {
    const ns = 'cli-policy';
    // Before any policy, the namespace has the default, and stderr says so.
    const before = await berth('get', 'policy', ns);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(new RegExp(`^${ns}\\s+<none>\\s+false\\s+<none>\\s+<none>\\s+1Gi$`, 'm'));
    expect(before.stderr).toMatch(/has no policy of its own: this is the default/);

    const set = await berth(
      'namespace',
      'set-policy',
      ns,
      '--allow-host-suffix',
      'shop.example.test',
      '--quota-replicas',
      '4',
      '-o',
      'json',
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const policy = JSON.parse(set.stdout);
    expect(policy.spec).toMatchObject({
      allowedHostSuffixes: ['shop.example.test'],
      quota: { replicas: 4 },
      defaultLimits: { memory: '1Gi' },
    });
    expect(policy.metadata.annotations?.['berth.dev/default']).toBeUndefined();

    const created = await berth('token', 'create', 'ci-policy', '--role', 'deployer', '--namespaces', ns);
    expect(created.code).toBe(0);
    const deployer = { ...env, BERTH_TOKEN: created.stdout.trim(), BERTH_NAMESPACE: ns };
    const asDeployer = (...args: string[]) => berthCli(args, { env: deployer });
    const serviceYaml = (host: string) => `apiVersion: berth.dev/v1
kind: Service
metadata:
  name: storefront
spec:
  selector: {app: storefront}
  ports:
  - port: 80
    targetPort: 8080
  hosts: [${host}]
`;

    const outside = await asDeployer('apply', '-f', manifest('outside.yaml', serviceYaml('shop.other.test')));
    expect(outside.code).toBe(6);
    expect(outside.stdout).toBe('');
    expect(outside.stderr).toMatch(
      /spec\.hosts\[0\]: "shop\.other\.test" is not allowed in namespace "cli-policy".*shop\.example\.test$/m,
    );
    expect((await asDeployer('get', 'service', 'storefront')).code).toBe(4);

    const inside = await asDeployer(
      'apply',
      '-f',
      manifest('inside.yaml', serviceYaml('eu.shop.example.test')),
    );
    expect(inside).toMatchObject({ code: 0, stdout: 'service/storefront created\n', stderr: '' });

    // The deployer reads its namespace's policy but may not change it: the server's 403 text.
    expect((await asDeployer('namespace', 'get-policy')).stdout).toMatch(
      /^cli-policy\s+shop\.example\.test\s/m,
    );
    const refused = await asDeployer('namespace', 'set-policy', ns, '--allow-host-suffix', 'other.test');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toBe('error: this action needs an admin token (FORBIDDEN)\n');

    const listed = await berth('get', 'policies');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^cli-policy\s+shop\.example\.test\s+false\s+<none>\s+replicas=4\s+1Gi$/m);
    expect((await berth('namespace', 'delete-policy', ns)).code).toBe(0);
    expect((await berth('get', 'policies')).stdout).not.toMatch(/cli-policy/);
  });

  it('deletes what a manifest names', async () => {
    const deleted = await berth('delete', '-f', QUICK_START);
    expect(deleted).toMatchObject({ code: 0, stdout: 'deployment/flask-app deleted\n' });
    expect((await berth('delete', '-f', QUICK_START)).code).toBe(4);
    expect((await berth('delete', '-f', QUICK_START, '--ignore-not-found')).code).toBe(0);
  });
});
