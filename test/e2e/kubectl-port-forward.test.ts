import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServerProcess, startServerProcess } from '../support/processes.ts';
import { eventually } from '../support/sim-agents.ts';
import { cleanupDir, HTTPD_1, tempDir } from './support/agent-harness.ts';
import { type KubectlCluster, startKubectlCluster } from './support/kubectl-cluster.ts';
import { KUBECTL, startKubectlFront, writeKubeconfig } from './support/kubectl-front.ts';

/**
 * The real kubectl (v1.32) forwarding local ports to a pod on a real agent and Docker Engine:
 * kubectl's SPDY (inside a WebSocket, or on its own as kubectl's fallback) ends in the Node control
 * plane, and each connection meets a socket its agent dialled out. `svc/NAME` and `pod/NAME`,
 * several connections at once, megabytes each way with half-closes, a port nobody listens on,
 * and a viewer refused.
 */
const BOUND_MS = 90_000;
const BIG = 3_000_000;

let cluster: KubectlCluster;
let server: ServerProcess;
let dir: string;
let front: KubectlCluster['front'];
let viewerConfig: string;
let pod: string;
const children: ChildProcess[] = [];

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: web
          image: ${HTTPD_1}
          # A 3 MB file to download, and a server on 9000 that answers the byte count it was sent.
          command: [sh, -c, 'head -c ${BIG} /dev/urandom > /www/big && (nc -ll -p 9000 -e wc -c &) && exec httpd -f -p 8080 -h /www']
          ports:
            - { name: http, containerPort: 8080 }
            - { name: count, containerPort: 9000 }
          readinessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
    - { name: http, port: 80, targetPort: http }
    - { name: count, port: 9000, targetPort: count }
