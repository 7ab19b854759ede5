import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

/**
 * The WebSocket-to-TCP bridge the Neon serverless driver expects, for development and tests
 * against an ordinary PostgreSQL (production Workers talk to Neon, which runs its own).
 *
 * The driver opens `ws://<proxy>/v2?address=<host>:<port>` (host and port of DATABASE_URL) and
 * then speaks the raw Postgres wire protocol in binary messages; this pipes those bytes to a
 * TCP connection and back. It is not a security boundary: it listens on loopback and only
 * reaches the targets it is allowed to (loopback by default), so it is no open relay.
 */
export interface NeonWsProxyOptions {
  port?: number;
  host?: string;
  /** Which `host:port` targets may be reached; default: loopback addresses only. */
  allow?: (host: string, port: number) => boolean;
}

export interface NeonWsProxy {
  port: number;
  /** What BERTH_NEON_WS_PROXY should be set to. */
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function loopbackOnly(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startNeonWsProxy(options: NeonWsProxyOptions = {}): Promise<NeonWsProxy> {
  const allow = options.allow ?? ((host) => loopbackOnly(host));
  const server = new WebSocketServer({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const sockets = new Set<net.Socket>();
  server.on('connection', (ws, request) => {
    const target = parseAddress(new URL(request.url ?? '/', 'http://proxy').searchParams.get('address'));
    if (!target || !allow(target.host, target.port)) {
      ws.close(1008, 'address not allowed');
      return;
    }
    bridge(ws, target, sockets);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shownHost = (options.host ?? '127.0.0.1').includes(':')
    ? `[${options.host}]`
    : (options.host ?? '127.0.0.1');
  return {
    port,
    url: `ws://${shownHost}:${port}/v2`,
    async close() {
      for (const s of sockets) s.destroy();
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function bridge(ws: WebSocket, target: { host: string; port: number }, sockets: Set<net.Socket>): void {
  const tcp = net.connect({ host: target.host.replace(/^\[|\]$/g, ''), port: target.port });
  tcp.setNoDelay(true);
  sockets.add(tcp);
  const finish = () => {
    sockets.delete(tcp);
    tcp.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
  };
  // net.Socket queues writes made while it is still connecting, so early messages keep order.
  ws.on('message', (data: RawData) => {
    tcp.write(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
  });
  tcp.on('data', (chunk) => {
    // Large result sets: stop reading Postgres while the WebSocket is backed up.
    ws.send(chunk, { binary: true }, () => {
      if (tcp.isPaused() && ws.bufferedAmount < 1 << 20) tcp.resume();
    });
    if (ws.bufferedAmount >= 1 << 20) tcp.pause();
  });
  ws.on('close', finish);
  ws.on('error', finish);
  tcp.on('close', finish);
  tcp.on('error', finish);
}

function parseAddress(value: string | null): { host: string; port: number } | undefined {
  if (!value) return undefined;
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1]!, port } : undefined;
}

// `node --import tsx infra/neon-ws-proxy.ts [--port N] [--host H]`: run it on its own.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const proxy = await startNeonWsProxy({ port: Number(arg('port') ?? 0), host: arg('host') ?? '127.0.0.1' });
  console.log(`neon ws proxy: BERTH_NEON_WS_PROXY=${proxy.url}`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
