import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.ts';
import { eventually, type FetchLike, sleep, startSimAgents } from '../support/sim-agents.ts';
import { startKubectlFront } from './support/kubectl-front.ts';
import {
  ADMIN_TOKEN,
  type LiveServer,
  RUNTIMES,
  type RuntimeName,
  startRuntime,
} from './support/runtimes.ts';

/**
 * One API contract, every runtime: the same requests against `npm start` (Node),
 * `npm run dev:workers` (workerd) and `npm run start:deno` (Deno, over node-postgres and over
 * the Neon driver), each a live process on its own fresh PostgreSQL database, through HTTP and
 * through the real kubectl. Differences are only those API.md allows: Workers answer
 * long-polls at once, and their safety-net reconcile is the cron.
 */
const servers = new Map<RuntimeName, LiveServer>();
/** An OIDC issuer on 127.0.0.1 every runtime trusts: jose verifies its tokens on each. */
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  // In parallel: wrangler alone needs several seconds to bundle and boot workerd.
  const started = await Promise.allSettled(
    RUNTIMES.map((r) => startRuntime(r, { BERTH_OIDC_ISSUERS: issuer.url })),
  );
  started.forEach((s, i) => {
    if (s.status === 'fulfilled') servers.set(RUNTIMES[i]!, s.value);
  });
  const failures = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
  if (failures.length) throw new Error(failures.join('\n\n'));
}, 300_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  await issuer?.close();
}, 60_000);

interface Reply {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

const NS = '/v1/namespaces/default';

/** Where a server's output first went wrong: its first warning or error lines, and what follows. */
function firstProblems(output: string): string {
  const lines = output.split('\n');
  const first = lines.findIndex((l) => /warn|error/i.test(l));
  return first < 0 ? '(none)' : lines.slice(Math.max(0, first - 5), first + 60).join('\n');
}

/**
 * A deployment for the API tests. Unless `placeable`, it selects a node that never exists: its
 * replicas stay Pending, so they never land on the nodes the agent tests register (which
 * would change those nodes' assignments under the test).
 */
function deployment(
  image = 'registry.example.com/web:1',
  replicas = 2,
  options: { placeable?: boolean } = {},
) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { labels: { app: 'web' } },
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          ...(options.placeable ? {} : { nodeSelector: { 'berth.dev/node': 'nowhere' } }),
          containers: [
            {
              name: 'web',
              image,
              ports: [{ containerPort: 8080 }],
              resources: { requests: { cpu: '100m' } },
            },
          ],
        },
      },
    },
  };
}

