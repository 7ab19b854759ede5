import { closeFrame, execFrame, parseExecFrame } from '../../common/exec-stream.ts';
import type { KubectlConnection, PodConnection } from '../../common/port-forward.ts';
import type { ExecSocket } from './exec-pairing.ts';

/** The agent's socket for one forwarded connection, whatever the runtime's WebSocket. */
export interface AgentStream {
  send(bytes: Uint8Array): void;
  close(): void;
  onMessage(fn: (bytes: Uint8Array) => void): void;
  onClose(fn: () => void): void;
}

export interface ForwardDeps {
  /** The app's session for this connection, or why not (asked with the relay's preflight). */
  open: (port: number) => Promise<{ session: string } | { refusal: string }>;
  /** The agent's socket for the session, once it dials in; rejects when it does not come in time. */
  agentSocket: (session: string) => Promise<AgentStream>;
  /** The session row is done with. */
  end: (session: string) => Promise<void>;
  /** "pod web-x on node n1", for kubectl's messages. */
  where: string;
  /** Called after each chunk sent to kubectl: a runtime that can hold the agent back does so here. */
  throttle?: (agent: AgentStream) => void;
  warn: (message: string, error: unknown) => void;
}

/** On the agent's socket (agent/port-forward-session.ts): the connection's bytes, and why it failed. */
const DATA = 0;
const ERROR = 1;
/** Bytes kubectl may send a connection before its agent is there; more fails that connection. */
const EARLY_LIMIT = 4 << 20;

/**
 * One connection kubectl forwards, on any runtime: its session through the app, the agent's
 * socket when it dials in, then the bytes and each side's end of sending between the two. What
 * kubectl sends before the agent is there is kept (bounded); a refusal, an agent that does not
 * come, or one gone mid-way is kubectl's error-stream message.
 *
 *   opening ─► waiting for the agent ─► copying ─► over
 *      └──────────────┴─(refused, timed out, closed by kubectl)─► over
 */
export function forwardConnection(port: number, kubectl: KubectlConnection, d: ForwardDeps): PodConnection {
  let agent: AgentStream | undefined;
  let closed = false;
  let early: Uint8Array[] = [];
  let earlyBytes = 0;
  let endPending = false;
  const fail = (message: string) => kubectl.fail(`error forwarding port ${port} to ${d.where}: ${message}`);

  void (async () => {
    const opened = await d.open(port);
    if ('refusal' in opened) return fail(opened.refusal);
    const { session } = opened;
    if (closed) return void d.end(session).catch(() => {});
    let socket: AgentStream;
    try {
      socket = await d.agentSocket(session);
    } catch {
      void d.end(session).catch(() => {});
      return fail('the agent did not answer');
    }
    agent = socket;
    if (closed) return socket.close();
    let finished = false;
    socket.onMessage((bytes) => {
      const frame = parseExecFrame(bytes);
      if (frame.kind === 'data' && frame.channel === DATA) {
        kubectl.send(frame.data);
        d.throttle?.(socket);
      } else if (frame.kind === 'data' && frame.channel === ERROR) {
        finished = true;
        fail(new TextDecoder().decode(frame.data));
      } else if (frame.kind === 'close' && frame.channel === DATA) {
        finished = true;
        kubectl.end();
      }
    });
    socket.onClose(() => {
      if (!finished && !closed) fail('the agent closed the connection');
      void d.end(session).catch(() => {});
    });
    for (const chunk of early) socket.send(execFrame(DATA, chunk));
    early = [];
    if (endPending) socket.send(closeFrame(DATA));
  })().catch((e: unknown) => {
    d.warn('port-forward connection failed', e);
    fail('the control plane could not open the connection');
  });

  return {
    write: (data) => {
      if (closed) return;
      if (agent) return agent.send(execFrame(DATA, data));
      earlyBytes += data.length;
      if (earlyBytes > EARLY_LIMIT) return fail('too much sent before the pod was reached');
      early.push(data);
    },
    end: () => {
      if (agent) agent.send(closeFrame(DATA));
      else endPending = true;
    },
    close: () => {
      closed = true;
      early = [];
      agent?.close();
    },
  };
}

/** The message of a refusal (a Status, or a problem), for kubectl's error stream. */
export async function refusalMessage(answer: Response): Promise<string> {
  const body = (await answer.json().catch(() => ({}))) as { message?: string; detail?: string };
  return body.message ?? body.detail ?? `the control plane answered ${answer.status}`;
}

/** An agent's socket from the standard WebSocket API (Deno, Workers), binary messages as ArrayBuffers. */
export function standardAgentStream(ws: ExecSocket): AgentStream {
  ws.binaryType = 'arraybuffer';
  return {
    send: (bytes) => {
      if (ws.readyState === 1) ws.send(bytes);
    },
    close: () => {
      try {
        ws.close(1000);
      } catch {
        // Closed already.
      }
    },
    onMessage: (fn) =>
      ws.addEventListener('message', (event) => {
        const data = event.data as ArrayBuffer | string;
        fn(typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data));
      }),
    onClose: (fn) => ws.addEventListener('close', fn),
  };
}
