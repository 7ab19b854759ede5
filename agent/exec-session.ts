import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { WebSocket } from 'ws';
import type { AttachRequest, ExecRequest } from '../common/agent-protocol.ts';
import {
  CHANNEL,
  DockerDemux,
  type ExecStatus,
  execFrame,
  exitStatus,
  failureStatus,
  parseExecFrame,
  parseResize,
  statusFrame,
} from '../common/exec-stream.ts';
import { errorMessage } from './log.ts';
import { opened, type StreamSocketDeps, streamSocket } from './stream-socket.ts';

export interface ExecSessionDeps extends StreamSocketDeps {
  /** The engine; undefined with a driver that is not Docker's (kubectl is told exec needs it). */
  docker: Docker | undefined;
  /** The engine's id of a replica's container here; undefined when it has none. */
  containerId: (replicaId: string, container: string) => string | undefined;
}

/** Above this much unsent on the socket, the command's output is paused until it drains. */
const HIGH_WATER = 1 << 20;
/** How long the exit code may lag behind the end of the output (the engine records it just after). */
const EXIT_CODE_WAIT_MS = 5000;

/**
 * One `kubectl exec` on this node. The agent dials out (nodes take no connection): a WebSocket to
 * the control plane with its own credential, which kubectl's is paired with there. On it the
 * agent speaks Kubernetes' exec stream (common/exec-stream.ts): the command's output on stdout and
 * stderr (one terminal stream with a TTY), kubectl's stdin to the command, its resizes to the
 * terminal, and at the end the exit code as a Status on the error channel.
 *
 *   connecting ─► running ─► reporting ─► closed
 *        └────────────┴─────────────────────┘ (socket gone: the command's streams are dropped)
 */
export async function runExecSession(req: ExecRequest, d: ExecSessionDeps): Promise<void> {
  const ws = await streamSocket(req.id, d);
  // kubectl's first messages (early stdin, the terminal's size) may come before the command runs.
  const early: Buffer[] = [];
  let kept = 0;
  const keep = (data: Buffer) => {
    early.push(data);
    kept += data.length;
    // Held, not buffered without end: kubectl waits (TCP pushes back) until the command runs.
    if (kept >= HIGH_WATER) ws.pause();
  };
  ws.on('message', keep);
  try {
    await opened(ws);
  } catch (e) {
    d.log.warn('exec session not taken', { session: req.id, error: errorMessage(e) });
    ws.terminate();
    return;
  }
  d.log.info('exec session started', { session: req.id, replica: req.replicaId, container: req.container });
  if (!d.docker) {
    end(ws, failureStatus('the agent of this node runs pods without the Docker Engine, which exec needs'));
    return;
  }
  const id = d.containerId(req.replicaId, req.container);
  if (!id) {
    end(
      ws,
      failureStatus(`container "${req.container}" of pod ${req.replicaId} is not running on this node`),
    );
    return;
  }
  try {
    end(ws, await run(ws, req, d.docker, id, early, keep));
  } catch (e) {
    end(ws, failureStatus(`the command could not run: ${errorMessage(e)}`));
  }
}

