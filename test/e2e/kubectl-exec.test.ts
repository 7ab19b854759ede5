import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import { type AgentProcess, cleanupDir, HTTPD_1, tempDir } from './support/agent-harness.ts';
import { berthCli } from './support/cli-run.ts';
import { type KubectlCluster, startKubectlCluster } from './support/kubectl-cluster.ts';
import { KUBECTL, kubectlWithInput, startKubectlFront, writeKubeconfig } from './support/kubectl-front.ts';

/**
 * The real kubectl (v1.32) running commands in a pod on a real agent and Docker Engine: kubectl's
 * WebSocket (v5.channel.k8s.io) meets the agent's, which it dialled out, in the Node control plane.
 * Output on stdout and stderr, the exit code, stdin to its EOF, a terminal (`-it`) driven through
 * a pseudo-terminal, a viewer refused, and an event on the pod for each exec.
 */
const NS = '/v1/namespaces/default';
/** A slow, busy machine: everything waits up to this, polling. */
const BOUND_MS = 90_000;

let cluster: KubectlCluster;
let db: KubectlCluster['db'];
let server: ServerProcess;
let agent: AgentProcess;
let dir: string;
let front: KubectlCluster['front'];
let viewerConfig: string;
let pod: string;
let node: string;

/** kubectl with `input` on its stdin (closed after it), to its end. */
const kubectlWith = (kubeconfig: string, args: string[], input?: string) =>
  kubectlWithInput(kubeconfig, dir, args, input, BOUND_MS);

