import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
  HTTPD_1,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { KUBECTL, type KubectlResult, kubectlWithInput, startKubectlFront } from './support/kubectl-front.ts';
import {
  ADMIN_TOKEN,
  freePort,
  type LiveServer,
  type RuntimeName,
  startRuntime,
} from './support/runtimes.ts';

/**
 * `kubectl exec` where the control plane is not Node: Deno (kubectl's socket and the agent's meet
 * in the process's memory) and workerd through `wrangler dev` (they meet in the session's Durable
 * Object; the agent is answered at once and polls every 5 s, so it comes within that). The real
 * kubectl and a real agent on Docker, one pod per runtime, a few execs: output on stdout and
 * stderr apart, the exit code, stdin to its end; and two Deno copies, kubectl on one and the agent
 * on the other. The protocol's other cases (a terminal, large streams, a viewer) are
 * kubectl-exec.test.ts's, on Node.
 */
const EDGES = ['deno', 'workerd'] as const satisfies RuntimeName[];
type Edge = (typeof EDGES)[number];
/** A slow, busy machine: everything waits up to this, polling. */
const BOUND_MS = 120_000;

interface Cluster {
  server: LiveServer;
  agent: AgentProcess;
  node: string;
  agentDir: string;
  dir: string;
  front: Awaited<ReturnType<typeof startKubectlFront>>;
  pod: string;
}
const clusters = new Map<Edge, Cluster>();

