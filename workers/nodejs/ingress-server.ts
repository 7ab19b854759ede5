import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AppDeps } from '../app-context.ts';
import { shortId } from '../crypto.ts';
import { ApiError, problemBody } from '../http/errors.ts';
import { normalizeHost } from '../ingress/hosts.ts';
import { describe, type Ingress, ingressFor, requestPath } from '../ingress/ingress.ts';
import {
  connectionTokens,
  forwardsRequestHeader,
  hostPart,
  IDEMPOTENT_METHODS,
  isHopByHop,
  isMalformedAnswer,
  type Target,
} from '../ingress/proxy.ts';
import type { RoutedService } from '../verbs/ingress-routes.ts';
import { handleUpgrade } from './websocket-upgrade.ts';

/**
 * The Node server of `npm start`, for `serve({ createServer })`: requests for a service's host
 * are proxied here with node:http, streaming both ways without turning them into fetch
 * Requests and Responses (that round trip through undici is most of the cost of a proxied
 * request); every other request goes to the app's listener as before. Same routing, caches,
 * round robin, header and retry rules as the ingress middleware that other runtimes use.
 * WebSocket upgrades for service hosts are passed through (see websocket-upgrade.ts).
 */
export function ingressServer(deps: AppDeps): typeof createServer {
  const ingress = ingressFor(deps);
  // Endpoints that keep connections alive are reused; those that close them (busybox) are not.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });
  const create = (options: ServerOptions, listener: RequestListener): Server => {
    const server = createServer(options, (req, res) => {
      void dispatch(req, res);
    });
    const dispatch = async (req: IncomingMessage, res: ServerResponse) => {
      const route = await ingress.route(normalizeHost(req.headers.host), requestPath(req.url));
      if (!route) return listener(req, res);
      await proxyHttp(ingress, route, req, res, agent).catch((e) => {
        if (!res.headersSent) sendProblem(res, `proxy error (${describe(e)})`, requestIdOf(req));
        else res.destroy();
      });
    };
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      void handleUpgrade({
        ingress,
        req,
        socket,
        head,
        plain: (q, s, route) => (route ? proxyHttp(ingress, route, q, s, agent) : listener(q, s)),
      });
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

/** The request headers for an endpoint, as a flat [name, value, ...] list (duplicates kept). */
export function upstreamRawHeaders(
  req: IncomingMessage,
  target: Target,
  forwardedFor: string | undefined,
): string[] {
  const tokens = connectionTokens(req.headers.connection);
  const out: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (forwardsRequestHeader(raw[i]!.toLowerCase(), tokens)) out.push(raw[i]!, raw[i + 1]!);
  }
  out.push('host', `${hostPart(target.address)}:${target.port}`);
  if (forwardedFor) out.push('x-forwarded-for', forwardedFor);
  out.push('x-forwarded-proto', (req.socket as TLSSocket).encrypted ? 'https' : 'http');
  out.push('x-forwarded-host', req.headers.host ?? '');
  return out;
}

function downstreamRawHeaders(raw: string[], connection: string | undefined): string[] {
  const tokens = connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (!isHopByHop(raw[i]!.toLowerCase(), tokens)) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

type Attempt = { ok: true } | { ok: false; error: unknown; consumed: boolean };

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
  const method = req.method ?? 'GET';
  const attempts = IDEMPOTENT_METHODS.has(method) ? Math.min(2, order.length) : 1;
  let gone = false;
  res.once('close', () => {
    gone = !res.writableFinished;
  });
  let last: Attempt = { ok: false, error: undefined, consumed: false };
  const forwardedFor = ingress.forwardedFor(req.socket.remoteAddress, req.headers['x-forwarded-for']);
  for (let i = 0; i < attempts && !gone; i++) {
    last = await attempt(order[i]!, req, res, method, agent, forwardedFor);
    if (last.ok) {
      if (i > 0) ingress.reportFailure(order[0]!);
      return;
    }
    // The endpoint answered, badly: a 502, not another endpoint's turn (see proxy.ts forward).
    if (isMalformedAnswer(last.error)) break;
    ingress.reportFailure(order[i]!);
    if (last.consumed) break;
  }
  if (gone) return;
  if (res.headersSent) res.destroy();
  else if (!last.ok && isMalformedAnswer(last.error))
    sendProblem(
      res,
      `an endpoint of service "${service}" sent a malformed answer (${describe(last.error)})`,
      requestId,
      'BAD_GATEWAY',
    );
  else sendProblem(res, `no endpoint of service "${service}" answered (${describe(last.error)})`, requestId);
}

function attempt(
  target: Target,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  agent: Agent,
  forwardedFor: string | undefined,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let consumed = false;
    let answered = false;
    const up = httpRequest({
      host: target.address,
      port: target.port,
      method,
      path: req.url,
      headers: upstreamRawHeaders(req, target, forwardedFor),
      agent,
      setHost: false,
      // Answers as nginx and browsers take them: bare LF line endings (busybox httpd's CGI
      // output) and the like. llhttp's strict mode refuses them (HPE_CR_EXPECTED), and Node has
      // no finer switch; the lenient parser reads only this replica's own answers.
      insecureHTTPParser: true,
    });
    // The body is read only once the connection stands, so a refused connection leaves it
    // whole for the retry. GET and HEAD carry none (as with fetch on the other runtimes).
    const sendBody = () => {
      if (method === 'GET' || method === 'HEAD' || req.readableEnded) return void up.end();
      req.on('data', () => {
        consumed = true;
      });
      req.pipe(up);
    };
    up.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', sendBody);
      else sendBody();
    });
    up.once('response', (r) => {
      answered = true;
      res.writeHead(
        r.statusCode ?? 502,
        r.statusMessage,
        downstreamRawHeaders(r.rawHeaders, r.headers.connection),
      );
      r.pipe(res);
      r.once('error', () => res.destroy());
      resolve({ ok: true });
    });
    up.on('error', (error) => {
      req.unpipe(up);
      if (answered) res.destroy();
      else resolve({ ok: false, error, consumed });
    });
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
  });
}
