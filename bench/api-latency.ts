/**
 * `npm run bench:api`: the control plane's own API latency, embedded PGlite beside a real
 * PostgreSQL, in one run: cold start of the server (first start on an empty data dir, then
 * warm), p50/p99 of PUT (each request a real change) and GET of a deployment under autocannon,
 * and the server's RSS. Prints Markdown.
 *
 *   node --import tsx bench/api-latency.ts [--seconds 20] [--connections 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freshPostgres } from '../test/support/databases.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '20' }, connections: { type: 'string', default: '10' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const TOKEN = 'bench-admin-token-0123456789abcdef';

async function startServer(env: Record<string, string>, port: number) {
  const started = performance.now();
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server.mjs'], {
    env: { ...process.env, PORT: String(port), BERTH_LOCAL_AGENT: '0', BERTH_ADMIN_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    } catch {
      // not yet
    }
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    readyMs: performance.now() - started,
    rssMb: () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const body = (replicas: number) =>
  JSON.stringify({
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: 'bench' } },
        spec: { containers: [{ name: 'c', image: 'bench:1' }] },
      },
    },
  });

async function load(url: string, method: 'PUT' | 'GET') {
  let n = 0;
  const result = await autocannon({
    url,
    method,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    // Every PUT changes the spec, so each one is a real write (an identical PUT is a no-op).
    requests:
      method === 'PUT' ? [{ setupRequest: (req) => ({ ...req, body: body((n++ % 50) + 1) }) }] : undefined,
  });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.average,
    errors: result.errors + result.non2xx,
  };
}

async function measure(
  label: string,
  env: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>,
  port: number,
) {
  const first = await env();
  const cold = await startServer(first.env, port);
  await cold.stop();
  const warm = await startServer(first.env, port);
  const url = `http://127.0.0.1:${port}/v1/namespaces/default/deployments/bench`;
  await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body(1),
  });
  const put = await load(url, 'PUT');
  const get = await load(url, 'GET');
  const rss = warm.rssMb();
  await warm.stop();
  await first.cleanup();
  return { label, coldMs: cold.readyMs, warmMs: warm.readyMs, put, get, rss };
}

await import('node:child_process').then(({ execSync }) =>
  execSync(
    'npx esbuild workers/entries/node.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/server.mjs --log-level=warning',
  ),
);

const rows = [
  await measure(
    'PGlite (embedded)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
      return {
        env: { BERTH_DATA_DIR: dir },
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
    18301,
  ),
  await measure(
    'PostgreSQL 15',
    async () => {
      const db = await freshPostgres();
      const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
      return {
        env: { DATABASE_URL: db.url, BERTH_DATA_DIR: dir },
        cleanup: async () => {
          await db.drop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    18302,
  ),
];

const f = (n: number) => n.toFixed(n < 10 ? 1 : 0);
console.log(`\n### Control-plane API (${connections} connections, ${seconds} s each)\n`);
console.log(
  '| database | cold start | warm start | PUT p50 / p99 | PUT req/s | GET p50 / p99 | GET req/s | errors | RSS |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${f(r.coldMs)} ms | ${f(r.warmMs)} ms | ${r.put.p50} / ${r.put.p99} ms | ${f(r.put.rps)} | ${r.get.p50} / ${r.get.p99} ms | ${f(r.get.rps)} | ${r.put.errors + r.get.errors} | ${f(r.rss)} MB |`,
  );
}
