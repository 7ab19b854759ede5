import { Agent, createServer as createHttpServer, get, type Server } from 'node:http';
import { type AddressInfo, createServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMalformedAnswer } from '../../common/http-forwarding.ts';
import { Ingress } from '../ingress/ingress.ts';
import type { Endpoint, ServiceRoute } from '../verbs/services.ts';
import { proxyHttp } from './ingress-server.ts';

/**
 * What replicas really answer: busybox httpd's CGI output ends its lines with a bare LF, which
 * nginx and browsers read; llhttp's strict mode refused it (HPE_CR_EXPECTED) and the ingress
 * answered 503. An answer that is not HTTP at all is the replica's fault: a 502, not a 503.
 */

const route: ServiceRoute = {
  namespace: 'default',
  name: 'cgi',
  hosts: ['cgi.test'],
  spec: {
    selector: { app: 'cgi' },
    ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
    hosts: ['cgi.test'],
  },
};

/** A raw TCP replica: reads the request head, writes `answer`, closes (as HTTP/1.0 does). */
async function rawReplica(answer: string): Promise<TcpServer> {
  const server = createServer((socket) => {
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end(answer);
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const endpointAt = (server: TcpServer | Server): Endpoint => ({
  replica: 'r1',
  deployment: 'cgi',
  revision: 1,
  node: 'n1',
  address: '127.0.0.1',
  port: (server.address() as AddressInfo).port,
});

const LF_ANSWER = 'HTTP/1.0 200 OK\nContent-Type: text/plain\nX-Cgi: yes\n\nhello from cgi\n';
const GARBAGE = 'SSH-2.0-OpenSSH_9.2\r\n\r\n';

describe('the Node ingress reads answers as nginx does', () => {
  let lf: TcpServer;
  let garbage: TcpServer;
  let front: Server;
  let target: Endpoint;
  let ingress: Ingress;
  /** The replica behind the service from now on (the ingress's endpoint cache dropped). */
  const replicaIs = (server: TcpServer) => {
    target = endpointAt(server);
    ingress.invalidate();
  };
  const agent = new Agent({ keepAlive: true });
  beforeAll(async () => {
    lf = await rawReplica(LF_ANSWER);
    garbage = await rawReplica(GARBAGE);
    ingress = new Ingress({ source: { routes: async () => [route], endpoints: async () => [target] } });
    front = createHttpServer((req, res) => void proxyHttp(ingress, route, req, res, agent));
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    agent.destroy();
    for (const s of [lf, garbage, front]) await new Promise((r) => s?.close(r));
  });

  const call = (path = '/cgi-bin/env') =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      get(
        {
          host: '127.0.0.1',
          port: (front.address() as AddressInfo).port,
          path,
          headers: { host: 'cgi.test' },
        },
        (r) => {
          let body = '';
          r.on('data', (c) => {
            body += c;
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
        },
      ).on('error', reject);
    });

  it('passes on an answer whose lines end in a bare LF', async () => {
    replicaIs(lf);
    const res = await call();
    expect(res.status).toBe(200);
    expect(res.headers['x-cgi']).toBe('yes');
    expect(res.body).toBe('hello from cgi\n');
  });

  it('answers 502 for an answer that is not HTTP, naming the parser error', async () => {
    replicaIs(garbage);
    const res = await call();
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ status: 502, code: 'BAD_GATEWAY' });
    expect(JSON.parse(res.body).detail).toMatch(/malformed answer \(HPE_/);
  });

  it('still answers 503 when nothing listens', async () => {
    const closed = await rawReplica('');
    replicaIs(closed);
    await new Promise((r) => closed.close(r));
    const res = await call();
    expect(res.status).toBe(503);
  });
});

describe('the fetch ingress (Deno, Workers, in-process)', () => {
  it('answers 502 for an answer that is not HTTP, without trying another endpoint', async () => {
    const garbage = await rawReplica(GARBAGE);
    let tries = 0;
    try {
      const ingress = new Ingress({
        source: {
          routes: async () => [route],
          endpoints: async () => [endpointAt(garbage), endpointAt(garbage)],
        },
        fetch: (url, init) => {
          tries++;
          return fetch(url, init);
        },
      });
      const res = await ingress.handle(new Request('http://cgi.test/'), route);
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ code: 'BAD_GATEWAY' });
      expect(tries).toBe(1);
    } finally {
      await new Promise((r) => garbage.close(r));
    }
  });
});

describe('what counts as a malformed answer', () => {
  it("reads Node's parser codes and Deno's fetch messages, and not a refused or reset connection", () => {
    const deno = (message: string) =>
      Object.assign(new TypeError('fetch failed'), { cause: new Error(message) });
    expect(
      isMalformedAnswer(
        Object.assign(new TypeError('fetch failed'), { cause: { code: 'HPE_INVALID_CONSTANT' } }),
      ),
    ).toBe(true);
    expect(
      isMalformedAnswer(
        deno(
          'error sending request for url (http://127.0.0.1:1/): client error (SendRequest): invalid HTTP version parsed',
        ),
      ),
    ).toBe(true);
    expect(
      isMalformedAnswer(
        deno(
          'error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)',
        ),
      ),
    ).toBe(false);
    expect(
      isMalformedAnswer(
        deno(
          'error sending request for url (http://127.0.0.1:1/): client error (SendRequest): connection closed before message completed',
        ),
      ),
    ).toBe(false);
    expect(isMalformedAnswer(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(false);
  });
});
