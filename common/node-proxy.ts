import { type Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  connectionTokens,
  forwardsRequestHeader,
  hostPart,
  IDEMPOTENT_METHODS,
  isHopByHop,
  isMalformedAnswer,
  type Target,
} from './http-forwarding.ts';

/**
 * Forwarding a request to an endpoint with node:http, streaming both ways (Node only: the control
 * plane's Node server and berth-agent's node ingress; the edge runtimes forward with fetch, see
 * workers/ingress/proxy.ts). Routing, endpoint choice and the answers for failures stay with the
 * caller; this is the I/O between a client's request and an endpoint, by common/http-forwarding.ts.
 */

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

export type ForwardResult =
  | { ok: true }
  /** The client went away first. */
  | { ok: false; reason: 'gone' }
  /** An endpoint answered with something that is not HTTP (a 502, not another endpoint's turn). */
  | { ok: false; reason: 'malformed'; error: unknown }
  /** No endpoint answered; `answered`: a response had begun, so the client's connection is cut. */
  | { ok: false; reason: 'unreachable'; error: unknown; answered: boolean };

type Attempt = { ok: true } | { ok: false; error: unknown; consumed: boolean; answered: boolean };

/**
 * Forward one request to `order[0]`, and when no response comes back, once more to `order[1]` for
 * an idempotent method whose body was not read yet. `failed` hears of every endpoint that did not
 * answer (to pass it over for a while).
 */
export async function forwardHttp<T extends Target>(
  order: readonly T[],
  req: IncomingMessage,
  res: ServerResponse,
  o: { agent: Agent; forwardedFor: string | undefined; failed: (target: T) => void },
): Promise<ForwardResult> {
  const method = req.method ?? 'GET';
  const attempts = IDEMPOTENT_METHODS.has(method) ? Math.min(2, order.length) : Math.min(1, order.length);
  let gone = false;
  res.once('close', () => {
    gone = !res.writableFinished;
  });
  let last: Attempt = { ok: false, error: undefined, consumed: false, answered: false };
  for (let i = 0; i < attempts && !gone; i++) {
    last = await attempt(order[i]!, req, res, method, o.agent, o.forwardedFor);
    if (last.ok) return { ok: true };
    // The endpoint answered, badly: another endpoint would not be asked by nginx either.
    if (isMalformedAnswer(last.error)) return { ok: false, reason: 'malformed', error: last.error };
    o.failed(order[i]!);
    if (last.consumed || last.answered) break;
  }
  if (gone) return { ok: false, reason: 'gone' };
  return last.ok
    ? { ok: true }
    : { ok: false, reason: 'unreachable', error: last.error, answered: last.answered };
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
      else resolve({ ok: false, error, consumed, answered });
    });
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
  });
}

/** The client's handshake for the endpoint: hop-by-hop headers dropped, the upgrade itself kept. */
export function handshake(req: IncomingMessage, target: Target, forwardedFor: string | undefined): string {
  const tokens = connectionTokens(req.headers.connection);
  const lines = [`${req.method} ${req.url} HTTP/1.1`, `host: ${hostPart(target.address)}:${target.port}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (forwardsRequestHeader(raw[i]!.toLowerCase(), tokens)) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  lines.push('connection: Upgrade', `upgrade: ${req.headers.upgrade}`);
  if (forwardedFor) lines.push(`x-forwarded-for: ${forwardedFor}`);
  lines.push(`x-forwarded-proto: ${(req.socket as TLSSocket).encrypted ? 'https' : 'http'}`);
  lines.push(`x-forwarded-host: ${req.headers.host ?? ''}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * A WebSocket (any upgrade) passed through: the first of `order` (two at most) that accepts the
 * connection gets the client's handshake, then bytes are only copied both ways. False when none
 * accepted; `failed` hears of each that refused.
 */
export async function forwardUpgrade<T extends Target>(
  order: readonly T[],
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  o: { forwardedFor: string | undefined; failed: (target: T) => void },
): Promise<boolean> {
  for (const target of order.slice(0, 2)) {
    const upstream = await openConnection(target);
    if (!upstream) {
      o.failed(target);
      continue;
    }
    if (socket.destroyed) {
      upstream.destroy();
      return true;
    }
    upstream.setNoDelay(true);
    upstream.write(handshake(req, target, o.forwardedFor));
    if (head.length) upstream.write(head);
    upstream.pipe(socket).pipe(upstream);
    upstream.on('error', () => socket.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    return true;
  }
  return false;
}

function openConnection(target: Target): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: target.address, port: target.port });
    s.once('connect', () => resolve(s));
    s.once('error', () => {
      s.destroy();
      resolve(undefined);
    });
  });
}