async function run(
  ws: WebSocket,
  req: ExecRequest,
  docker: Docker,
  containerId: string,
  early: Buffer[],
  keep: (data: Buffer) => void,
): Promise<ExecStatus> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: req.command,
    AttachStdin: req.stdin,
    AttachStdout: true,
    AttachStderr: !req.tty,
    Tty: req.tty,
  });
  const stream = await exec.start({ hijack: true, stdin: req.stdin, Tty: req.tty });
  // An engine connection that fails ends the stream too, which is what the end below waits for.
  stream.on('error', () => {});
  const demux = req.tty ? undefined : new DockerDemux();
  const send = (channel: number, data: Uint8Array) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(execFrame(channel, data), { binary: true }, () => {
      if (stream.isPaused() && ws.bufferedAmount < HIGH_WATER) stream.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) stream.pause();
  };
  stream.on('data', (chunk: Buffer) => {
    if (!demux) return send(CHANNEL.stdout, chunk);
    for (const [channel, data] of demux.push(chunk)) send(channel, data);
  });

  const input = (message: Buffer) => {
    const frame = parseExecFrame(message);
    if (frame.kind === 'close' && frame.channel === CHANNEL.stdin) {
      // Stdin's EOF reaches the command as the engine connection's half-close.
      if (req.stdin) stream.end();
    } else if (frame.kind === 'data' && frame.channel === CHANNEL.stdin) {
      // A command that does not read its stdin holds kubectl back rather than the agent's memory.
      if (req.stdin && frame.data.length && !stream.write(frame.data)) {
        ws.pause();
        stream.once('drain', () => ws.resume());
      }
    } else if (frame.kind === 'data' && frame.channel === CHANNEL.resize && req.tty) {
      const size = parseResize(frame.data);
      if (size) exec.resize({ h: size.height, w: size.width }).catch(() => {});
    }
  };
  ws.off('message', keep);
  for (const m of early) input(m);
  ws.on('message', input);
  // Held while early messages piled up; still held when stdin waits for the command (drain resumes it).
  if (!stream.writableNeedDrain) ws.resume();

  const gone = await new Promise<boolean>((resolve) => {
    stream.once('end', () => resolve(false));
    stream.once('close', () => resolve(false));
    stream.once('error', () => resolve(false));
    ws.once('close', () => resolve(true));
  });
  if (gone) {
    // kubectl went away: drop the command's streams (it ends as it would without its terminal).
    stream.destroy();
    return failureStatus('the client went away');
  }
  const deadline = Date.now() + EXIT_CODE_WAIT_MS;
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running || Date.now() > deadline) return exitStatus(info.ExitCode ?? 1);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The Status on the error channel, then a normal close: kubectl exits as the command did. */
function end(ws: WebSocket, status: ExecStatus): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(statusFrame(status), { binary: true }, () => ws.close(1000));
}

/**
 * One `kubectl attach` on this node: the container's own output (stdout and stderr, from now on)
 * on the same stream as an exec, until the container ends (a Success Status) or kubectl leaves.
 * Berth's containers run without a stdin or a terminal, so nothing goes the other way.
 */
export async function runAttachSession(req: AttachRequest, d: ExecSessionDeps): Promise<void> {
  const ws = await streamSocket(req.id, d);
  try {
    await opened(ws);
  } catch (e) {
    d.log.warn('attach session not taken', { session: req.id, error: errorMessage(e) });
    ws.terminate();
    return;
  }
  const id = d.containerId(req.replicaId, req.container);
  if (!d.docker || !id) {
    end(
      ws,
      failureStatus(
        d.docker
          ? `container "${req.container}" of pod ${req.replicaId} is not running on this node`
          : 'the agent of this node runs pods without the Docker Engine, which attach needs',
      ),
    );
    return;
  }
  try {
    // A socket to the engine underneath: dockerode's type names only its stream side.
    const stream = (await d.docker
      .getContainer(id)
      .attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    const demux = new DockerDemux();
    stream.on('data', (chunk: Buffer) => {
      for (const [channel, data] of demux.push(chunk)) {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(execFrame(channel, data), { binary: true }, () => {
          if (stream.isPaused() && ws.bufferedAmount < HIGH_WATER) stream.resume();
        });
        if (ws.bufferedAmount >= HIGH_WATER) stream.pause();
      }
    });
    const gone = await new Promise<boolean>((resolve) => {
      stream.once('end', () => resolve(false));
      stream.once('close', () => resolve(false));
      stream.once('error', () => resolve(false));
      ws.once('close', () => resolve(true));
    });
    if (gone) stream.destroy();
    else end(ws, exitStatus(0));
  } catch (e) {
    end(ws, failureStatus(`could not attach: ${errorMessage(e)}`));
  }
}
