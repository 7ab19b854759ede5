import {
  Agent,
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { forwardHttp } from '../../common/node-proxy.ts';
import type { AppDeps } from '../app-context.ts';
import { shortId } from '../crypto.ts';
import { ApiError, problemBody } from '../http/errors.ts';
import { normalizeHost } from '../ingress/hosts.ts';
import { describe, type Ingress, ingressFor, requestPath } from '../ingress/ingress.ts';
import type { RoutedService } from '../verbs/ingress-routes.ts';
import { handleUpgrade } from './websocket-upgrade.ts';

/**
 * The Node server of `npm start`, for `serve({ createServer })`: requests for a service's host
 * are proxied here with node:http, streaming both ways without turning them into fetch
 * Requests and Responses (that round trip through undici is most of the cost of a proxied
 * request); every other request goes to the app's listener as before. Same routing, caches,
 * round robin, header and retry rules as the ingress middleware that other runtimes use.
 * WebSocket upgrades for service hosts are passed through (see websocket-upgrade.ts); exec and
 * port-forward streams are the API's own and go to their relays first.
 * With `tls` (BERTH_TLS_CERT_FILE/_KEY_FILE, and per host by SNI) the same server is HTTPS, TLS
 * 1.2 and later only.
 */
/** Upgrades the API itself answers (nodejs/exec-relay.ts, nodejs/port-forward-relay.ts). */
export interface StreamUpgrades {
  takes(req: IncomingMessage): boolean;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

export function ingressServer(
  deps: AppDeps,
  tls?: Pick<SecureContextOptions, 'cert' | 'key'> & Pick<TlsOptions, 'SNICallback'>,
  /** Answers a request before routing (ACME challenges, redirects to HTTPS): true when it did. */
  front?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>,
  /** The API's own streams (exec, port-forward, the agents' sockets), before any service host. */
  streams?: StreamUpgrades,
): typeof createServer {
  const ingress = ingressFor(deps);
  // Endpoints that keep connections alive are reused; those that close them (busybox) are not.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });
  const create = (options: ServerOptions, listener: RequestListener): Server => {
    const handle: RequestListener = (req, res) => {
      void dispatch(req, res);
    };
    const server: Server = tls
      ? createHttpsServer({ ...options, ...tls, minVersion: 'TLSv1.2' }, handle)
      : createServer(options, handle);
    const dispatch = async (req: IncomingMessage, res: ServerResponse) => {
      if (front && (await front(req, res))) return;
      const route = await ingress.route(normalizeHost(req.headers.host), requestPath(req.url));
      if (!route) return listener(req, res);
      await proxyHttp(ingress, route, req, res, agent).catch((e) => {
        if (!res.headersSent) sendProblem(res, `proxy error (${describe(e)})`, requestIdOf(req));
        else res.destroy();
      });
    };
    const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // A service's own host keeps its paths, even one that looks like an exec.
      if (
        streams?.takes(req) &&
        !(await ingress.route(normalizeHost(req.headers.host), requestPath(req.url)))
      )
        return streams.upgrade(req, socket, head);
      return handleUpgrade({
        ingress,
        req,
        socket,
        head,
        plain: (q, s, route) => (route ? proxyHttp(ingress, route, q, s, agent) : listener(q, s)),
      });
    };
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void upgrade(req, socket, head);
    });
    return server;
  };
  // serve() always passes (options, listener); createServer's other overloads are never used.
  return create as typeof createServer;
}

const requestIdOf = (req: IncomingMessage) => {
  const given = req.headers['x-request-id'];
  return (typeof given === 'string' && given.slice(0, 64)) || shortId(12);
};

export function sendProblem(
  res: ServerResponse,
  detail: string,
  requestId: string,
  code: 'UNAVAILABLE' | 'NOT_FOUND' | 'BAD_GATEWAY' = 'UNAVAILABLE',
): void {
  const error = new ApiError(code, detail);
  res.writeHead(error.status, {
    'content-type': 'application/problem+json',
    ...(code === 'UNAVAILABLE' ? { 'retry-after': '1' } : {}),
    'x-request-id': requestId,
  });
  res.end(JSON.stringify(problemBody(error, requestId)));
}

/**
 * Forward one request: to the next endpoint in the service's rotation, and when no response
 * comes back, once more to another for an idempotent method whose body was not read yet.
 */
export async function proxyHttp(
  ingress: Ingress,
  route: RoutedService,
  req: IncomingMessage,
  res: ServerResponse,
  agent: Agent,
): Promise<void> {
  const requestId = requestIdOf(req);
  if (route.refusal)
    return sendProblem(
      res,
      route.refusal.detail,
      requestId,
      route.refusal.status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE',
    );
  const service = `${route.namespace}/${route.name}`;
  let endpoints: Awaited<ReturnType<Ingress['endpoints']>>;
  try {
    endpoints = await ingress.endpoints(route);
  } catch {
    return sendProblem(res, `the endpoints of service "${service}" cannot be read right now`, requestId);
  }
  const order = ingress.pick(route, endpoints);
  if (order.length === 0) return sendProblem(res, `service "${service}" has no ready endpoints`, requestId);
  const result = await forwardHttp(order, req, res, {
    agent,
    forwardedFor: ingress.forwardedFor(req.socket.remoteAddress, req.headers['x-forwarded-for']),
    failed: (target) => ingress.reportFailure(target),
  });
  if (result.ok || result.reason === 'gone') return;
  if (res.headersSent) res.destroy();
  else if (result.reason === 'malformed')
    sendProblem(
      res,
      `an endpoint of service "${service}" sent a malformed answer (${describe(result.error)})`,
      requestId,
      'BAD_GATEWAY',
    );
  else
    sendProblem(res, `no endpoint of service "${service}" answered (${describe(result.error)})`, requestId);
}
