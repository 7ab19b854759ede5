/**
 * `npm run bench:ingress`: what the ingress adds to a request. Starts `npm start` (with its local
 * agent) on a free port, runs 3 replicas of berth-test/httpd:1 behind a service, then measures in
 * the same run, against the same replicas:
 *
 *   - latency: one request at a time, alternating direct (a replica's published host port) and
 *     through the ingress (the server, `Host: bench.test`), so drift on a shared machine hits
 *     both alike. Direct requests open a connection each (busybox httpd closes every one); the
 *     client keeps its connection to the ingress, as browsers do, and the ingress opens one to
 *     the replica per request.
 *   - throughput: autocannon, direct and through the ingress. Its latency figures are printed
 *     for the ingress only: against a server that closes every connection (the direct case)
 *     autocannon's latency histogram is not meaningful.
 *
 * Options: --requests N (latency samples per path, default 3000), --duration S (autocannon, 10),
 * --connections N (autocannon, 10). Needs Docker and the test images (test/setup/images.sh).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}
type Autocannon = (o: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = 'bench.test';
const NS = `bench-ingress-${randomBytes(3).toString('hex')}`;
const ADMIN = `bench-admin-${randomBytes(12).toString('hex')}`;

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
  },
});
const SAMPLES = Number(opts.requests);
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);

const docker = new Docker();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** One GET; resolves with its duration in ms. */
function timedGet(port: number, headers: Record<string, string>, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path: '/', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - start) / 1e6);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
const ms = (v: number) => `${v.toFixed(3)} ms`;

async function main() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-bench-ingress-'));
  let log = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'workers/entries/node.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      BERTH_DATA_DIR: dataDir,
      BERTH_ADMIN_TOKEN: ADMIN,
      BERTH_LOCAL_AGENT: '1',
      BERTH_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => {
    log += String(d);
  });
  child.stderr?.on('data', (d) => {
    log += String(d);
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };

  try {
    await until(
      'the server and its local agent',
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited:\n${log}`);
        const nodes = await call('GET', '/v1/nodes');
        return nodes.items.some(
          (n: { name: string; status: string }) => n.name === 'local' && n.status === 'Ready',
        );
      },
      120_000,
    );
    await call('PUT', `/v1/namespaces/${NS}/services/web`, {
      spec: {
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
        hosts: [HOST],
      },
    });
    await call('PUT', `/v1/namespaces/${NS}/deployments/web`, {
      metadata: { labels: { app: 'web' } },
      spec: {
        replicas: 3,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'berth-test/httpd:1',
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: {
                  httpGet: { path: '/healthz', port: 8080 },
                  periodSeconds: 2,
                  timeoutSeconds: 3,
                },
              },
            ],
          },
        },
      },
    });
    const endpoints = await until(
      '3 ready endpoints',
      async () => {
        const items = (await call('GET', `/v1/namespaces/${NS}/services/web/endpoints`)).items as {
          port: number;
        }[];
        return items.length === 3 ? items : undefined;
      },
      120_000,
    );
    const direct = endpoints[0]!.port;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const viaDirect = () => timedGet(direct, {}, false);
    const viaIngress = () => timedGet(port, { host: HOST }, keepAlive);
    for (let i = 0; i < 300; i++) {
      await viaDirect();
      await viaIngress();
    }

    const d: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // Alternate which goes first so neither always follows the other.
      if (i % 2) {
        d.push(await viaDirect());
        g.push(await viaIngress());
      } else {
        g.push(await viaIngress());
        d.push(await viaDirect());
      }
    }
    keepAlive.destroy();
    d.sort((a, b) => a - b);
    g.sort((a, b) => a - b);

    const directRun = await autocannon({
      url: `http://127.0.0.1:${direct}/`,
      connections: CONNECTIONS,
      duration: DURATION,
    });
    const ingressRun = await autocannon({
      url: `${url}/`,
      connections: CONNECTIONS,
      duration: DURATION,
      headers: { host: HOST },
    });

    const row = (name: string, s: number[]) =>
      `  ${name.padEnd(9)} p50 ${ms(quantile(s, 0.5)).padStart(10)}   p99 ${ms(quantile(s, 0.99)).padStart(10)}   mean ${ms(s.reduce((a, b) => a + b, 0) / s.length).padStart(10)}`;
    const added50 = quantile(g, 0.5) - quantile(d, 0.5);
    const added99 = quantile(g, 0.99) - quantile(d, 0.99);
    console.log(
      `\ningress benchmark (${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')})`,
    );
    console.log(`\nlatency, one request at a time, ${SAMPLES} each, interleaved:`);
    console.log(row('direct', d));
    console.log(row('ingress', g));
    console.log(
      `  added     p50 ${ms(added50).padStart(10)}   p99 ${ms(added99).padStart(10)}   (goal: p50 < 1 ms: ${added50 < 1 ? 'met' : 'NOT met'})`,
    );
    console.log(`\nthroughput, autocannon, ${CONNECTIONS} connections, ${DURATION} s each:`);
    const failures = (r: AutocannonResult) => r.errors + r.non2xx + r.timeouts;
    console.log(
      `  direct    ${directRun.requests.average.toFixed(0).padStart(6)} req/s   (${directRun.requests.total} requests, ${failures(directRun)} failed)`,
    );
    console.log(
      `  ingress   ${ingressRun.requests.average.toFixed(0).padStart(6)} req/s   (${ingressRun.requests.total} requests, ${failures(ingressRun)} failed)   latency p50 ${ingressRun.latency.p50} ms, p99 ${ingressRun.latency.p99} ms`,
    );
    console.log(
      `  ratio     ${((ingressRun.requests.average / directRun.requests.average) * 100).toFixed(0)}% of direct (direct hits one replica; the ingress spreads over three)\n`,
    );
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`berth.dev/namespace=${NS}`] },
    });
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
