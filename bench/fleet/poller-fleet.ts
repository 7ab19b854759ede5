import { Agent, request } from 'node:http';
import type { AssignmentsResponse, ReplicaStatus } from '../../common/agent-protocol.ts';

/**
 * Many simulated agents in one process, as light as the protocol allows: each node polls
 * `GET /v1/agent/assignments` with its ETag (a 304 costs the server one indexed read) at the
 * server's poll interval, spread evenly over the interval, and reports status only when its
 * desired set changed (every assigned replica Running and ready at once). `longPoll` nodes
 * instead hold a long-poll open like the real agent, to measure apply-to-ready latency.
 *
 * Driven over IPC by the benchmark (bench/parts/control-plane.ts): `start`, `stats`, `stop`.
 */

export interface FleetStart {
  type: 'start';
  server: string;
  joinToken: string;
  names: string[];
  labels: Record<string, string>;
  pollIntervalMs: number;
  longPoll: boolean;
}

export interface FleetStats {
  type: 'stats';
  polls: number;
  changed: number;
  notModified: number;
  errors: number;
  reports: number;
  reportErrors: number;
  /** Why requests failed, with counts (status code or error code). */
  reasons: Record<string, number>;
  /** Poll latencies (ms) since the last `stats`, of 304 answers only. */
  latencies304: number[];
  replicas: number;
}

interface SimNode {
  name: string;
  token: string;
  etag?: string;
  setKey?: string;
  replicas: number;
  port: number;
}

// A bounded pool of kept-alive connections: 1,000 nodes need not mean 1,000 sockets here.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(
  server: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(path, server);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent,
        headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

let stats: FleetStats = fresh();
function fresh(): FleetStats {
  return {
    type: 'stats',
    polls: 0,
    changed: 0,
    notModified: 0,
    errors: 0,
    reports: 0,
    reportErrors: 0,
    reasons: {},
    latencies304: [],
    replicas: 0,
  };
}

const note = (why: string) => {
  stats.reasons[why] = (stats.reasons[why] ?? 0) + 1;
};

let stopped = false;
const nodes: SimNode[] = [];

async function register(cfg: FleetStart, name: string, i: number): Promise<SimNode> {
  const res = await call(
    cfg.server,
    'POST',
    '/v1/agent/register',
    {},
    JSON.stringify({
      joinToken: cfg.joinToken,
      name,
      labels: cfg.labels,
      capacity: { cpu: 64, memoryBytes: 256 * 1024 ** 3 },
      address: '127.0.0.1',
      agentVersion: 'bench-sim',
    }),
  );
  if (res.status !== 200) throw new Error(`register ${name}: ${res.status} ${res.text}`);
  const body = JSON.parse(res.text) as { nodeToken: string };
  return { name, token: body.nodeToken, replicas: 0, port: 20000 + (i % 400) * 100 };
}

async function pollOnce(cfg: FleetStart, node: SimNode): Promise<void> {
  const t0 = performance.now();
  const wait = cfg.longPoll ? '?wait=25' : '';
  let res: Awaited<ReturnType<typeof call>>;
  try {
    res = await call(cfg.server, 'GET', `/v1/agent/assignments${wait}`, {
      authorization: `Bearer ${node.token}`,
      ...(node.etag ? { 'if-none-match': node.etag } : {}),
    });
  } catch (e) {
    stats.errors++;
    note(`poll ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return;
  }
  stats.polls++;
  if (res.status === 304) {
    stats.notModified++;
    if (!cfg.longPoll) stats.latencies304.push(performance.now() - t0);
    return;
  }
  if (res.status !== 200) {
    stats.errors++;
    note(`poll ${res.status}`);
    return;
  }
  stats.changed++;
  node.etag = String(res.headers.etag ?? '');
  const body = JSON.parse(res.text) as AssignmentsResponse;
  const running = body.replicas.filter((r) => r.desired === 'running');
  const key = running
    .map((r) => r.id)
    .sort()
    .join(',');
  // Replicas told to stop are simply gone: the report leaves them out, which confirms the stop.
  const stopping = body.replicas.length - running.length;
  if (key === node.setKey && stopping === 0) return;
  node.replicas = running.length;
  const replicas: ReplicaStatus[] = running.map((r, j) => ({
    id: r.id,
    phase: 'Running',
    ready: true,
    containers: r.containers.map((c) => ({
      name: c.name,
      containerId: `sim-${r.id}`,
      state: 'running' as const,
      restartCount: 0,
      hostPorts: c.ports.map((p) => ({ containerPort: p.containerPort, hostPort: node.port + j })),
    })),
  }));
  try {
    const rep = await call(
      cfg.server,
      'POST',
      '/v1/agent/status',
      { authorization: `Bearer ${node.token}` },
      JSON.stringify({ replicas }),
    );
    if (rep.status >= 300) {
      stats.reportErrors++;
      note(`status ${rep.status}`);
    } else {
      stats.reports++;
      node.setKey = key;
    }
  } catch (e) {
    stats.reportErrors++;
    note(`status ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Not reported: fetch the set again next time and report it then, as the agent retries.
  if (node.setKey !== key) node.etag = undefined;
}

async function runNode(cfg: FleetStart, node: SimNode, offsetMs: number): Promise<void> {
  await new Promise((r) => setTimeout(r, offsetMs));
  while (!stopped) {
    const started = performance.now();
    await pollOnce(cfg, node);
    if (cfg.longPoll) continue;
    const left = cfg.pollIntervalMs - (performance.now() - started);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
}

async function start(cfg: FleetStart): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  const registered: SimNode[] = new Array(cfg.names.length);
  // Registration is a write transaction each: a few at a time, like machines booting together.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < cfg.names.length) {
        const i = next++;
        registered[i] = await register(cfg, cfg.names[i]!, i);
      }
    }),
  );
  nodes.push(...registered);
  process.send?.({ type: 'registered', count: nodes.length, ms: performance.now() - t0 });
  nodes.forEach((node, i) => {
    void runNode(cfg, node, cfg.longPoll ? 0 : (i / nodes.length) * cfg.pollIntervalMs);
  });
}

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'start') {
    start(msg as FleetStart).catch((e: unknown) => {
      process.send?.({ type: 'error', message: (e as Error).message });
    });
  } else if (msg.type === 'stats') {
    stats.replicas = nodes.reduce((n, x) => n + x.replicas, 0);
    process.send?.(stats);
    stats = fresh();
  } else if (msg.type === 'stop') {
    stopped = true;
    agent.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