async function call(server: LiveServer, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function startCluster(runtime: Edge): Promise<Cluster> {
  const server = await startRuntime(runtime, { BERTH_RECONCILE_INTERVAL_MS: '300' });
  const node = uniqueNode(`kx-${runtime}`);
  const agentDir = await tempDir(`berth-kx-${runtime}-agent`);
  const dir = await tempDir(`berth-kx-${runtime}`);
  const joinToken = (await call(server, 'POST', '/v1/join-tokens', {})).body.token as string;
  const agent = startAgentProcess({ server: server.url, name: node, dataDir: agentDir, joinToken });
  const front = await startKubectlFront({
    target: server.url,
    dir,
    token: ADMIN_TOKEN,
    namespace: 'default',
  });
  await eventually(
    async () => (await call(server, 'GET', `/v1/nodes/${node}`)).status === 200,
    BOUND_MS,
    `the agent registered on ${runtime}`,
  );
  const put = await call(server, 'PUT', '/v1/namespaces/default/deployments/shell', {
    spec: {
      replicas: 1,
      template: {
        metadata: { labels: { app: 'shell' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          // Serving on 8080 for the port-forward; its stdout is what logs -f reads.
          containers: [{ name: 'main', image: HTTPD_1 }],
        },
      },
    },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  const pod = await eventually(
    async () => {
      // Workers reconcile right after writes and reports; the cron is fired too, in case one was missed.
      await server.fireCron?.();
      const items = (await call(server, 'GET', '/v1/namespaces/default/replicas?deployment=shell')).body
        .items as { id: string; ready: boolean }[];
      return items.length === 1 && items[0]!.ready ? items[0]!.id : undefined;
    },
    BOUND_MS,
    `the pod ready on ${runtime}`,
  );
  return { server, agent, node, agentDir, dir, front, pod };
}

beforeAll(async () => {
  await requireDocker([HTTPD_1]);
  const started = await Promise.allSettled(EDGES.map(startCluster));
  started.forEach((s, i) => {
    if (s.status === 'fulfilled') clusters.set(EDGES[i]!, s.value);
  });
  const failures = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
  if (failures.length) throw new Error(failures.join('\n\n'));
}, 300_000);

afterAll(async () => {
  await Promise.all(
    [...clusters.values()].map(async (c) => {
      await c.front.close();
      await c.agent.stop();
      await removeNodeContainers(c.node);
      await c.server.stop();
      await cleanupDir(c.agentDir);
      await cleanupDir(c.dir);
    }),
  );
}, 60_000);

/** kubectl with `input` on its stdin (closed after it), to its end. */
const kubectlWith = (c: Cluster, args: string[], input?: string) =>
  kubectlWithInput(c.front.kubeconfig, c.dir, args, input, BOUND_MS);

/** What went on around a failure: the server's and the agent's last lines. */
const context = (c: Cluster, r: KubectlResult) =>
  `${r.stderr}\n--- server ---\n${c.server.output().slice(-3000)}\n--- agent ---\n${c.agent.output().slice(-3000)}`;

describe.each(EDGES)(`kubectl (${KUBECTL}) exec on %s`, (runtime) => {
  const cluster = () => clusters.get(runtime)!;

  it('prints stdout and stderr apart and exits with the command’s code', async () => {
    const c = cluster();
    const r = await kubectlWith(c, ['exec', c.pod, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect([r.code, r.stdout, r.stderr], context(c, r)).toEqual([
      3,
      'out\n',
      'err\ncommand terminated with exit code 3\n',
    ]);
    const zero = await kubectlWith(c, ['exec', c.pod, '-c', 'main', '--', 'sh', '-c', 'echo fine']);
    expect([zero.code, zero.stdout], context(c, zero)).toEqual([0, 'fine\n']);
  }, 150_000);

  it('passes stdin to the command up to its end (kubectl exec -i), and keeps no session after', async () => {
    const c = cluster();
    const r = await kubectlWith(c, ['exec', '-i', c.pod, '--', 'sh', '-c', 'cat; echo done'], 'hello\n');
    expect([r.code, r.stdout], context(c, r)).toEqual([0, 'hello\ndone\n']);
    await eventually(
      async () =>
        (await c.server.sql<{ n: number }>('select count(*)::int as n from exec_sessions'))[0]?.n === 0,
      BOUND_MS,
      'no exec session left',
    );
  }, 150_000);
});

describe.each(EDGES)(`kubectl (${KUBECTL}) logs -f on %s`, (runtime) => {
  it('follows lines written after it started, round after round', async () => {
    const c = clusters.get(runtime)!;
    const child = spawn(KUBECTL, ['logs', '-f', c.pod], {
      env: { PATH: process.env.PATH, HOME: c.dir, KUBECONFIG: c.front.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    try {
      // Lines written to the container's own stdout (its PID 1's), one after the other: the stream
      // must still be reading the agent's answers, round after round, when each is written.
      for (const marker of ['first-line', 'second-line']) {
        const w = await kubectlWith(c, ['exec', c.pod, '--', 'sh', '-c', `echo ${marker} > /proc/1/fd/1`]);
        expect(w.code, context(c, w)).toBe(0);
        await eventually(
          async () => {
            if (child.exitCode !== null) throw new Error(`kubectl logs -f ended: ${out}`);
            return out.includes(marker);
          },
          BOUND_MS,
          `${marker} through kubectl logs -f on ${runtime}: ${out}`,
        );
      }
    } finally {
      child.kill();
    }
  }, 300_000);
});

describe.each(EDGES)(`kubectl (${KUBECTL}) port-forward on %s`, (runtime) => {
  it('forwards a pod’s port (SPDY in kubectl’s WebSocket), connections at once', async () => {
    const c = clusters.get(runtime)!;
    const child = spawn(KUBECTL, ['port-forward', '--address', '127.0.0.1', `pod/${c.pod}`, ':8080'], {
      env: { PATH: process.env.PATH, HOME: c.dir, KUBECONFIG: c.front.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    try {
      const port = await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`kubectl port-forward exited: ${out}`);
          return Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
        },
        BOUND_MS,
        'kubectl port-forward listening',
      );
      const bodies = await Promise.all(
        [1, 2, 3].map(() => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())),
      );
      expect(bodies, `${out}\n${c.server.output().slice(-3000)}`).toEqual(['v1', 'v1', 'v1']);
    } finally {
      child.kill();
    }
  }, 150_000);
});

describe('kubectl exec across two Deno copies', () => {
  it("meets its agent: kubectl on the second copy, the node's agent polling the first", async () => {
    // The first copy has no BERTH_PEER_URL: the agent's socket lands there, and it bridges the
    // stream to the second, which holds kubectl's and is named in the session.
    const c = clusters.get('deno')!;
    const port = await freePort();
    const second = await startRuntime(
      'deno',
      { BERTH_PEER_URL: `http://127.0.0.1:${port}` },
      { databaseUrl: c.server.databaseUrl, port },
    );
    const dir = await tempDir('berth-kx-deno-second');
    const front = await startKubectlFront({
      target: second.url,
      dir,
      token: ADMIN_TOKEN,
      namespace: 'default',
    });
    try {
      const r = await kubectlWith({ ...c, dir, front }, [
        'exec',
        c.pod,
        '--',
        'sh',
        '-c',
        'echo across; exit 4',
      ]);
      expect(
        [r.code, r.stdout, r.stderr],
        `${context(c, r)}\n--- second ---\n${second.output().slice(-2000)}`,
      ).toEqual([4, 'across\n', 'command terminated with exit code 4\n']);
    } finally {
      await front.close();
      await second.stop();
      await cleanupDir(dir);
    }
  }, 240_000);
});
