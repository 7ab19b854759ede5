import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Io } from '../io.ts';

/**
 * A scriptable HTTP server for unit tests of the CLI and the Action: each test says what the API
 * answers and then checks what the CLI sent.
 */

export interface StubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: unknown;
}

export interface StubReply {
  status?: number;
  body?: unknown;
  /** Sent as it is (text/plain unless `headers` say otherwise), instead of `body` as JSON. */
  text?: string;
  headers?: Record<string, string>;
}

type Handler = (req: StubRequest) => StubReply | Promise<StubReply>;

export class StubServer {
  readonly requests: StubRequest[] = [];
  private routes: { method: string; path: string | RegExp; handler: Handler }[] = [];
  private server?: Server;
  url = '';

  on(method: string, path: string | RegExp, handler: Handler | StubReply): this {
    this.routes.unshift({ method, path, handler: typeof handler === 'function' ? handler : () => handler });
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://stub');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const request: StubRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        json,
      };
      this.requests.push(request);
      const route = this.routes.find(
        (r) =>
          r.method === request.method &&
          (typeof r.path === 'string' ? r.path === request.path : r.path.test(request.path)),
      );
      const reply: StubReply = route
        ? await route.handler(request)
        : {
            status: 404,
            body: { title: 'Not Found', status: 404, code: 'NOT_FOUND', detail: `no route ${request.path}` },
          };
      const status = reply.status ?? 200;
      const isProblem = status >= 400;
      res.writeHead(status, {
        'content-type':
          reply.text !== undefined
            ? 'text/plain'
            : isProblem
              ? 'application/problem+json'
              : 'application/json',
        ...reply.headers,
      });
      res.end(reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }

  sent(method: string, path: string): StubRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }
}

export function problem(
  status: number,
  code: string,
  detail: string,
  errors?: { path: string; message: string; document?: number }[],
) {
  return {
    status,
    body: { type: 'about:blank', title: code, status, detail, code, requestId: 'req-1', errors },
  };
}

export interface CapturedIo extends Io {
  output: () => string;
  errors: () => string;
}

export function captureIo(overrides: Partial<Io> = {}): CapturedIo {
  let out = '';
  let err = '';
  let clock = Date.parse('2025-01-01T00:10:00Z');
  return {
    stdout: {
      write: (s: string | Uint8Array) => (out += typeof s === 'string' ? s : new TextDecoder().decode(s)),
    },
    stderr: {
      write: (s: string | Uint8Array) => (err += typeof s === 'string' ? s : new TextDecoder().decode(s)),
    },
    readStdin: async () => '',
    env: { HOME: '/nonexistent-home', BERTH_POLL_INTERVAL_MS: '1' },
    cwd: process.cwd(),
    isTTY: false,
    now: () => new Date(clock),
    sleep: async (ms) => {
      clock += ms;
    },
    interrupted: new Promise(() => {}),
    output: () => out,
    errors: () => err,
    ...overrides,
  };
}
