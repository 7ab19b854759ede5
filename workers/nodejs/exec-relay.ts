import { randomBytes } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import {
  CHANNEL,
  EXEC_PROTOCOL,
  type ExecStatus,
  failureStatus,
  statusFrame,
} from '../../common/exec-stream.ts';
import type { Logger } from '../../common/logger.ts';
import { handshake } from '../../common/node-proxy.ts';
import { EXEC_PREFLIGHT_HEADER } from '../http/exec-preflight.ts';

const KUBE_EXEC = /^\/api\/v1\/namespaces\/[^/?]+\/pods\/[^/?]+\/(?:exec|attach)(?:\?|$)/;
const AGENT_EXEC = /^\/v1\/agent\/exec\/[^/?]+(?:\?|$)/;
/**
 * kubectl offers v5 only (its WebSocket executor needs the close marker for stdin's EOF); other
 * Kubernetes clients (the JavaScript one, say) speak v4: the same messages without that marker.
 */
const PROTOCOLS = [EXEC_PROTOCOL, 'v4.channel.k8s.io'];
/** How often the agent's socket is pinged while a stream is open. */
const PING_MS = 25_000;
/** Above this much unsent, the side sending is paused until the other catches up. */
const HIGH_WATER = 1 << 20;

export interface ExecRelayDeps {
  /** The app (its `fetch`), asked before every upgrade: one place for authentication and rules. */
  fetch: (request: Request, env: { incoming: IncomingMessage }) => Response | Promise<Response>;
  /** The per-process secret that marks the relay's own requests (http/exec-preflight.ts). */
  secret: string;
  /** The session row is done with (the stream ended, or nobody came). */
  end: (id: string) => Promise<void>;
  log: Logger;
  /** How long kubectl's socket waits for the agent's (verbs/exec-sessions.ts EXEC_TAKE_MS). */
  takeMs: number;
}

/** kubectl's socket waiting for its agent, with what kubectl sent meanwhile (early stdin, a resize). */
interface Waiting {
  client: WebSocket;
  node: string;
  early: RawData[];
  /** The listener keeping `early`, removed once the agent is here. */
  keep: (data: RawData) => void;
  timer: NodeJS.Timeout;
}

/**
 * The meeting point of `kubectl exec` streams on Node. kubectl's WebSocket and the agent's (it
 * dials out: nodes take no connection) both arrive here as upgrades; each is first put to the
 * app as a preflight (same URL and headers, plus the secret), which authorizes it and answers
 * with its session, or with the refusal written back as the HTTP answer. kubectl's socket then
 * waits for the agent's with the same session, and once both are here the relay only copies
 * messages between them: both speak v5.channel.k8s.io, the agent ends with the Status.
 *
 * The pair lives in the memory of the copy kubectl reached. An agent's socket that reaches another
 * copy is passed on to it, unopened, at the BERTH_PEER_URL the session row names (copies behind one
 * load balancer reach each other at their private addresses). Workers need a shared rendezvous
 * of another kind (a Durable Object).
 */
export class ExecRelay {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  private readonly waiting = new Map<string, Waiting>();
  /** Sessions whose other end is not a socket (a port-forward's connection): called with the agent's. */
  private readonly expected = new Map<string, (agent: WebSocket) => void>();
  private readonly open = new Set<WebSocket>();

  constructor(private readonly d: ExecRelayDeps) {}

  /** Whether an upgrade request is an exec stream, which `upgrade` must then be given. */
  takes(req: IncomingMessage): boolean {
    const url = req.url ?? '';
    return (
      req.headers.upgrade?.toLowerCase() === 'websocket' && (KUBE_EXEC.test(url) || AGENT_EXEC.test(url))
    );
  }

