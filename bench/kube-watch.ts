/**
 * `npm run bench:watch`: what idle Kubernetes watches (`kubectl get -w`) cost the control plane.
 * A real server process (`workers/entries/node.ts`) on a fresh PostgreSQL database; N watches of
 * the deployments of `default` over plain HTTP (each its own connection, as N kubectl processes
 * would hold), then changes made one at a time, each awaited by every watch. Prints Markdown:
 * the server's RSS before and with the watches open (/proc), and the database reads the server's
 * watch hub made per change (/metrics), with one watch and with N.
 *
 *   node --import tsx bench/kube-watch.ts [--watches 1000] [--changes 20]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freshPostgres } from '../test/support/databases.ts';
import { freePort, ROOT } from './lib/processes.ts';

const { values } = parseArgs({
  options: { watches: { type: 'string', default: '1000' }, changes: { type: 'string', default: '20' } },
});
const WATCHES = Number(values.watches);
const CHANGES = Number(values.changes);
const TOKEN = 'bench-admin-token-0123456789abcdef';
const log = (s: string) => process.stderr.write(`[bench:watch] ${s}\n`);

const db = await freshPostgres();
const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'berth-bench-watch-'));
// The inspector lets the bench collect the server's garbage before each RSS reading: otherwise
// what opening the watches allocated and freed counts as what they keep.
const server = spawn(
  process.execPath,
  ['--inspect=127.0.0.1:0', '--import', 'tsx', 'workers/entries/node.ts'],
  {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      BERTH_DATA_DIR: dataDir,
      BERTH_LOCAL_AGENT: '0',
      BERTH_ADMIN_TOKEN: TOKEN,
      BERTH_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let output = '';
server.stdout.on('data', (d) => (output += d));
server.stderr.on('data', (d) => (output += d));
const base = `http://127.0.0.1:${port}`;
const auth = { authorization: `Bearer ${TOKEN}` };

try {
  for (const deadline = Date.now() + 90_000; ; ) {
    if ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok) break;
    if (server.exitCode !== null || Date.now() > deadline)
      throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const put = async (name: string, replicas: number) => {
    const res = await fetch(`${base}/v1/namespaces/default/deployments/${name}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        spec: {
          replicas,
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1' }] },
          },
        },
      }),
    });
    if (res.status >= 300) throw new Error(`PUT ${name}: ${res.status} ${await res.text()}`);
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  };
  const inspector = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(output)?.[0];
  /**
   * Full garbage collection in the server (over its inspector), then its JS heap in use: what
   * opening the watches allocated and freed must not count as what they keep.
   */
  const collect = async (): Promise<number> => {
    if (!inspector) return Number.NaN;
    const socket = new WebSocket(inspector);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const call = (id: number, method: string) =>
      new Promise<{ usedSize?: number }>((resolve) => {
        socket.on('message', (m) => {
          const reply = JSON.parse(String(m)) as { id?: number; result?: { usedSize?: number } };
          if (reply.id === id) resolve(reply.result ?? {});
        });
        socket.send(JSON.stringify({ id, method }));
      });
    await call(1, 'HeapProfiler.collectGarbage');
    await call(2, 'HeapProfiler.collectGarbage');
    const { usedSize } = await call(3, 'Runtime.getHeapUsage');
    socket.close();
    return usedSize ?? Number.NaN;
  };
  const rss = () =>
    Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1]) * 1024;

  for (let i = 0; i < 5; i++) await put(`app-${i}`, 1);

  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  /** One watch: resolves once its response has begun; counts the events each change brings. */
  interface Watch {
    events: number;
    close(): void;
  }
  const open = (rv: string) =>
    new Promise<Watch>((resolve, reject) => {
      const w: Watch = { events: 0, close: () => req.destroy() };
      const req = request(
        `${base}/apis/apps/v1/namespaces/default/deployments?watch=true&resourceVersion=${rv}`,
        { agent, headers: auth },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`watch: ${res.statusCode}`));
          res.on('data', (d: Buffer) => {
            for (const b of d) if (b === 10) w.events++;
          });
          res.on('error', () => {});
          resolve(w);
        },
      );
      req.on('error', () => {});
      req.end();
    });
  const listRv = async () =>
    (
      (await (
        await fetch(`${base}/apis/apps/v1/namespaces/default/deployments`, { headers: auth })
      ).json()) as {
        metadata: { resourceVersion: string };
      }
    ).metadata.resourceVersion;

  /** Changes one at a time, each until every watch has its event; hub reads per change. */
  const measure = async (watches: Watch[], round: number) => {
    const [logBefore, fetchBefore] = [
      await metric('berth_kube_watch_log_reads'),
      await metric('berth_kube_watch_object_fetches'),
    ];
    for (let i = 0; i < CHANGES; i++) {
      const want = watches.map((w) => w.events + 1);
      await put(`app-${i % 5}`, 2 + ((round * CHANGES + i) % 3));
      for (const deadline = Date.now() + 30_000; watches.some((w, k) => w.events < want[k]!); ) {
        if (Date.now() > deadline) throw new Error('a watch did not get its event within 30 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      // Let the reconciler's own follow-up writes (status) land inside this change's window.
      await new Promise((r) => setTimeout(r, 50));
    }
    const logReads = (await metric('berth_kube_watch_log_reads')) - logBefore;
    const fetches = (await metric('berth_kube_watch_object_fetches')) - fetchBefore;
    return { logReads: logReads / CHANGES, fetches: fetches / CHANGES };
  };

  // Warm: the hub and its LISTEN connection up, code paths compiled.
  const one = [await open(await listRv())];
  const single = await measure(one, 0);
  const heapBefore = await collect();
  const rssBefore = rss();
  log(`opening ${WATCHES} watches…`);
  const rv = await listRv();
  const many: Watch[] = [];
  for (let i = 0; i < WATCHES; i += 100)
    many.push(...(await Promise.all(Array.from({ length: Math.min(100, WATCHES - i) }, () => open(rv)))));
  const watching = await metric('berth_kube_watches');
  await new Promise((r) => setTimeout(r, 5000));
  const heapIdle = await collect();
  const rssIdle = rss();
  const idleReads = await metric('berth_kube_watch_log_reads');
  await new Promise((r) => setTimeout(r, 10_000));
  const idleReadsAfter = (await metric('berth_kube_watch_log_reads')) - idleReads;
  log(`${watching} watches open; ${CHANGES} changes…`);
  const crowd = await measure([...one, ...many], 1);
  for (const w of [...one, ...many]) w.close();
  // A client that goes away ends its watch on the server (the stream is cancelled).
  let left = Number.NaN;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    left = await metric('berth_kube_watches');
    if (left === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  const perWatch = (rssIdle - rssBefore) / WATCHES;
  process.stdout.write(
    [
      `## Idle Kubernetes watches (${WATCHES}, ${CHANGES} changes)`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| server RSS before | ${mb(rssBefore)} |`,
      `| server RSS with ${watching} watches open, idle | ${mb(rssIdle)} (+${mb(rssIdle - rssBefore)}, ${(perWatch / 1024).toFixed(1)} kB each; goal < 10 MB: ${rssIdle - rssBefore < 10 * 1024 * 1024 ? 'met' : 'NOT met'}) |`,
      `| server JS heap in use after a full GC, before → with the watches | ${mb(heapBefore)} → ${mb(heapIdle)} (+${mb(heapIdle - heapBefore)}, ${((heapIdle - heapBefore) / WATCHES / 1024).toFixed(1)} kB each) |`,
      `| change-log reads in 10 s idle | ${idleReadsAfter} (the safety poll, every 5 s; none per watch) |`,
      `| watches left on the server 10 s after their clients closed | ${left} |`,
      `| hub reads per change, 1 watch | ${single.logReads.toFixed(2)} log reads + ${single.fetches.toFixed(2)} object fetches |`,
      `| hub reads per change, ${watching} watches | ${crowd.logReads.toFixed(2)} log reads + ${crowd.fetches.toFixed(2)} object fetches |`,
      '',
    ].join('\n'),
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  await db.drop();
}
