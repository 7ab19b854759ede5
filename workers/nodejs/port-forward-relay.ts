import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../common/logger.ts';
import {
  type KubectlConnection,
  PORT_FORWARD_TUNNEL,
  type PodConnection,
  PortForwardServer,
} from '../../common/port-forward.ts';
import { SpdyProtocolError } from '../../common/spdy.ts';
import { PORT_FORWARD_PORT_HEADER } from '../kube/pod-port-forward-route.ts';
import { type AgentStream, forwardConnection, refusalMessage } from '../runtime/port-forward-connection.ts';
import { preflightRequest, writeAnswer } from './exec-relay.ts';

const KUBE_PORT_FORWARD = /^\/api\/v1\/namespaces\/[^/?]+\/pods\/[^/?]+\/portforward(?:\?|$)/;
/** Before, and as kubectl's fallback: SPDY on the upgraded connection itself. */
const SPDY_UPGRADE = 'spdy/3.1';
const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** Above this much unsent to kubectl, the agents' sockets are paused until it drains. */
const HIGH_WATER = 1 << 20;

export interface PortForwardRelayDeps {
  /** The app (its `fetch`), asked before the upgrade and for every connection. */
  fetch: (request: Request, env: { incoming: IncomingMessage }) => Response | Promise<Response>;
  secret: string;
  /** The agent's socket for a session, once it dials in (the exec relay meets it). */
  agentSocket: (id: string, ms: number) => Promise<WebSocket>;
  /** The session row is done with. */
  end: (id: string) => Promise<void>;
  log: Logger;
  /** How long a connection waits for its agent (verbs/exec-sessions.ts EXEC_TAKE_MS). */
  takeMs: number;
}

/** kubectl's connection, whichever way it came: SPDY bytes in and out. */
interface Transport {
  write(bytes: Uint8Array): void;
  /** Unsent bytes: above HIGH_WATER the agents wait. */
  backlog(): number;
  onDrain(fn: () => void): void;
  /** kubectl's bytes, as they come; then its end. */
  listen(receive: (bytes: Uint8Array) => void, ended: () => void): void;
  close(): void;
}

/**
 * `kubectl port-forward` on Node. kubectl's connection (a WebSocket carrying SPDY, or SPDY on
 * the upgraded connection) is authorized through the app first, then speaks Kubernetes'
 * port-forward protocol here (common/port-forward.ts). Every connection kubectl forwards becomes
 * a session for the pod's node: its agent dials out to the exec relay as for an exec, connects
 * to the pod's port, and the bytes are copied between that socket and kubectl's stream.
 */
export class PortForwardRelay {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has(PORT_FORWARD_TUNNEL) ? PORT_FORWARD_TUNNEL : false),
  });
  private readonly sessions = new Set<PortForwardServer>();

  constructor(private readonly d: PortForwardRelayDeps) {}

  takes(req: IncomingMessage): boolean {
    const upgrade = req.headers.upgrade?.toLowerCase();
    return (upgrade === 'websocket' || upgrade === SPDY_UPGRADE) && KUBE_PORT_FORWARD.test(req.url ?? '');
  }

  /** Never rejects: a failure here ends this one request. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const answer = await this.d.fetch(preflightRequest(req, this.d.secret), { incoming: req });
      if (answer.status !== 200) return await writeAnswer(socket, answer);
      const { node } = (await answer.json()) as { node: string };
      const where = `${req.url?.split('?')[0]} (node ${node})`;
      if (req.headers.upgrade?.toLowerCase() === 'websocket') {
        this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(req, node, webSocketTransport(ws)));
      } else {
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
            `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
        );
        this.serve(req, node, socketTransport(socket), head);
      }
      this.d.log.info('port-forward started', { pod: where });
    } catch (e) {
      this.d.log.error('port-forward upgrade failed', { error: (e as Error).message });
      socket.destroy();
    }
  }

  /** Ends every session (the process stops). */
  close(): void {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
  }

  private serve(req: IncomingMessage, node: string, kubectl: Transport, head?: Buffer): void {
    const server = new PortForwardServer(
      (bytes) => kubectl.write(bytes),
      (port, _id, side) => this.connect(req, node, port, side, kubectl),
    );
    this.sessions.add(server);
    const receive = (bytes: Uint8Array) => {
      try {
        server.receive(bytes);
      } catch (e) {
        if (!(e instanceof SpdyProtocolError)) throw e;
        this.d.log.warn('port-forward: not the protocol', { error: e.message });
        kubectl.close();
      }
    };
    if (head?.length) receive(head);
    kubectl.listen(receive, () => {
      server.close();
      this.sessions.delete(server);
    });
  }

  /** One forwarded connection: its session, its agent's socket, and the bytes between. */
  private connect(
    req: IncomingMessage,
    node: string,
    port: number,
    kubectl: KubectlConnection,
    transport: Transport,
  ): PodConnection {
    return forwardConnection(port, kubectl, {
      where: `pod ${podOf(req)} on node ${node}`,
      open: async (p) => {
        const request = preflightRequest(req, this.d.secret);
        request.headers.set(PORT_FORWARD_PORT_HEADER, String(p));
        const answer = await this.d.fetch(request, { incoming: req });
        if (answer.status !== 200) return { refusal: await refusalMessage(answer) };
        return (await answer.json()) as { session: string };
      },
      agentSocket: async (session) => agentStream(await this.d.agentSocket(session, this.d.takeMs)),
      end: (session) => this.d.end(session),
      throttle: (agent) => {
        const ws = (agent as NodeAgentStream).ws;
        if (transport.backlog() < HIGH_WATER || ws.isPaused) return;
        ws.pause();
        transport.onDrain(() => ws.resume());
      },
      warn: (message, e) => this.d.log.warn(message, { error: (e as Error).message }),
    });
  }
}

interface NodeAgentStream extends AgentStream {
  ws: WebSocket;
}

function agentStream(ws: WebSocket): NodeAgentStream {
  return {
    ws,
    send: (bytes) => {
      if (ws.readyState === ws.OPEN) ws.send(bytes, { binary: true });
    },
    close: () => ws.close(1000),
    onMessage: (fn) => ws.on('message', (data: RawData) => fn(toBytes(data))),
    onClose: (fn) => ws.once('close', fn),
  };
}

function webSocketTransport(ws: WebSocket): Transport {
  return {
    write: (bytes) => {
      if (ws.readyState === ws.OPEN) ws.send(bytes, { binary: true });
    },
    backlog: () => ws.bufferedAmount,
    onDrain: (fn) => {
      const check = () => (ws.bufferedAmount < HIGH_WATER ? fn() : setTimeout(check, 10));
      setTimeout(check, 10);
    },
    listen: (receive, ended) => {
      ws.on('message', (data) => receive(toBytes(data)));
      ws.once('close', ended);
    },
    close: () => ws.close(1002),
  };
}

function socketTransport(socket: Duplex): Transport {
  return {
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    backlog: () => socket.writableLength,
    onDrain: (fn) => socket.once('drain', fn),
    listen: (receive, ended) => {
      socket.on('data', (data: Buffer) => receive(data));
      socket.once('close', ended);
    },
    close: () => socket.destroy(),
  };
}

function toBytes(data: RawData | Buffer): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

const podOf = (req: IncomingMessage) => /\/pods\/([^/?]+)\//.exec(req.url ?? '')?.[1] ?? 'the pod';