  /** Never rejects: a failure here ends this one request, never the process. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const answer = await this.d.fetch(preflightRequest(req, this.d.secret), { incoming: req });
      if (answer.status !== 200) return await writeAnswer(socket, answer);
      const { session, node, relay } = (await answer.json()) as {
        session: string;
        node?: string;
        relay?: string;
      };
      if (relay) return passOn(req, socket, head, relay, this.d.log);
      const agentSide = AGENT_EXEC.test(req.url ?? '');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.open.add(ws);
        ws.on('error', (e) => this.d.log.debug('exec socket error', { session, error: e.message }));
        ws.once('close', () => this.open.delete(ws));
        if (agentSide) this.pair(session, ws);
        else this.wait(session, node ?? 'its node', ws);
      });
    } catch (e) {
      this.d.log.error('exec upgrade failed', { error: (e as Error).message });
      socket.destroy();
    }
  }

  /** Ends every stream (the process stops): kubectl is told, agents see their socket close. */
  close(): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      void this.d.end(id).catch(() => {});
    }
    this.waiting.clear();
    for (const ws of this.open) finish(ws, failureStatus('the control plane is shutting down'));
  }

  /**
   * The agent's socket for session `id` once it dials in here (port-forward's connections, whose
   * kubectl side is a stream inside one socket); rejects after `ms`.
   */
  agentSocket(id: string, ms: number): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.expected.delete(id);
        reject(new Error('the agent did not answer'));
      }, ms);
      this.expected.set(id, (agent) => {
        clearTimeout(timer);
        this.expected.delete(id);
        resolve(agent);
      });
    });
  }

  private wait(id: string, node: string, client: WebSocket): void {
    const early: RawData[] = [];
    let kept = 0;
    const keep = (data: RawData) => {
      early.push(data);
      kept += byteLength(data);
      // kubectl streaming stdin to nobody yet: it waits (TCP pushes back) instead of filling memory.
      if (kept >= HIGH_WATER) client.pause();
    };
    client.on('message', keep);
    const timer = setTimeout(() => {
      if (this.waiting.get(id)?.client !== client) return;
      this.waiting.delete(id);
      finish(client, failureStatus(`the agent of node ${node} did not answer`));
      void this.ended(id);
    }, this.d.takeMs);
    client.once('close', () => {
      if (this.waiting.get(id)?.client !== client) return;
      clearTimeout(timer);
      this.waiting.delete(id);
      void this.ended(id);
    });
    this.waiting.set(id, { client, node, early, keep, timer });
  }

  private pair(id: string, agent: WebSocket): void {
    const expected = this.expected.get(id);
    if (expected) {
      expected(agent);
      return;
    }
    const w = this.waiting.get(id);
    if (!w) {
      // Taken in the database but held by no socket here: kubectl left, or reached another copy.
      agent.close(1011, 'kubectl is not waiting here');
      return;
    }
    clearTimeout(w.timer);
    this.waiting.delete(id);
    const { client } = w;
    client.off('message', w.keep);
    for (const data of w.early) agent.send(data, { binary: true });
    client.resume();
    let statusSent = false;
    copy(client, agent);
    copy(agent, client, (data) => {
      if (firstByte(data) === CHANNEL.error) statusSent = true;
    });
    // kubectl pings its side itself; the agent's crosses NATs and proxies that drop idle connections
    // (a shell left open), so the relay pings it.
    const ping = setInterval(() => agent.ping(), PING_MS);
    client.once('close', () => agent.close(1000));
    agent.once('close', () => {
      clearInterval(ping);
      // An agent gone without its Status (it stopped, its network failed): kubectl must not hang or
      // read it as success.
      if (statusSent) client.close(1000);
      else
        finish(client, failureStatus(`the agent of node ${w.node} ended the stream without an exit status`));
      void this.ended(id);
    });
  }

  private async ended(id: string): Promise<void> {
    await this.d
      .end(id)
      .catch((e: unknown) =>
        this.d.log.warn('removing an exec session failed', { session: id, error: (e as Error).message }),
      );
  }
}

/** Messages from `from` to `to`, pausing `from` while `to` has too much unsent. */
function copy(from: WebSocket, to: WebSocket, seen?: (data: RawData) => void): void {
  from.on('message', (data) => {
    seen?.(data);
    if (to.readyState !== to.OPEN) return;
    to.send(data, { binary: true }, () => {
      if (from.isPaused && to.bufferedAmount < HIGH_WATER) from.resume();
    });
    if (to.bufferedAmount >= HIGH_WATER) from.pause();
  });
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}

function firstByte(data: RawData): number | undefined {
  if (Buffer.isBuffer(data)) return data[0];
  if (Array.isArray(data)) return data[0]?.[0];
  return new Uint8Array(data)[0];
}

/** The Status on the error channel, then a normal close: how kubectl learns the end. */
function finish(ws: WebSocket, status: ExecStatus): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(statusFrame(status), { binary: true }, () => ws.close(1000));
}

/**
 * The agent's upgrade passed on, unopened, to the copy holding kubectl's socket (its
 * BERTH_PEER_URL): that copy authorizes it again and pairs the two. Bytes are only copied.
 */
function passOn(req: IncomingMessage, socket: Duplex, head: Buffer, url: string, log: Logger): void {
  const peer = new URL(url);
  const target = {
    address: peer.hostname,
    port: Number(peer.port) || (peer.protocol === 'https:' ? 443 : 80),
  };
  const upstream =
    peer.protocol === 'https:'
      ? tlsConnect({ host: target.address, port: target.port, servername: peer.hostname })
      : netConnect({ host: target.address, port: target.port });
  const onConnect = () => {
    upstream.write(handshake(req, target, req.socket.remoteAddress));
    if (head.length) upstream.write(head);
    upstream.pipe(socket).pipe(upstream);
  };
  upstream.once(peer.protocol === 'https:' ? 'secureConnect' : 'connect', onConnect);
  upstream.on('error', (e) => {
    log.warn('exec: the copy holding the stream cannot be reached', { peer: url, error: e.message });
    socket.destroy();
  });
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}

/** The upgrade request as the app sees any request, marked as the relay's own. */
export function preflightRequest(req: IncomingMessage, secret: string): Request {
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of [value].flat()) headers.append(name, v);
  }
  headers.set(EXEC_PREFLIGHT_HEADER, secret);
  return new Request(`${scheme}://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
  });
}

/** The app's refusal as the answer to the upgrade request, then the socket closed. */
export async function writeAnswer(socket: Duplex, answer: Response): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer());
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n`;
  answer.headers.forEach((value, name) => {
    if (!/^(content-length|connection|transfer-encoding|keep-alive)$/i.test(name))
      head += `${name}: ${value}\r\n`;
  });
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), body]));
}

/** A secret for one process: it never leaves it. */
export const newPreflightSecret = (): string => randomBytes(32).toString('hex');
