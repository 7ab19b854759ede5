import { CHANNEL, type ExecStatus, failureStatus, statusFrame } from '../../common/exec-stream.ts';
import type { Logger } from '../../common/logger.ts';

/**
 * The standard WebSocket as Deno's `Deno.upgradeWebSocket` and Workers' `WebSocketPair` give it,
 * narrowed to what pairing uses.
 */
export type ExecSocket = Pick<
  WebSocket,
  'readyState' | 'binaryType' | 'send' | 'close' | 'addEventListener' | 'removeEventListener'
>;
type Message = string | ArrayBuffer | ArrayBufferView;

const OPEN = 1;
/**
 * The most kubectl may send before its agent is here (early stdin, a resize). Node pauses the
 * socket instead; the standard API cannot, so a stream that would pass this is ended with a
 * Status rather than held in memory without bound.
 */
export const EARLY_LIMIT = 4 << 20;

export interface ExecPairingDeps {
  /** The session row is done with (the stream ended, or nobody came). */
  end: (id: string) => Promise<void>;
  log: Logger;
  /** How long kubectl's socket waits for the agent's (verbs/exec-sessions.ts EXEC_TAKE_MS). */
  takeMs: number;
  earlyLimit?: number;
}

/** kubectl's socket waiting for its agent, with what kubectl sent meanwhile. */
interface Waiting {
  client: ExecSocket;
  node: string;
  early: Message[];
  /** The listener keeping `early`, removed once the agent is here. */
  keep: (event: MessageEvent) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The meeting point of `kubectl exec` streams over the standard WebSocket API, for the runtimes
 * that are not Node (Deno's entry in memory, Workers' Durable Object per session). It behaves as
 * Node's relay does (workers/nodejs/exec-relay.ts): kubectl's socket waits for the agent's of
 * the same session, keeping what kubectl sends meanwhile; nobody within `takeMs` ends kubectl's
 * stream with a failure Status; once paired, messages are copied both ways; an agent gone without
 * sending its Status on the error channel ends kubectl's stream with a failure Status, so
 * kubectl neither hangs nor reads success. Authorization happened before: both sockets arrive
 * here only after their preflight through the app (runtime/exec-upgrade.ts).
 *
 *   kubectl: waiting ─► paired ─► finished
 *               └─ (takeMs, early input past the limit, kubectl gone) ─► finished
 */
export class ExecPairing {
  private readonly waiting = new Map<string, Waiting>();
  /** Sessions whose other end is not a socket (a port-forward's connection): called with the agent's. */
  private readonly expected = new Map<string, (agent: ExecSocket) => void>();
  private readonly open = new Set<ExecSocket>();

  constructor(private readonly d: ExecPairingDeps) {}

  /** Sockets open here, waiting or paired. */
  get streams(): number {
    return this.open.size;
  }

  /** kubectl's socket, open, for session `id` on `node`. */
  wait(id: string, node: string, client: ExecSocket): void {
    this.track(id, client);
    const early: Message[] = [];
    let kept = 0;
    const limit = this.d.earlyLimit ?? EARLY_LIMIT;
    const keep = (event: MessageEvent) => {
      early.push(event.data as Message);
      kept += byteLength(event.data as Message);
      if (kept <= limit || this.waiting.get(id)?.client !== client) return;
      this.giveUp(
        id,
        client,
        `kubectl sent more than ${limit} bytes before the agent of node ${node} answered`,
      );
    };
    client.addEventListener('message', keep);
    const timer = setTimeout(
      () => this.giveUp(id, client, `the agent of node ${node} did not answer`),
      this.d.takeMs,
    );
    client.addEventListener('close', () => {
      if (this.waiting.get(id)?.client !== client) return;
      clearTimeout(timer);
      this.waiting.delete(id);
      void this.ended(id);
    });
    this.waiting.set(id, { client, node, early, keep, timer });
  }

