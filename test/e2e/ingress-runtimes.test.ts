import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssignmentsResponse } from '../../common/agent-protocol.ts';
import {
  ADMIN_TOKEN,
  type LiveServer,
  RUNTIMES,
  type RuntimeName,
  startRuntime,
} from './support/runtimes.ts';

/**
 * The ingress on every runtime the control plane runs on: `npm start` (Node: the native proxy),
 * `npm run dev:workers` (workerd) and `npm run start:deno` (Deno; both: the Hono middleware and
 * the runtime's fetch). An agent speaking the real protocol reports a local HTTP server as its
 * replica; a request sent to the control plane with the service's Host must reach it.
 */
const servers = new Map<RuntimeName, LiveServer>();
const RAW_ANSWERS: Record<string, string> = {
  '/lf': 'HTTP/1.0 200 OK\nContent-Type: text/plain\n\nbare lf\n',
  '/garbage': 'SSH-2.0-OpenSSH_9.2\r\n\r\n',
};
let backend: Server;
let backendPort = 0;

beforeAll(async () => {
  backend = createServer((req, res) => {
    // Answers as a replica may write them, past node:http's own rules: bare LF line endings
    // (busybox httpd's CGI output), and bytes that are not HTTP at all.
    const raw = RAW_ANSWERS[req.url ?? ''];
    if (raw) return void req.socket.end(raw);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: String(Buffer.concat(chunks)),
        }),
      );
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as AddressInfo).port;
  const started = await Promise.allSettled(RUNTIMES.map((r) => startRuntime(r)));
  started.forEach((s, i) => {
    if (s.status === 'fulfilled') servers.set(RUNTIMES[i]!, s.value);
  });
  const failures = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
  if (failures.length) throw new Error(failures.join('\n\n'));
}, 300_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  await new Promise((r) => backend?.close(r));
}, 60_000);

/** node:http: fetch would replace the Host header. */
function viaHost(url: string, host: string, path: string, method = 'GET', body?: string) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
  }>((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, method, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(RUNTIMES)('ingress on %s', (runtime) => {
  const host = `web-${runtime}.test`;
  const ns = `ing-${runtime}`;
  const server = () => servers.get(runtime)!;
  const call = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
    const res = await fetch(server().url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('routes a service host to its ready replica, and stops once the service is gone', async () => {
    const join = await call('POST', '/v1/join-tokens', {});
    const node = `ing-${runtime}`;
    const reg = await fetch(`${server().url}/v1/agent/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        joinToken: join.body.token,
        name: node,
        capacity: { cpu: 2, memoryBytes: 2 ** 31 },
        address: '127.0.0.1',
      }),
    });
    const { nodeToken } = (await reg.json()) as { nodeToken: string };
    const agent = (path: string, init: RequestInit = {}) =>
      fetch(server().url + path, {
        ...init,
        headers: {
          authorization: `Bearer ${nodeToken}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      });

    expect(
      (
        await call('PUT', `/v1/namespaces/${ns}/services/web`, {
          spec: {
            selector: { app: 'web' },
            ports: [{ name: 'http', port: 80, targetPort: 'http' }],
            hosts: [host],
          },
        })
      ).status,
    ).toBe(201);
    expect((await viaHost(server().url, host, '/')).status).toBe(503);
    await call('PUT', `/v1/namespaces/${ns}/deployments/web`, {
      metadata: { labels: { app: 'web' } },
      spec: {
        replicas: 1,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            nodeSelector: { 'berth.dev/node': node },
            containers: [
              {
                name: 'web',
                image: 'registry.example.com/web:1',
                ports: [{ name: 'http', containerPort: 8080 }],
              },
            ],
          },
        },
      },
    });
    // The agent's side: wait for the replica, then report it running and ready on the backend's port.
    let replica: string | undefined;
    const deadline = Date.now() + 30_000;
    while (!replica && Date.now() < deadline) {
      const res = await agent('/v1/agent/assignments');
      const body = (await res.json()) as AssignmentsResponse;
      replica = body.replicas.find((r) => r.desired === 'running')?.id;
      if (!replica) {
        await server().fireCron?.();
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    expect(replica).toBeDefined();
    const status = await agent('/v1/agent/status', {
      method: 'POST',
      body: JSON.stringify({
        replicas: [
          {
            id: replica,
            phase: 'Running',
            ready: true,
            containers: [
              {
                name: 'web',
                state: 'running',
                restartCount: 0,
                hostPorts: [{ containerPort: 8080, hostPort: backendPort }],
              },
            ],
          },
        ],
      }),
    });
    expect(status.status).toBe(204);

    // Another copy of the control plane (another isolate) may have cached "no endpoints" for a second.
    let res = await viaHost(server().url, host, '/hello?x=1');
    for (let i = 0; res.status !== 200 && i < 30; i++) {
      await new Promise((r) => setTimeout(r, 200));
      res = await viaHost(server().url, host, '/hello?x=1');
    }
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.text);
    expect(echo).toMatchObject({ method: 'GET', url: '/hello?x=1' });
    expect(echo.headers['x-forwarded-host']).toBe(host);
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const post = await viaHost(server().url, host, '/form', 'POST', 'z'.repeat(100_000));
    expect(post.status).toBe(200);
    expect(JSON.parse(post.text).body).toHaveLength(100_000);
    // What a replica writes that is not quite HTTP: bare LF passes everywhere; bytes that are not
    // HTTP are a 502 where the runtime says its parser refused them (workerd's fetch reports an
    // "internal error" that a failed connection also gives, so there it stays a 503).
    const lf = await viaHost(server().url, host, '/lf');
    expect(lf.status).toBe(200);
    expect(lf.text).toBe('bare lf\n');
    const garbage = await viaHost(server().url, host, '/garbage');
    expect(garbage.status).toBe(runtime === 'workerd' ? 503 : 502);
    // The API keeps answering on the control plane's own host.
    expect((await call('GET', `/v1/namespaces/${ns}/services/web/endpoints`)).body.items).toHaveLength(1);

    expect((await call('DELETE', `/v1/namespaces/${ns}/services/web`)).status).toBe(200);
    let gone = await viaHost(server().url, host, '/hello');
    for (let i = 0; gone.status === 200 && i < 30; i++) {
      await new Promise((r) => setTimeout(r, 200));
      gone = await viaHost(server().url, host, '/hello');
    }
    expect(gone.status).toBe(404);
    expect(gone.headers['content-type']).toBe('application/problem+json');
  });
});