`;

/** `kubectl port-forward …` running; resolves with the local ports it listens on, in order. */
async function portForward(
  kubeconfig: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ports: number[]; output: () => string; child: ChildProcess }> {
  const child = spawn(KUBECTL, ['port-forward', '--address', '127.0.0.1', ...args], {
    env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  const want = args.filter((a) => a.includes(':')).length;
  const ports = await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`kubectl port-forward exited: ${out}`);
      const found = [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) ->/g)].map((m) => Number(m[1]));
      return found.length >= want ? found : undefined;
    },
    BOUND_MS,
    'kubectl port-forward listening',
  );
  return { ports, output: () => out, child };
}

/** One connection: `send` written then half-closed; everything the other side sent back. */
function exchange(port: number, send: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    socket.once('end', () => resolve(Buffer.concat(got)));
    socket.once('error', reject);
    socket.setTimeout(BOUND_MS, () => socket.destroy(new Error('no answer in time')));
    socket.end(send);
  });
}

/** The body of an HTTP/1.0 GET through the forwarded port. */
async function get(port: number, path: string): Promise<Buffer> {
  const answer = await exchange(port, `GET ${path} HTTP/1.0\r\nHost: web\r\n\r\n`);
  const split = answer.indexOf('\r\n\r\n');
  expect(answer.subarray(0, split).toString()).toMatch(/^HTTP\/1\.[01] 200/);
  return answer.subarray(split + 4);
}

beforeAll(async () => {
  cluster = await startKubectlCluster('kpf');
  ({ server, dir, front } = cluster);
  const viewer = await server.call('POST', '/v1/tokens', {
    name: 'kpf-viewer',
    role: 'viewer',
    namespaces: ['default'],
  });
  expect(viewer.status, JSON.stringify(viewer.body)).toBe(201);
  viewerConfig = await writeKubeconfig(dir, front, 'viewer', viewer.body.token as string, 'default');
  const file = join(dir, 'web.yaml');
  await writeFile(file, MANIFEST);
  const applied = await front.kubectl(['apply', '-f', file]);
  expect(applied.code, applied.stderr).toBe(0);
  pod = await eventually(
    async () => {
      const items = (await server.call('GET', '/v1/namespaces/default/replicas?deployment=web')).body
        .items as { id: string; ready: boolean }[];
      return items.length === 1 && items[0]!.ready ? items[0]!.id : undefined;
    },
    BOUND_MS,
    'the pod ready',
  );
}, 300_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await cluster?.close();
});

describe(`kubectl (${KUBECTL}) port-forward through the agent's own connection`, () => {
  it('forwards a Service’s ports to its pod: HTTP, connections at once, megabytes both ways', async () => {
    const pf = await portForward(front.kubeconfig, ['svc/web', ':80', ':9000']);
    const [http, count] = pf.ports as [number, number];
    expect(pf.output()).toMatch(/Forwarding from 127\.0\.0\.1:\d+ -> 8080/);
    expect((await get(http, '/')).toString()).toBe('v1');
    const many = await Promise.all([1, 2, 3, 4, 5].map(() => get(http, '/')));
    expect(many.map(String)).toEqual(['v1', 'v1', 'v1', 'v1', 'v1']);
    // 3 MB down, twice: the same bytes each time.
    const [a, b] = await Promise.all([get(http, '/big'), get(http, '/big')]);
    expect(a.length).toBe(BIG);
    expect(createHash('sha256').update(a).digest('hex')).toBe(createHash('sha256').update(b!).digest('hex'));
    // 3 MB up, then a half-close: the pod's server counts them only once it sees the end.
    const counted = await exchange(count, Buffer.alloc(BIG, 7));
    expect(counted.toString().trim()).toBe(String(BIG));
  }, 180_000);

  it('forwards to a pod over SPDY itself, kubectl’s fallback and older kubectls’ only way', async () => {
    const pf = await portForward(front.kubeconfig, [`pod/${pod}`, ':8080'], {
      KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false',
    });
    expect((await get(pf.ports[0]!, '/')).toString()).toBe('v1');
    expect((await exchange(pf.ports[0]!, 'GET /healthz HTTP/1.0\r\n\r\n')).toString()).toContain('ok');
  }, 120_000);

  it('tells kubectl why a port cannot be reached, as the kubelet does', async () => {
    const pf = await portForward(front.kubeconfig, [`pod/${pod}`, ':7999']);
    const answer = await exchange(pf.ports[0]!, 'hello').catch(() => Buffer.alloc(0));
    expect(answer.length).toBe(0);
    // kubectl prints the error stream's message, then ends the whole port-forward (its own rule).
    const code = await new Promise<number | null>((resolve) =>
      pf.child.exitCode !== null ? resolve(pf.child.exitCode) : pf.child.once('exit', resolve),
    );
    expect(code).not.toBe(0);
    expect(pf.output()).toMatch(
      /error forwarding port 7999 to pod web-\w+ on node kpf-\w+: dial tcp [\d.]+:7999: connect: connection refused/,
    );
  }, 120_000);

  it("meets its agent across two copies: kubectl on one, the node's agent on the other", async () => {
    // A second copy on the same database, at its BERTH_PEER_URL: kubectl's SPDY ends there, and the
    // agent, polling the first, has each connection's socket passed on to it.
    const port = await freePort();
    const second = await startServerProcess({
      databaseUrl: cluster.db.url,
      port,
      env: { BERTH_PEER_URL: `http://127.0.0.1:${port}`, BERTH_RECONCILE_INTERVAL_MS: '300' },
    });
    const secondDir = await tempDir('berth-kpf-second');
    const secondFront = await startKubectlFront({
      target: second.url,
      dir: secondDir,
      token: second.adminToken,
      namespace: 'default',
    });
    try {
      const pf = await portForward(secondFront.kubeconfig, ['svc/web', ':80']);
      const bodies = await Promise.all([1, 2, 3].map(() => get(pf.ports[0]!, '/')));
      expect(bodies.map(String), second.output().slice(-2000)).toEqual(['v1', 'v1', 'v1']);
      pf.child.kill();
    } finally {
      await secondFront.close();
      await second.close();
      await cleanupDir(secondDir);
    }
  }, 120_000);

  it('refuses a viewer with Kubernetes’ Forbidden', async () => {
    const child = spawn(KUBECTL, ['port-forward', `pod/${pod}`, ':8080'], {
      env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: viewerConfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(err).toMatch(/forbidden: User "kpf-viewer" cannot create resource "pods\/portforward"/);
  }, 60_000);
});
