import { randomBytes } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { MapRoute } from '../../common/agent-protocol.ts';
import type { Target } from '../../common/http-forwarding.ts';
import { RouteTable } from '../../common/ingress-routes.ts';
import { forwardHttp, forwardUpgrade } from '../../common/node-proxy.ts';
import { challengeToken, httpsLocation, pickCertificate } from '../../common/tls-hosts.ts';
import type { Logger } from '../log.ts';

/**
 * A node's own ingress: HTTP on the node (`--ingress-listen`), routed by the hosts and paths of the
 * cluster's services and Ingresses as the service map carries them, to ready endpoints on any
 * node. Public traffic then reaches the VMs (DNS or a cloud load balancer in front of them)
 * without passing through the control plane, and keeps flowing while the control plane is away.
 * Same routing rules (common/ingress-routes.ts) and forwarding rules (common/node-proxy.ts) as
 * the control plane's ingress on Node.
 *
 * With certificates (`--ingress-tls-listen`), it also serves HTTPS, picking each host's pair by
 * SNI; plain HTTP then redirects a host with a certificate to HTTPS (308), except the CA's
 * HTTP-01 requests, whose answers it relays from the control plane, so a host whose DNS names the
 * nodes is validated there.
 */

/** Where a matched route's requests go, from the agent's view of the service map. */
export interface IngressBackends {
  /** The endpoints of the route's service port, in the order to try them for this client. */
  order(route: MapRoute, client: string): IngressTarget[];
  /** An endpoint did not answer: passed over for a moment. */
  failed(route: MapRoute, target: IngressTarget): void;
}

/** An endpoint, and the replica it is (what the rotation remembers). */
export interface IngressTarget extends Target {
  key: string;
}

/** The pairs HTTPS serves, by host (`*.suffix` for wildcards), and HSTS for those hosts. */
export interface IngressCertificates {
  readonly hosts: ReadonlyMap<string, SecureContext>;
  readonly hstsSeconds: number | undefined;
  /** A handshake asked for a host with no pair yet. */
  refreshSoon(): void;
}

export interface NodeIngressOptions {
  backends: IngressBackends;
  log: Logger;
  certificates?: IngressCertificates;
  /** The control plane's answer to an HTTP-01 token; undefined when it has none. */
  challenge?: (token: string) => Promise<string | undefined>;
}

export class NodeIngress {
  private table = new RouteTable<MapRoute>([]);
  // Endpoints that keep connections alive are reused; those that close them (busybox) are not.
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  private readonly servers: Server[] = [];
  /** The HTTPS listener's port, once it listens: plain HTTP redirects there. */
  private httpsPort: number | undefined;

  constructor(private readonly o: NodeIngressOptions) {}

  /** The routes of a newly received service map (applies to the next request). */
  setRoutes(routes: readonly MapRoute[]): void {
    this.table = new RouteTable(
      routes.map((r) => ({ host: r.host, path: r.path, pathType: r.pathType, value: r })),
    );
  }

  /** Plain HTTP on host:port. */
  listen(host: string, port: number): Promise<{ address: string; port: number }> {
    return this.serve(
      createServer((req, res) => void this.plain(req, res)),
      host,
      port,
    );
  }

  /** HTTPS on host:port with the certificates' pairs (TLS 1.2 and up); needs `certificates`. */
  async listenTls(host: string, port: number): Promise<{ address: string; port: number }> {
    const certificates = this.o.certificates;
    if (!certificates) throw new Error('HTTPS needs certificates');
    const server = createHttpsServer(
      {
        minVersion: 'TLSv1.2',
        SNICallback: (servername, done) => {
          const context = pickCertificate(servername, certificates.hosts, undefined);
          if (!context) certificates.refreshSoon();
          // No pair for the name: the handshake fails, as a server without that name's certificate does.
          done(context ? null : new Error(`no certificate for "${servername}"`), context);
        },
      },
      (req, res) => void this.secure(req, res),
    );
    server.on('tlsClientError', (_e, socket) => socket.destroy());
    const bound = await this.serve(server, host, port);
    this.httpsPort = bound.port;
    return bound;
  }