beforeAll(async () => {
  cluster = await startKubectlCluster('kexec');
  ({ db, server, agent, node, dir, front } = cluster);
  const viewer = await server.call('POST', '/v1/tokens', {
    name: 'kube-viewer',
    role: 'viewer',
    namespaces: ['default'],
  });
  expect(viewer.status, JSON.stringify(viewer.body)).toBe(201);
  viewerConfig = await writeKubeconfig(dir, front, 'viewer', viewer.body.token as string, 'default');
  const put = await server.call('PUT', `${NS}/deployments/shell`, {
    spec: {
      replicas: 1,
      template: {
        metadata: { labels: { app: 'shell' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          drainDelaySeconds: 0,
          containers: [{ name: 'main', image: HTTPD_1, command: ['sh', '-c', 'exec sleep 3600'] }],
        },
      },
    },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  pod = await eventually(
    async () => {
      const items = (await server.call('GET', `${NS}/replicas?deployment=shell`)).body.items as {
        id: string;
        ready: boolean;
      }[];
      return items.length === 1 && items[0]!.ready ? items[0]!.id : undefined;
    },
    BOUND_MS,
    'the pod ready',
  );
  // A row a stopped control plane left behind two days ago: the next session clears it.
  const left = await sql(
    `insert into exec_sessions (id, node_id, replica_id, container, command, tty, stdin, who, created_at)
     select 'exec_left_over', id, $1, 'main', '["sh"]', false, false, 'gone', now() - interval '2 days'
     from nodes where name = $2 returning id`,
    [pod, node],
  );
  expect(left).toHaveLength(1);
}, 300_000);

afterAll(async () => {
  await cluster?.close();
});

describe(`kubectl (${KUBECTL}) exec through the agent's own connection`, () => {
  it('prints stdout and stderr apart and exits with the command’s code', async () => {
    const r = await kubectlWith(front.kubeconfig, [
      'exec',
      pod,
      '--',
      'sh',
      '-c',
      'echo out; echo err >&2; exit 3',
    ]);
    expect(r.code, `${r.stderr}\n${server.output().slice(-2000)}`).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).not.toContain('out');
    const zero = await kubectlWith(front.kubeconfig, [
      'exec',
      pod,
      '-c',
      'main',
      '--',
      'sh',
      '-c',
      'echo fine',
    ]);
    expect(zero, zero.stderr).toMatchObject({ code: 0, stdout: 'fine\n' });
  }, 120_000);

  it('passes stdin to the command up to its end (kubectl exec -i)', async () => {
    const r = await kubectlWith(front.kubeconfig, ['exec', '-i', pod, '--', 'cat'], 'hello\n');
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'hello\n' });
    // 3 MB: more than any buffer on the way holds, so it flows only as the command reads it.
    const big = await kubectlWith(
      front.kubeconfig,
      ['exec', '-i', pod, '--', 'wc', '-c'],
      'x'.repeat(3_000_000),
    );
    expect(big.code, big.stderr).toBe(0);
    expect(big.stdout.trim()).toBe('3000000');
  }, 120_000);

  it('carries a large output whole, and gives a command without -i no stdin', async () => {
    const big = await kubectlWith(front.kubeconfig, [
      'exec',
      pod,
      '--',
      'sh',
      '-c',
      'head -c 4000000 /dev/zero | tr "\\0" a',
    ]);
    expect(big.code, big.stderr).toBe(0);
    expect(big.stdout.length).toBe(4_000_000);
    expect(/^a+$/.test(big.stdout)).toBe(true);
    const none = await kubectlWith(front.kubeconfig, ['exec', pod, '--', 'cat'], 'ignored\n');
    expect(none, none.stderr).toMatchObject({ code: 0, stdout: '' });
  }, 120_000);

  it('runs an interactive shell on a terminal (kubectl exec -it)', async () => {
    // `script` gives kubectl a pseudo-terminal; what the test writes is what a user would type.
    const child = spawn('script', ['-qfec', `${KUBECTL} exec -it ${pod} -- sh`, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: front.kubeconfig, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    try {
      // The shell's prompt says the stream is up; typing before would work too, but race the echo.
      await eventually(async () => out.includes('#'), BOUND_MS, 'the shell’s prompt');
      child.stdin.write('echo $((6*7))\r');
      await eventually(async () => /\b42\b/.test(out), BOUND_MS, 'the answer');
      child.stdin.write('exit\r');
      await eventually(async () => child.exitCode !== null, BOUND_MS, 'kubectl to end with the shell');
      expect(child.exitCode, out).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 240_000);

  it("is berth exec's stream too: output, stderr, exit code and stdin through the CLI", async () => {
    const env = { BERTH_SERVER: server.url, BERTH_TOKEN: server.adminToken, HOME: dir };
    const plain = await berthCli(['exec', pod, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { env });
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([3, 'out\n', 'err\n']);
    const piped = await berthCli(['exec', '-i', pod, '--', 'cat'], { env, input: 'hello from the CLI' });
    expect([piped.code, piped.stdout]).toEqual([0, 'hello from the CLI']);
  });

  it("meets its agent across two copies: kubectl on one, the node's agent on the other", async () => {
    // A second copy on the same database, reachable by the first at its BERTH_PEER_URL. kubectl
    // talks to it; the agent polls the first, whose relay passes its stream on to this one.
    const port = await freePort();
    const second = await startServerProcess({
      databaseUrl: db.url,
      port,
      env: { BERTH_PEER_URL: `http://127.0.0.1:${port}`, BERTH_RECONCILE_INTERVAL_MS: '300' },
    });
    const secondDir = await tempDir('berth-kexec-second');
    const secondFront = await startKubectlFront({
      target: second.url,
      dir: secondDir,
      token: second.adminToken,
      namespace: 'default',
    });
    try {
      const r = await kubectlWith(secondFront.kubeconfig, [
        'exec',
        pod,
        '--',
        'sh',
        '-c',
        'echo across; exit 4',
      ]);
      expect([r.code, r.stdout, r.stderr], second.output().slice(-2000)).toEqual([
        4,
        'across\n',
        'command terminated with exit code 4\n',
      ]);
    } finally {
      await secondFront.close();
      await second.close();
      await cleanupDir(secondDir);
    }
  });

  it('copies files in and out (kubectl cp runs tar through exec)', async () => {
    const local = join(dir, 'cp-in.txt');
    await writeFile(local, 'copied through exec\n'.repeat(5000));
    const up = await kubectlWith(front.kubeconfig, ['cp', local, `${pod}:/tmp/cp-in.txt`]);
    expect(up.code, up.stderr).toBe(0);
    const seen = await kubectlWith(front.kubeconfig, ['exec', pod, '--', 'wc', '-c', '/tmp/cp-in.txt']);
    expect(seen.stdout.trim()).toBe(`${'copied through exec\n'.length * 5000} /tmp/cp-in.txt`);
    const back = join(dir, 'cp-out.txt');
    const down = await kubectlWith(front.kubeconfig, ['cp', `${pod}:/tmp/cp-in.txt`, back]);
    expect(down.code, down.stderr).toBe(0);
    expect(await readFile(back, 'utf8')).toBe(await readFile(local, 'utf8'));
  }, 120_000);

  it('attaches to the container’s own output (kubectl attach), and says why it has no stdin', async () => {
    const child = spawn(KUBECTL, ['attach', pod, '-c', 'main'], {
      env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: front.kubeconfig },
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
      // Written to the container's own stdout (its PID 1's) until the attach has seen one: the
      // stream starts once the agent has dialled in, and carries only what comes after.
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`kubectl attach ended: ${out}`);
          await kubectlWith(front.kubeconfig, [
            'exec',
            pod,
            '--',
            'sh',
            '-c',
            'echo attached-line > /proc/1/fd/1',
          ]);
          return out.includes('attached-line');
        },
        BOUND_MS,
        'a line through kubectl attach',
      );
    } finally {
      child.kill();
    }
    const interactive = await kubectlWith(front.kubeconfig, ['attach', '-i', pod, '-c', 'main']);
    expect(interactive.code).not.toBe(0);
    expect(interactive.stderr).toContain('Berth runs containers without a stdin');
  }, 180_000);

  it('refuses a viewer as Kubernetes does', async () => {
    const r = await kubectlWith(viewerConfig, ['exec', pod, '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Error from server (Forbidden): pods "${pod}" is forbidden: User "kube-viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"`,
    );
  }, 120_000);

  it('names a container the pod lacks, and answers a request that is no WebSocket', async () => {
    const r = await kubectlWith(front.kubeconfig, ['exec', pod, '-c', 'nope', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`container nope is not valid for pod ${pod}`);
    const plain = await server.call('GET', `/api/v1/namespaces/default/pods/${pod}/exec?command=true`);
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({ kind: 'Status', message: 'Upgrade request required' });
  }, 120_000);

  it('records each exec as an event on the pod, and keeps no session once it ended', async () => {
    const events = (await server.call('GET', `${NS}/events?object=pod/${pod}`)).body.items as {
      reason: string;
      message: string;
    }[];
    const execs = events.filter((e) => e.reason === 'Exec');
    expect(execs.length).toBeGreaterThanOrEqual(4);
    expect(execs.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        'bootstrap admin ran in container main: cat',
        'bootstrap admin ran in container main: sh -c echo out; echo err >&2; exit 3',
      ]),
    );
    // The viewer's refused exec left none.
    expect(execs.map((e) => e.message).filter((m) => m.includes('true'))).toEqual([]);
    expect(await sessionsLeft()).toBe(0);
  }, 120_000);

  // Last: it stops the agent.
  it('tells kubectl when the agent of the pod’s node does not come', async () => {
    await agent.stop();
    const r = await kubectlWith(front.kubeconfig, ['exec', pod, '--', 'true']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the agent of node ${node} did not answer`);
    expect(await sessionsLeft()).toBe(0);
  }, 120_000);
});

async function sql(text: string, params: unknown[] = []): Promise<{ n?: number; id?: string }[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Rows go when their stream ends: right after kubectl's, the server is given its moment. */
const sessionsLeft = () =>
  eventually(
    async () => (await sql('select count(*)::int as n from exec_sessions'))[0]?.n === 0,
    BOUND_MS,
    'no exec session left',
  ).then(() => 0);