  /**
   * The agent's socket for session `id` once it dials in here (a port-forward's connection, whose
   * kubectl side is a stream inside one socket); rejects after `ms`.
   */
  agentSocket(id: string, ms: number): Promise<ExecSocket> {
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

  /** The agent's socket, open, for session `id`: paired with kubectl's if it waits here. */
  pair(id: string, agent: ExecSocket): void {
    this.track(id, agent);
    const expected = this.expected.get(id);
    if (expected) {
      expected(agent);
      return;
    }
    const w = this.waiting.get(id);
    if (!w) {
      // Taken in the database but held by no socket here: kubectl left, or gave up waiting.
      shut(agent, 1011, 'kubectl is not waiting here');
      return;
    }
    clearTimeout(w.timer);
    this.waiting.delete(id);
    const { client } = w;
    client.removeEventListener('message', w.keep);
    for (const data of w.early) agent.send(data);
    let statusSent = false;
    copy(client, agent);
    copy(agent, client, (data) => {
      if (firstByte(data) === CHANNEL.error) statusSent = true;
    });
    client.addEventListener('close', () => shut(agent, 1000));
    agent.addEventListener('close', () => {
      // An agent gone without its Status (it stopped, its network failed): kubectl must not hang or
      // read it as success.
      if (statusSent) shut(client, 1000);
      else
        finish(client, failureStatus(`the agent of node ${w.node} ended the stream without an exit status`));
      void this.ended(id);
    });
  }

  /** Ends every stream (the process stops): kubectl is told, agents see their socket close. */
  close(): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      void this.ended(id);
    }
    this.waiting.clear();
    for (const ws of this.open) finish(ws, failureStatus('the control plane is shutting down'));
  }

  private track(id: string, ws: ExecSocket): void {
    asBuffers(ws);
    this.open.add(ws);
    ws.addEventListener('error', () => this.d.log.debug('exec socket error', { session: id }));
    ws.addEventListener('close', () => {
      this.open.delete(ws);
      // Answers the peer's close where the runtime does not do it by itself.
      shut(ws, 1000);
    });
  }

  /** kubectl's wait ends without an agent: it reads why. */
  private giveUp(id: string, client: ExecSocket, why: string): void {
    const w = this.waiting.get(id);
    if (w?.client !== client) return;
    clearTimeout(w.timer);
    this.waiting.delete(id);
    w.early.length = 0;
    finish(client, failureStatus(why));
    void this.ended(id);
  }

  private async ended(id: string): Promise<void> {
    await this.d
      .end(id)
      .catch((e: unknown) =>
        this.d.log.warn('removing an exec session failed', { session: id, error: (e as Error).message }),
      );
  }
}

/**
 * An agent's socket carried on to the copy holding kubectl's (several Deno copies): `upstream` is
 * this copy's own socket to that one, still opening, authenticated as the agent. What the agent
 * sends before it opens is kept, up to the same bound as kubectl's early input; the two sockets
 * then copy messages and closes both ways. The holder authorizes the agent again and pairs it.
 */
export function bridge(agent: ExecSocket, upstream: ExecSocket, earlyLimit = EARLY_LIMIT): void {
  asBuffers(agent);
  asBuffers(upstream);
  const early: Message[] = [];
  let kept = 0;
  const keep = (event: MessageEvent) => {
    early.push(event.data as Message);
    kept += byteLength(event.data as Message);
    if (kept > earlyLimit) shut(agent, 1011, 'the copy holding kubectl did not answer in time');
  };
  agent.addEventListener('message', keep);
  upstream.addEventListener('open', () => {
    agent.removeEventListener('message', keep);
    for (const data of early.splice(0)) upstream.send(data);
    copy(agent, upstream);
    copy(upstream, agent);
  });
  agent.addEventListener('close', () => shut(upstream, 1000));
  upstream.addEventListener('close', () => shut(agent, 1000));
}

/**
 * Binary messages as ArrayBuffers, which are sent on as they came. The standard's default is a
 * Blob (Deno's, and Workers' at recent compatibility dates), which would need reading first.
 */
function asBuffers(ws: ExecSocket): void {
  ws.binaryType = 'arraybuffer';
}

/** Messages from `from` to `to` while `to` is open. */
function copy(from: ExecSocket, to: ExecSocket, seen?: (data: Message) => void): void {
  from.addEventListener('message', (event) => {
    const data = event.data as Message;
    seen?.(data);
    if (to.readyState === OPEN) to.send(data);
  });
}

function byteLength(data: Message): number {
  return typeof data === 'string' ? data.length : data.byteLength;
}

function firstByte(data: Message): number | undefined {
  if (typeof data === 'string') return data.length ? data.charCodeAt(0) : undefined;
  const bytes =
    data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset);
  return bytes[0];
}

/** Closed, whatever state it is in: closing twice is a no-op on some runtimes and an error on others. */
function shut(ws: ExecSocket, code: number, reason?: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Closed already.
  }
}

/** The Status on the error channel, then a normal close: how kubectl learns the end. */
function finish(ws: ExecSocket, status: ExecStatus): void {
  if (ws.readyState !== OPEN) return;
  ws.send(statusFrame(status));
  shut(ws, 1000);
}
