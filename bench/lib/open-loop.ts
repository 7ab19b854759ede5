import { Agent, request } from 'node:http';
import { spawnNode, waitForOutput } from './processes.ts';
import { percentile } from './stats.ts';

export interface OpenLoopRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface OpenLoopResult {
  /** Requests sent (rate × duration). */
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers by status code, and failures by error code. */
  statuses: Record<string, number>;
}

/**
 * Requests at a fixed rate whatever the server does (an open loop), over a few kept-alive
 * connections, each latency taken from the moment the request was due rather than sent, so a
 * stalled server is charged for the requests it held back (no coordinated omission).
 *
 * Lighter than autocannon at low rates, which matters here: measured the same way against a
 * server that answers 304 and does nothing else, autocannon's p99 was 4-16 ms on this machine
 * and this loop's about 2 ms. The floor of the measurement is what `emptyServer` gives.
 */
export async function openLoop(o: {
  base: string;
  ratePerSecond: number;
  durationMs: number;
  connections: number;
  next: (i: number) => OpenLoopRequest;
}): Promise<OpenLoopResult> {
  const url = new URL(o.base);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const total = Math.round((o.ratePerSecond * o.durationMs) / 1000);
  const interval = 1000 / o.ratePerSecond;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const count = (key: string) => {
    statuses[key] = (statuses[key] ?? 0) + 1;
  };
  const send = (i: number, due: number) =>
    new Promise<void>((resolve) => {
      const r = o.next(i);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: r.method ?? 'GET',
          path: r.path,
          agent,
          timeout: 30_000,
          headers:
            r.body === undefined ? r.headers : { ...r.headers, 'content-length': Buffer.byteLength(r.body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            count(String(res.statusCode));
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        count(e.code ?? 'error');
        resolve();
      });
      req.end(r.body);
    });
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      // Send everything that is due by now; a late timer sends the backlog at once.
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) {
        inflight.push(send(sent, t0 + sent * interval));
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
      else done();
    };
    tick();
  });
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    count: total,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    statuses,
  };
}

/**
 * The floor of a latency measurement on this machine at this moment: a Node HTTP server in its
 * own process that answers every request with 304 and does nothing else.
 */
export async function emptyServer(): Promise<{ base: string; stop: () => Promise<void> }> {
  const child = spawnNode(
    'empty HTTP server',
    [
      '-e',
      `const s = require('node:http').createServer((q, r) => { q.resume(); r.writeHead(304); r.end(); });
       s.listen(0, '127.0.0.1', () => console.log('listening on ' + s.address().port));`,
    ],
    {},
  );
  const [, port] = await waitForOutput(child, /listening on (\d+)/);
  return { base: `http://127.0.0.1:${port}`, stop: () => child.stop() };
}
