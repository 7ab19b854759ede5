import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MapRoute } from '../../common/agent-protocol.ts';
import type { Target } from '../../common/http-forwarding.ts';
import { issue, makeCa } from '../../test/support/certificates.ts';
import { createLogger } from '../log.ts';
import { hostOf, NodeIngress } from './node-ingress.ts';

/** Answers with its name and the request's path and forwarding headers. */
function backend(name: string): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        name,
        url: req.url,
        forwardedFor: req.headers['x-forwarded-for'],
        forwardedHost: req.headers['x-forwarded-host'],
      }),
    );
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const portOf = (s: Server | TcpServer) => (s.address() as AddressInfo).port;

describe('the node ingress', () => {
  const servers: (Server | TcpServer)[] = [];
  const endpoints = new Map<string, Target[]>();
  const failures: string[] = [];
  let ingress: NodeIngress;
  let url: string;

  const route = (
    host: string,
    path: string,
    service: string,
    pathType: 'Prefix' | 'Exact' = 'Prefix',
  ): MapRoute => ({
    host,
    path,
    pathType,
    namespace: 'shop',
    service,
    port: 80,
  });
  // node:http, since fetch sends its own Host header whatever it is given.
  const get = (path: string, host: string) =>
    new Promise<{ status: number; type: string | undefined; text: string }>((resolve, reject) => {
      const req = request(`${url}${path}`, { headers: { host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'],
            text: Buffer.concat(chunks).toString(),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    const api = await backend('api');
    const web = await backend('web');
    // Busybox httpd's CGI answers with bare LF line endings.
    const lf = createTcpServer((s) => {
      s.once('data', () => s.end('HTTP/1.0 200 OK\nContent-Type: text/plain\n\nlf-ok\n'));
    });
    await new Promise<void>((r) => lf.listen(0, '127.0.0.1', () => r()));
    // Not HTTP at all.
    const garbage = createTcpServer((s) => s.once('data', () => s.end('garbage\r\n\r\n')));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
    servers.push(api, web, lf, garbage);
    // A port nothing listens on: the first endpoint of `api` refuses, the second answers.
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const refused = portOf(closed);
    await new Promise((r) => closed.close(r));
    endpoints.set('api', [
      { address: '127.0.0.1', port: refused },
      { address: '127.0.0.1', port: portOf(api) },
    ]);
    endpoints.set('web', [{ address: '127.0.0.1', port: portOf(web) }]);
    endpoints.set('lf', [{ address: '127.0.0.1', port: portOf(lf) }]);
    endpoints.set('garbage', [{ address: '127.0.0.1', port: portOf(garbage) }]);
    endpoints.set('empty', []);
    ingress = new NodeIngress({
      backends: {
        order: (r) => (endpoints.get(r.service) ?? []).map((t) => ({ ...t, key: `${t.port}` })),
        failed: (r, t) => failures.push(`${r.service}:${t.port}`),
      },
      log: createLogger('silent'),
    });
    ingress.setRoutes([
      route('shop.example.com', '/api', 'api'),
      route('shop.example.com', '/', 'web'),
      route('shop.example.com', '/health', 'api', 'Exact'),
      route('*.apps.example.com', '/', 'web'),
      route('lf.example.com', '/', 'lf'),
      route('bad.example.com', '/', 'garbage'),
      route('empty.example.com', '/', 'empty'),
      route('paths.example.com', '/only', 'web'),
    ]);
    const bound = await ingress.listen('127.0.0.1', 0);
    url = `http://127.0.0.1:${bound.port}`;
  });
  afterAll(async () => {
    await ingress?.close();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  it('routes by host and path (longest prefix, whole path elements, wildcard hosts)', async () => {
    expect(JSON.parse((await get('/api/orders?x=1', 'shop.example.com')).text)).toMatchObject({
      name: 'api',
      url: '/api/orders?x=1',
      forwardedFor: '127.0.0.1',
      forwardedHost: 'shop.example.com',
    });
    expect(JSON.parse((await get('/apis', 'shop.example.com:8080')).text).name).toBe('web');
    expect(JSON.parse((await get('/health', 'shop.example.com')).text).name).toBe('api');
    expect(JSON.parse((await get('/', 'a.apps.example.com')).text).name).toBe('web');
  });

  it('tries the next endpoint when one refuses the connection, and says which failed', async () => {
    expect(JSON.parse((await get('/api', 'shop.example.com')).text).name).toBe('api');
    expect(failures.some((f) => f.startsWith('api:'))).toBe(true);
  });

  it('answers 404 for an unknown host or an unmatched path, 503 without endpoints, as problem+json', async () => {
    const unknown = await get('/', 'nobody.example.com');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('application/problem+json');
    expect(JSON.parse(unknown.text)).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect((await get('/other', 'paths.example.com')).status).toBe(404);
    const none = await get('/', 'empty.example.com');
    expect(none.status).toBe(503);
    expect(JSON.parse(none.text).detail).toBe('service "shop/empty" has no ready endpoints');
  });

  it('takes answers with bare LF line endings, and makes an answer that is not HTTP a 502', async () => {
    const lf = await get('/', 'lf.example.com');
    expect([lf.status, lf.text]).toEqual([200, 'lf-ok\n']);
    const bad = await get('/', 'bad.example.com');
    expect(bad.status).toBe(502);
    expect(JSON.parse(bad.text).code).toBe('BAD_GATEWAY');
  });

  it('reads the host name without its port or a trailing dot', () => {
    expect(hostOf('Shop.Example.com:8080')).toBe('shop.example.com');
    expect(hostOf('shop.example.com.')).toBe('shop.example.com');
    expect(hostOf('[::1]:80')).toBe('[::1]');
    expect(hostOf(undefined)).toBeUndefined();
  });
});

describe('the node ingress over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-node-tls-'));
  const hosts = new Map<string, SecureContext>();
  const certificates = { hosts, hstsSeconds: 600 as number | undefined, refreshSoon: () => {} };
  let ca: ReturnType<typeof makeCa>;
  let web: Server;
  let ingress: NodeIngress;
  let httpPort: number;
  let httpsPort: number;

  const plain = (path: string, host: string) =>
    new Promise<{ status: number; location: string | undefined; text: string }>((resolve, reject) => {
      const req = request(`http://127.0.0.1:${httpPort}${path}`, { headers: { host } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text }));
      });
      req.on('error', reject);
      req.end();
    });
  const secure = (host: string) =>
    new Promise<{ status: number; hsts: string | undefined; subject: string; text: string }>(
      (resolve, reject) => {
        const req = httpsRequest(
          `https://127.0.0.1:${httpsPort}/`,
          { headers: { host }, servername: host, ca: ca.cert, agent: false },
          (res) => {
            let text = '';
            const subject = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
            res.on('data', (c: Buffer) => {
              text += c.toString();
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                hsts: res.headers['strict-transport-security'] as string | undefined,
                subject,
                text,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );

  beforeAll(async () => {
    ca = makeCa(dir);
    for (const [name, names] of [
      ['shop', ['shop.example.com']],
      ['apps', ['*.apps.example.com']],
    ] as const) {
      const pair = issue(dir, ca, [...names], name);
      hosts.set(names[0], createSecureContext({ cert: pair.cert, key: readFileSync(pair.keyFile) }));
    }
    web = await backend('web');
    ingress = new NodeIngress({
      backends: { order: () => [{ address: '127.0.0.1', port: portOf(web), key: 'web' }], failed: () => {} },
      log: createLogger('silent'),
      certificates,
      challenge: async (token) => (token === 'tok-1' ? 'tok-1.thumbprint' : undefined),
    });
    ingress.setRoutes(
      ['shop.example.com', '*.apps.example.com', 'plain.example.com'].map((host) => ({
        host,
        path: '/',
        pathType: 'Prefix' as const,
        namespace: 'shop',
        service: 'web',
        port: 80,
      })),
    );
    httpsPort = (await ingress.listenTls('127.0.0.1', 0)).port;
    httpPort = (await ingress.listen('127.0.0.1', 0)).port;
  });
  afterAll(async () => {
    await ingress?.close();
    await new Promise((r) => web?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves each host's pair by SNI (a wildcard's for one label below it), with HSTS", async () => {
    const shop = await secure('shop.example.com');
    expect([shop.status, shop.subject, JSON.parse(shop.text).name]).toEqual([200, 'shop.example.com', 'web']);
    expect(shop.hsts).toBe('max-age=600');
    expect((await secure('a.apps.example.com')).subject).toBe('*.apps.example.com');
  });

  it('fails the handshake for a name without a pair', async () => {
    await expect(secure('plain.example.com')).rejects.toThrow();
    await expect(secure('a.b.apps.example.com')).rejects.toThrow();
  });

  it('redirects plain HTTP for hosts with a pair, and routes the others', async () => {
    const moved = await plain('/cart?x=1', 'shop.example.com');
    expect([moved.status, moved.location]).toEqual([308, `https://shop.example.com:${httpsPort}/cart?x=1`]);
    expect((await plain('/', 'x.apps.example.com')).status).toBe(308);
    const routed = await plain('/', 'plain.example.com');
    expect([routed.status, JSON.parse(routed.text).name]).toEqual([200, 'web']);
  });

  it("relays the control plane's HTTP-01 answers, never redirected", async () => {
    const answer = await plain('/.well-known/acme-challenge/tok-1', 'shop.example.com');
    expect([answer.status, answer.text]).toEqual([200, 'tok-1.thumbprint']);
    expect((await plain('/.well-known/acme-challenge/other', 'shop.example.com')).status).toBe(404);
  });
});
