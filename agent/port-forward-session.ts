import { connect, type Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { PortForwardRequest } from '../common/agent-protocol.ts';
import { closeFrame, execFrame, parseExecFrame } from '../common/exec-stream.ts';
import { errorMessage } from './log.ts';
import { opened, type StreamSocketDeps, streamSocket } from './stream-socket.ts';

export interface PortForwardSessionDeps extends StreamSocketDeps {
  /** The pod's address on its network; undefined when it has none here (not running on this node). */
  podAddress: (replicaId: string) => string | undefined;
}

/** On the socket: the connection's bytes, and why it could not be made or broke. */
const DATA = 0;
const ERROR = 1;
/** Above this much unsent on either side, the other is paused until it drains. */
const HIGH_WATER = 1 << 20;
/** How long connecting to the pod may take (a port nobody listens on is refused at once). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One connection of a `kubectl port-forward` to a pod on this node. The agent dials out to the
 * control plane (the same meeting point as exec), connects to the pod's port on the pod's own
 * address, and copies bytes: each side's end of sending is passed on as a half-close, so a client
 * that finishes its request still reads the whole answer.
 *
 *   connecting ─► copying ─► closed
 *        └─(refused, unreachable: the message on the error channel)─► closed
 */
export async function runPortForwardSession(
  req: PortForwardRequest,
  d: PortForwardSessionDeps,
): Promise<void> {
  const ws = await streamSocket(req.id, d);
  const early: Buffer[] = [];
  const keep = (data: Buffer) => early.push(data);
  ws.on('message', keep);
  try {
    await opened(ws);
  } catch (e) {
    d.log.warn('port-forward session not taken', { session: req.id, error: errorMessage(e) });
    ws.terminate();
    return;
  }
  const address = d.podAddress(req.replicaId);
  if (!address) return fail(ws, `pod ${req.replicaId} is not running on this node`);
  let pod: Socket;
  try {
    pod = await connectTo(address, req.port);
  } catch (e) {
    return fail(ws, `dial tcp ${address}:${req.port}: ${dialError(e)}`);
  }
  d.log.debug('port-forward connection', { session: req.id, replica: req.replicaId, port: req.port });
  copy(ws, pod, early, keep);
}

/** Why a connection failed, in the words kubectl users know from the kubelet (Go's). */
function dialError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connect: connection refused';
  if (code === 'EHOSTUNREACH') return 'connect: no route to host';
  if (code === 'ENETUNREACH') return 'connect: network is unreachable';
  return errorMessage(e);
}

function connectTo(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('i/o timeout'));
    });
    socket.once('error', reject);
  });
}

function copy(ws: WebSocket, pod: Socket, early: Buffer[], keep: (data: Buffer) => void): void {
  let podEnded = false;
  pod.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(execFrame(DATA, chunk), { binary: true }, () => {
      if (pod.isPaused() && ws.bufferedAmount < HIGH_WATER) pod.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) pod.pause();
  });
  pod.once('end', () => {
    podEnded = true;
    if (ws.readyState === ws.OPEN) ws.send(closeFrame(DATA), { binary: true });
  });
  pod.once('error', (e) => {
    if (!podEnded && ws.readyState === ws.OPEN)
      ws.send(execFrame(ERROR, `read from the pod: ${e.message}`), { binary: true });
  });
  pod.once('close', () => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });

  const input = (message: Buffer) => {
    const frame = parseExecFrame(message);
    if (frame.kind === 'data' && frame.channel === DATA && frame.data.length) {
      if (!pod.write(frame.data)) {
        ws.pause();
        pod.once('drain', () => ws.resume());
      }
    } else if (frame.kind === 'close' && frame.channel === DATA) {
      pod.end();
    }
  };
  ws.off('message', keep);
  for (const m of early) input(m);
  ws.on('message', input);
  ws.once('close', () => pod.destroy());
}

/** The reason on the error channel, then the socket closed. */
function fail(ws: WebSocket, message: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(execFrame(ERROR, message), { binary: true }, () => ws.close(1000));
}
