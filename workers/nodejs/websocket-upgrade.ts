import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { forwardUpgrade } from '../../common/node-proxy.ts';
import { ApiError, problemBody } from '../http/errors.ts';
import { normalizeHost } from '../ingress/hosts.ts';
import { type Ingress, requestPath } from '../ingress/ingress.ts';
import type { RoutedService } from '../verbs/ingress-routes.ts';

/**
 * WebSocket pass-through for service hosts on Node. Once Node hands over an upgrade request,
 * the proxy connects to an endpoint (the service's round robin; a refused connection is tried
 * once more elsewhere), replays the handshake with the same header rules as any proxied
 * request, and then only copies bytes both ways: the endpoint answers the handshake itself.
 *
 * With an 'upgrade' listener installed, Node sends every upgrade request here, also those that
 * are no WebSocket for a service (`Upgrade: h2c` to the API, say): those are served as plain
 * one-off HTTP requests (`plain`), as they would be without the listener.
 */
export async function handleUpgrade(o: {
  ingress: Ingress;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  plain: (req: IncomingMessage, res: ServerResponse, route: RoutedService | undefined) => unknown;
}): Promise<void> {
  const { ingress, req, socket } = o;
  socket.on('error', () => socket.destroy());
  const route = await ingress.route(normalizeHost(req.headers.host), requestPath(req.url));
  if (!route || route.refusal || req.headers.upgrade?.toLowerCase() !== 'websocket')
    return servePlain(o, route);

  let endpoints: Awaited<ReturnType<Ingress['endpoints']>> = [];
  try {
    endpoints = await ingress.endpoints(route);
  } catch {
    // Same answer as having none.
  }
  const order = ingress.pick(route, endpoints);
  const forwarded = await forwardUpgrade(order, req, socket, o.head, {
    forwardedFor: ingress.forwardedFor(req.socket.remoteAddress, req.headers['x-forwarded-for']),
    failed: (target) => ingress.reportFailure(target),
  });
  if (forwarded) return;
  const service = `${route.namespace}/${route.name}`;
  const detail = order.length
    ? `no endpoint of service "${service}" answered`
    : `service "${service}" has no ready endpoints`;
  const error = new ApiError('UNAVAILABLE', detail);
  const body = JSON.stringify(problemBody(error, ''));
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Answer an upgrade request as an ordinary HTTP request on its socket, then close it. */
function servePlain(
  o: {
    req: IncomingMessage;
    socket: Duplex;
    plain: (req: IncomingMessage, res: ServerResponse, route: RoutedService | undefined) => unknown;
  },
  route: RoutedService | undefined,
): void {
  const res = new ServerResponse(o.req);
  res.shouldKeepAlive = false;
  res.assignSocket(o.socket as Socket);
  res.once('finish', () => {
    res.detachSocket(o.socket as Socket);
    o.socket.end();
  });
  void o.plain(o.req, res, route);
}