  private async serve(
    server: Server,
    host: string,
    port: number,
  ): Promise<{ address: string; port: number }> {
    server.on(
      'upgrade',
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head),
    );
    server.on('clientError', (_e, socket: Duplex) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.servers.push(server);
    const bound = server.address();
    return typeof bound === 'object' && bound
      ? { address: bound.address, port: bound.port }
      : { address: host, port };
  }

  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    this.agent.destroy();
    await Promise.all(
      servers.map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  /** A host served over HTTPS: the name has a pair and the HTTPS listener is up. */
  private servedOverHttps(host: string | undefined): boolean {
    return (
      host !== undefined &&
      this.httpsPort !== undefined &&
      pickCertificate(host, this.o.certificates?.hosts ?? new Map(), undefined) !== undefined
    );
  }

  /** Plain HTTP: the CA's validation request, a redirect to HTTPS, or the route. */
  private async plain(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = challengeToken(req.url);
    if (token !== undefined && this.o.challenge) return this.relayChallenge(token, res);
    const host = hostOf(req.headers.host);
    if (host !== undefined && this.servedOverHttps(host)) {
      res.writeHead(308, { location: httpsLocation(host, this.httpsPort!, req.url ?? '/') }).end();
      return;
    }
    return this.handle(req, res);
  }

  private async secure(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hsts = this.o.certificates?.hstsSeconds;
    if (hsts !== undefined && this.servedOverHttps(hostOf(req.headers.host)))
      res.setHeader('strict-transport-security', `max-age=${hsts}`);
    return this.handle(req, res);
  }

  private async relayChallenge(token: string, res: ServerResponse): Promise<void> {
    let answer: string | undefined;
    try {
      answer = await this.o.challenge!(token);
    } catch (e) {
      this.o.log.warn('ACME challenge: the control plane did not answer', { error: (e as Error).message });
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('unavailable\n');
      return;
    }
    if (answer === undefined) res.writeHead(404, { 'content-type': 'text/plain' }).end('no such challenge\n');
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(answer);
  }

  /** The route of a request, or the answer that says why there is none. */
  private route(req: IncomingMessage): MapRoute | { status: 404; detail: string } {
    const host = hostOf(req.headers.host);
    const path = (req.url ?? '/').split('?')[0] || '/';
    const match = this.table.match(host, path);
    if (!match)
      return { status: 404, detail: `no service or ingress of this cluster serves host "${host ?? ''}"` };
    if (match.value === undefined)
      return { status: 404, detail: `no rule for host "${host}" matches path "${path}"` };
    return match.value;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = requestIdOf(req);
    const route = this.route(req);
    if ('status' in route) return problem(res, 404, 'NOT_FOUND', route.detail, requestId);
    const client = req.socket.remoteAddress ?? '';
    const order = this.o.backends.order(route, client);
    const service = `${route.namespace}/${route.service}`;
    if (order.length === 0)
      return problem(res, 503, 'UNAVAILABLE', `service "${service}" has no ready endpoints`, requestId);
    try {
      const result = await forwardHttp(order, req, res, {
        agent: this.agent,
        forwardedFor: forwardedFor(req),
        failed: (target) => this.o.backends.failed(route, target),
      });
      if (result.ok || result.reason === 'gone') return;
      if (res.headersSent) return void res.destroy();
      if (result.reason === 'malformed')
        return problem(
          res,
          502,
          'BAD_GATEWAY',
          `an endpoint of service "${service}" sent a malformed answer (${codeOf(result.error)})`,
          requestId,
        );
      problem(
        res,
        503,
        'UNAVAILABLE',
        `no endpoint of service "${service}" answered (${codeOf(result.error)})`,
        requestId,
      );
    } catch (e) {
      if (!res.headersSent) problem(res, 503, 'UNAVAILABLE', `proxy error (${codeOf(e)})`, requestId);
      else res.destroy();
    }
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const route = this.route(req);
    const order = 'status' in route ? [] : this.o.backends.order(route, req.socket.remoteAddress ?? '');
    const forwarded =
      !('status' in route) &&
      (await forwardUpgrade(order, req, socket, head, {
        forwardedFor: forwardedFor(req),
        failed: (target) => this.o.backends.failed(route, target),
      }));
    if (forwarded) return;
    const status = 'status' in route ? 404 : 503;
    const body = JSON.stringify(
      problemBody(
        status,
        status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE',
        'status' in route ? route.detail : 'no endpoint answered',
        requestIdOf(req),
      ),
    );
    (socket as Socket).end(
      `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Service Unavailable'}\r\ncontent-type: application/problem+json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
}

/** The Host header's name: lower case, without the port. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const host = header.startsWith('[')
    ? header.slice(0, header.indexOf(']') + 1)
    : header.replace(/:\d+$/, '');
  return host.toLowerCase().replace(/\.$/, '') || undefined;
}

/** The client as this node saw it, after what it said it came through (the node is the first proxy). */
function forwardedFor(req: IncomingMessage): string | undefined {
  const peer = req.socket.remoteAddress;
  if (!peer) return undefined;
  // A client cannot be trusted to name itself: only the connection's peer goes on.
  return peer.startsWith('::ffff:') ? peer.slice(7) : peer;
}

const requestIdOf = (req: IncomingMessage) => {
  const given = req.headers['x-request-id'];
  return (typeof given === 'string' && given.slice(0, 64)) || randomBytes(6).toString('hex');
};

function codeOf(error: unknown): string {
  let e = error as { code?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return (error as { name?: string })?.name ?? 'connection failed';
}

// As the control plane's problems say them (workers/http/errors.ts).
const TITLES = { 404: 'Not found', 502: 'Bad gateway', 503: 'Service unavailable' } as const;

function problemBody(status: 404 | 502 | 503, code: string, detail: string, requestId: string) {
  return {
    type: `https://berth.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status],
    status,
    detail,
    code,
    requestId,
  };
}

function problem(
  res: ServerResponse,
  status: 404 | 502 | 503,
  code: 'NOT_FOUND' | 'BAD_GATEWAY' | 'UNAVAILABLE',
  detail: string,
  requestId: string,
): void {
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    ...(status === 503 ? { 'retry-after': '1' } : {}),
    'x-request-id': requestId,
  });
  res.end(JSON.stringify(problemBody(status, code, detail, requestId)));
}