describe.each(RUNTIMES)('API contract on %s', (runtime) => {
  const server = () => {
    const s = servers.get(runtime);
    if (!s) throw new Error(`${runtime} is not running`);
    return s;
  };

  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Reply> => {
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const started = performance.now();
    const res = await fetch(`${server().url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers, ms: performance.now() - started };
  };

  const expectProblem = (reply: Reply, status: number, code: string) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(status);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    expect(reply.body).toMatchObject({ status, code });
    expect(reply.body.requestId).toBeTruthy();
    expect(reply.body.title).toBeTruthy();
  };

  const token = async (role: string, namespaces: string[]) => {
    const res = await call('POST', '/v1/tokens', {
      body: { name: `${role}-${namespaces.join('-')}`, role, namespaces },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  };

  it('serves health, readiness and the OpenAPI document', async () => {
    const health = await call('GET', '/healthz', { token: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.headers.get('x-request-id')).toBeTruthy();
    expect((await call('GET', '/readyz', { token: null })).status).toBe(200);
    const openapi = await call('GET', '/openapi.json', { token: null });
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v1/namespaces/{ns}/deployments/{name}', '/v1/agent/assignments']),
    );
    const ui = await fetch(`${server().url}/ui`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    const script = /src="([^"]+\.js[^"]*)"/.exec(await ui.text())?.[1];
    expect(script).toBeTruthy();
    const js = await fetch(new URL(script!, server().url));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    // The dashboard script is assembled from compiled functions at run time: it must parse
    // whatever compiled them (tsx, wrangler's esbuild, Deno).
    const source = await js.text();
    expect(() => new Function(source)).not.toThrow();
  });

  it('creates, reads, lists, patches, scales and deletes a deployment', async () => {
    const created = await call('PUT', `${NS}/deployments/crud`, { body: deployment() });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({
      name: 'crud',
      namespace: 'default',
      generation: 1,
      resourceVersion: '1',
    });
    const same = await call('PUT', `${NS}/deployments/crud`, { body: deployment() });
    expect(same.status).toBe(200);
    expect(same.body.metadata).toMatchObject({ generation: 1, resourceVersion: '1' });

    const read = await call('GET', `${NS}/deployments/crud`);
    expect(read.status).toBe(200);
    expect(read.body.spec.template.spec.containers[0].image).toBe('registry.example.com/web:1');

    const matching = await call('GET', `${NS}/deployments?labelSelector=app%3Dweb`);
    expect(matching.body.items.map((d: { metadata: { name: string } }) => d.metadata.name)).toContain('crud');
    const none = await call('GET', `${NS}/deployments?labelSelector=app%3Dnothing`);
    expect(none.body.items).toEqual([]);

    const patched = await call('PATCH', `${NS}/deployments/crud`, {
      body: {
        spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/web:2' }] } } },
      },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.metadata.generation).toBe(2);
    expect(patched.body.spec.template.spec.containers[0].image).toBe('registry.example.com/web:2');

    const scaled = await call('PUT', `${NS}/deployments/crud/scale`, { body: { replicas: 5 } });
    expect(scaled.status).toBe(200);
    expect(scaled.body.spec.replicas).toBe(5);

    expect((await call('DELETE', `${NS}/deployments/crud`)).status).toBe(200);
    expectProblem(await call('GET', `${NS}/deployments/crud`), 404, 'NOT_FOUND');
  });

  it('answers each error class with problem+json and changes nothing', async () => {
    expect((await call('PUT', `${NS}/deployments/errors`, { body: deployment() })).status).toBe(201);

    expectProblem(await call('PUT', `${NS}/deployments/errors`, { body: '{"spec": ' }), 400, 'BAD_REQUEST');
    const anonymous = await call('GET', `${NS}/deployments`, { token: null });
    expectProblem(anonymous, 401, 'UNAUTHENTICATED');
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expectProblem(
      await call('GET', `${NS}/deployments`, { token: 'berth_u_not-a-real-token' }),
      401,
      'UNAUTHENTICATED',
    );
    const viewer = await token('viewer', ['default']);
    expectProblem(
      await call('PUT', `${NS}/deployments/errors`, { body: deployment(), token: viewer.token }),
      403,
      'FORBIDDEN',
    );
    expectProblem(await call('GET', `${NS}/deployments/absent`), 404, 'NOT_FOUND');
    expectProblem(await call('GET', '/v1/no-such-route'), 404, 'NOT_FOUND');
    const stale = deployment('registry.example.com/web:9');
    const conflict = await call('PUT', `${NS}/deployments/errors`, {
      body: { ...stale, metadata: { ...stale.metadata, resourceVersion: '99' } },
    });
    expectProblem(conflict, 409, 'CONFLICT');
    const huge = JSON.stringify({ ...deployment(), padding: 'x'.repeat(1024 * 1024 + 10) });
    expectProblem(await call('PUT', `${NS}/deployments/errors`, { body: huge }), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(
      await call('PUT', `${NS}/deployments/errors`, {
        body: 'replicas: 2',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const invalid = await call('PUT', `${NS}/deployments/errors`, {
      body: { spec: { replicas: -1, template: { spec: { containers: [{ name: 'Web', image: 42 }] } } } },
    });
    expectProblem(invalid, 422, 'VALIDATION_FAILED');
    expect(invalid.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['spec.replicas', 'spec.template.spec.containers[0].name']),
    );

    const after = await call('GET', `${NS}/deployments/errors`);
    expect(after.body.metadata).toMatchObject({ generation: 1, resourceVersion: '1' });
    expect(after.body.spec.template.spec.containers[0].image).toBe('registry.example.com/web:1');
  });

  it('scopes tokens by role and namespace, lists them without secrets, revokes at once', async () => {
    const deployer = await token('deployer', ['team-a']);
    expect(
      (
        await call('PUT', '/v1/namespaces/team-a/deployments/web', {
          body: deployment(),
          token: deployer.token,
        })
      ).status,
    ).toBe(201);
    expectProblem(
      await call('PUT', '/v1/namespaces/team-b/deployments/web', {
        body: deployment(),
        token: deployer.token,
      }),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await call('POST', '/v1/tokens', {
        body: { name: 'x', role: 'admin', namespaces: [] },
        token: deployer.token,
      }),
      403,
      'FORBIDDEN',
    );
    const viewer = await token('viewer', ['team-a']);
    expect((await call('GET', '/v1/namespaces/team-a/deployments/web', { token: viewer.token })).status).toBe(
      200,
    );
    expectProblem(
      await call('PUT', '/v1/namespaces/team-a/deployments/web/scale', {
        body: { replicas: 1 },
        token: viewer.token,
      }),
      403,
      'FORBIDDEN',
    );

    const listed = await call('GET', '/v1/tokens');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(deployer.token);
    expect((await call('DELETE', `/v1/tokens/${deployer.id}`)).status).toBe(204);
    expectProblem(
      await call('GET', '/v1/namespaces/team-a/deployments', { token: deployer.token }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('trades an identity token a trust rule accepts for a short-lived token, and refuses another audience', async () => {
    const rule = await call('PUT', '/v1/trustrules/contract', {
      body: {
        spec: {
          issuer: issuer.url,
          claims: { repository: 'acme/shop' },
          role: 'viewer',
          namespaces: ['default'],
        },
      },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const exchanged = await call('POST', '/v1/tokens/exchange', {
      token: null,
      body: { token: await issuer.sign() },
    });
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    expect(exchanged.body).toMatchObject({
      role: 'viewer',
      namespaces: ['default'],
      exchange: { rules: ['contract'] },
    });
    const whoami = await call('GET', '/v1/whoami', { token: exchanged.body.token });
    expect(whoami.body).toMatchObject({ role: 'viewer', namespaces: ['default'] });
    const refused = await call('POST', '/v1/tokens/exchange', {
      token: null,
      body: { token: await issuer.sign({ aud: 'elsewhere' }) },
    });
    expectProblem(refused, 401, 'UNAUTHENTICATED');
    expect(refused.body.detail).toMatch(/^identity token refused \(audience\)/);
  });

  it('speaks the agent protocol: register, assignments with ETag and 304, status, poll interval', async () => {
    const join = await call('POST', '/v1/join-tokens', { body: { ttlSeconds: 600, maxUses: 1 } });
    expect(join.status).toBe(201);
    const registered = await call('POST', '/v1/agent/register', {
      token: null,
      body: {
        joinToken: join.body.token,
        name: 'proto-node',
        labels: { zone: 'a' },
        capacity: { cpu: 2, memoryBytes: 2 ** 31 },
        address: '10.1.0.1',
        agentVersion: 'contract',
      },
    });
    expect(registered.status).toBe(200);
    expect(registered.body.nodeId).toBeTruthy();
    expect(registered.body.pollIntervalSeconds).toBeGreaterThan(0);
    const node = registered.body.nodeToken as string;
    try {
      const first = await call('GET', '/v1/agent/assignments', { token: node });
      expect(first.status).toBe(200);
      expect(first.body.replicas).toEqual([]);
      const etag = first.headers.get('etag');
      expect(etag).toBeTruthy();
      expect(Number(first.headers.get('x-poll-interval'))).toBe(registered.body.pollIntervalSeconds);

      const unchanged = await call('GET', '/v1/agent/assignments', {
        token: node,
        headers: { 'if-none-match': etag! },
      });
      expect(unchanged.status).toBe(304);

      // A long-poll: held up to the wait on Node and Deno, answered at once on Workers (the agent
      // then comes back after x-poll-interval).
      const waited = await call('GET', '/v1/agent/assignments?wait=2', {
        token: node,
        headers: { 'if-none-match': etag! },
      });
      expect(waited.status).toBe(304);
      expect(waited.headers.get('x-poll-interval')).toBeTruthy();
      if (server().holdsLongPolls) expect(waited.ms).toBeGreaterThanOrEqual(1800);
      else expect(waited.ms).toBeLessThan(1500);

      const status = await call('POST', '/v1/agent/status', { token: node, body: { replicas: [] } });
      expect(status.status).toBe(204);

      expectProblem(await call('GET', `${NS}/deployments`, { token: node }), 403, 'FORBIDDEN');
      expectProblem(await call('GET', '/v1/agent/assignments'), 403, 'FORBIDDEN');
      const second = await call('POST', '/v1/agent/register', {
        token: null,
        body: {
          joinToken: join.body.token,
          name: 'proto-node-2',
          capacity: { cpu: 1, memoryBytes: 2 ** 30 },
          address: '10.1.0.2',
        },
      });
      expectProblem(second, 401, 'UNAUTHENTICATED');

      const listed = await call('GET', '/v1/nodes/proto-node');
      expect(listed.status).toBe(200);
      expect(JSON.stringify(listed.body)).toContain('"berth.dev/node":"proto-node"');
      expect((await call('DELETE', '/v1/nodes/proto-node')).status).toBeLessThan(300);
      expectProblem(await call('GET', '/v1/agent/assignments', { token: node }), 401, 'UNAUTHENTICATED');
    } finally {
      // Leave no node behind for the placement test to choose.
      await call('DELETE', '/v1/nodes/proto-node');
    }
  });

  it('places replicas on simulated agents over HTTP and reports the rollout complete', async () => {
    // Agents that honour the server's answer: after an unchanged short poll they wait before
    // asking again, as berth-agent does with x-poll-interval (shortened for the test).
    const politeFetch: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (res.status === 304 && url.includes('/v1/agent/assignments') && !server().holdsLongPolls)
        await sleep(150);
      return res;
    };
    /** A wait that gave up says what the deployment, its replicas and the server's log showed. */
    const explain = async (e: unknown): Promise<never> => {
      const d = (await call('GET', `${NS}/deployments/placed`)).body;
      const r = (await call('GET', `${NS}/replicas?deployment=placed`)).body;
      const running = fleet.agents.map((a) => `${a.name}: ${a.running().length}`).join(', ');
      throw new Error(
        `${(e as Error).message}\nstatus: ${JSON.stringify(d.status)}\nreplicas: ${JSON.stringify(r.items)}\n` +
          `agents run: ${running}\n--- the server's first warnings and errors ---\n${firstProblems(server().output())}`,
      );
    };
    const fleet = await startSimAgents({
      server: server().url,
      adminToken: ADMIN_TOKEN,
      count: 2,
      prefix: `${runtime}-sim`,
      fetch: politeFetch,
      options: { waitSeconds: 10, heartbeatMs: 500 },
    });
    try {
      const put = await call('PUT', `${NS}/deployments/placed`, {
        body: deployment('registry.example.com/web:1', 4, { placeable: true }),
      });
      expect(put.status).toBe(201);
      const done = await eventually(
        async () => {
          const d = (await call('GET', `${NS}/deployments/placed`)).body;
          const progressing = d.status?.conditions?.find((c: { type: string }) => c.type === 'Progressing');
          return d.status?.readyReplicas === 4 && progressing?.reason === 'NewRevisionAvailable'
            ? d
            : undefined;
        },
        // Generous: workerd beside the other test files on two busy cores is slow, not wrong.
        60_000,
        'the rollout to complete',
      ).catch(explain);
      expect(done.status).toMatchObject({ replicas: 4, updatedReplicas: 4, availableReplicas: 4 });

      const replicas = (await call('GET', `${NS}/replicas?deployment=placed`)).body.items as {
        id: string;
        node: string;
        phase: string;
        ready: boolean;
      }[];
      expect(replicas).toHaveLength(4);
      expect(replicas.every((r) => r.phase === 'Running' && r.ready)).toBe(true);
      const names = fleet.agents.map((a) => a.name);
      expect(new Set(replicas.map((r) => r.node))).toEqual(new Set(names));
      for (const agent of fleet.agents) {
        // Each agent was told exactly its own replicas, nothing of the other node's.
        const own = replicas.filter((r) => r.node === agent.name).map((r) => r.id);
        expect(
          agent
            .running()
            .map((a) => a.id)
            .sort(),
        ).toEqual(own.sort());
      }

      expect((await call('PUT', `${NS}/deployments/placed/scale`, { body: { replicas: 1 } })).status).toBe(
        200,
      );
      await eventually(
        async () => {
          const running = fleet.agents.flatMap((a) => a.running());
          const d = (await call('GET', `${NS}/deployments/placed`)).body;
          return running.length === 1 && d.status?.readyReplicas === 1 && d.status?.replicas === 1;
        },
        60_000,
        'the scale-down to reach the agents',
      ).catch(explain);
    } finally {
      await fleet.stop();
      for (const agent of fleet.agents) await call('DELETE', `/v1/nodes/${agent.name}`);
    }
  });

  it('is driven by the real kubectl: apply, get -o wide, scale, set image, history, undo, diff, -k, delete', async () => {
    const dir = mkdtempSync(join(tmpdir(), `berth-kubectl-${runtime}-`));
    const namespace = `kube-${runtime}`;
    const viewer = await token('viewer', [namespace]);
    const admin = await startKubectlFront({ target: server().url, dir, token: ADMIN_TOKEN, namespace });
    const viewerDir = join(dir, 'viewer');
    mkdirSync(viewerDir);
    const watcher = await startKubectlFront({
      target: server().url,
      dir: viewerDir,
      token: viewer.token,
      namespace,
    });
    const ok = async (args: string[], kubectl = admin.kubectl) => {
      const r = await kubectl(args);
      expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}\n${firstProblems(server().output())}`).toBe(0);
      return r.stdout;
    };
    const manifest = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: kweb, labels: {app: kweb}}
spec:
  replicas: 2
  selector: {matchLabels: {app: kweb}}
  template:
    metadata: {labels: {app: kweb}}
    spec:
      nodeSelector: {berth.dev/node: nowhere}
      containers:
      - name: web
        image: ${image}
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: kweb}
spec:
  selector: {app: kweb}
  ports: [{port: 80, targetPort: 8080}]
`;
    const file = join(dir, 'kweb.yaml');
    const image = () =>
      ok(['get', 'deploy/kweb', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    try {
      writeFileSync(file, manifest('registry.example.com/web:1'));
      expect(await ok(['apply', '-f', file])).toBe('deployment.apps/kweb created\nservice/kweb created\n');
      const wide = await ok(['get', 'deploy,rs,svc', '-o', 'wide']);
      expect(wide).toMatch(
        /deployment\.apps\/kweb\s+0\/2\s+2\s+0\s+\S+\s+web\s+registry\.example\.com\/web:1\s+app=kweb/,
      );
      expect(wide).toMatch(/replicaset\.apps\/kweb-\w+\s+2\s+2\s+0/);
      expect(wide).toMatch(/service\/kweb\s+ClusterIP/);
      expect(await ok(['get', 'pods', '-l', 'app=kweb', '--no-headers'])).toMatch(
        /^kweb-\S+\s+0\/1\s+Pending/m,
      );

      expect(await ok(['scale', 'deploy/kweb', '--replicas=3'])).toBe('deployment.apps/kweb scaled\n');
      expect(await ok(['get', 'deploy/kweb', '-o', 'jsonpath={.spec.replicas}'])).toBe('3');
      expect(await ok(['set', 'image', 'deploy/kweb', 'web=registry.example.com/web:2'])).toBe(
        'deployment.apps/kweb image updated\n',
      );
      const history = await eventually(
        async () => {
          const out = await ok(['rollout', 'history', 'deploy/kweb']);
          return /^1\s/m.test(out) && /^2\s/m.test(out) ? out : undefined;
        },
        30_000,
        'two revisions in the rollout history',
      );
      expect(history).toContain('deployment.apps/kweb');
      expect(await ok(['rollout', 'undo', 'deploy/kweb'])).toBe('deployment.apps/kweb rolled back\n');
      expect(await image()).toBe('registry.example.com/web:1');

      writeFileSync(file, manifest('registry.example.com/web:7'));
      const diff = await admin.kubectl(['diff', '-f', file]);
      expect(diff.code, diff.stderr).toBe(1);
      expect(diff.stdout).toMatch(/^-\s+image: registry\.example\.com\/web:1$/m);
      expect(diff.stdout).toMatch(/^\+\s+image: registry\.example\.com\/web:7$/m);

      const kdir = join(dir, 'kustomize');
      mkdirSync(kdir);
      writeFileSync(join(kdir, 'kweb.yaml'), manifest('registry.example.com/web:1'));
      writeFileSync(
        join(kdir, 'kustomization.yaml'),
        'resources: [kweb.yaml]\nimages:\n- name: registry.example.com/web\n  newTag: "42"\n',
      );
      await ok(['apply', '-k', kdir]);
      expect(await image()).toBe('registry.example.com/web:42');

      const denied = await watcher.kubectl(['delete', '-f', file, '--wait=false']);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain('Error from server (Forbidden)');
      expect(await ok(['get', 'deploy', '--no-headers'], watcher.kubectl)).toMatch(/^kweb\s/);

      expect(await ok(['delete', '-f', file, '--wait=false'])).toBe(
        'deployment.apps "kweb" deleted\nservice "kweb" deleted\n',
      );
      expect((await call('GET', `/v1/namespaces/${namespace}/deployments/kweb`)).status).toBe(404);
    } finally {
      await admin.close();
      await watcher.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reconciles what no request asked for from its safety net (Workers: the cron trigger)', async () => {
    expect(
      (await call('PUT', `${NS}/deployments/template`, { body: deployment('registry.example.com/web:1', 3) }))
        .status,
    ).toBe(201);
    // A deployment written behind the API's back, due a minute ago: only the periodic
    // reconcile can find it.
    await server().sql(
      `insert into deployments (id, namespace, name, labels, annotations, spec, generation, resource_version, reconcile_at, progress_at)
       select gen_random_uuid(), namespace, 'unkicked', labels, annotations, spec, 1, 1, now() - interval '1 minute', now()
       from deployments where namespace = 'default' and name = 'template' and deleted_at is null`,
    );
    const status = async () =>
      (await server().sql<{ status: unknown }>(`select status from deployments where name = 'unkicked'`))[0]
        ?.status;
    if (server().fireCron) {
      // Nothing else runs on Workers between requests: still untouched until the cron fires.
      await sleep(1000);
      expect(await status()).toBeNull();
      await server().fireCron!();
    }
    await eventually(async () => (await status()) !== null, 60_000, 'the safety net to reconcile "unkicked"');
    const d = (await call('GET', `${NS}/deployments/unkicked`)).body;
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 3 });
    const replicas = (await call('GET', `${NS}/replicas?deployment=unkicked`)).body.items;
    expect(replicas).toHaveLength(3);
  });
});
