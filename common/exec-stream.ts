/**
 * Kubernetes' exec stream over WebSocket (`v5.channel.k8s.io`), as kubectl speaks it since 1.30.
 * Every binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the error channel
 * (one Status at the end), 4 terminal resizes (`{"Width":w,"Height":h}`). v5 adds one control
 * message, `255, channel`: that channel is closed (kubectl sends it for stdin at EOF).
 *
 * The control plane only pipes messages between kubectl's socket and the agent's, so the agent
 * speaks the same protocol and this file is all both sides need to agree on. Pure and
 * runtime-neutral (no Buffer).
 */

export const EXEC_PROTOCOL = 'v5.channel.k8s.io';

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;
/** v5's "this channel is closed" marker, followed by the channel's number. */
export const CLOSE_MARKER = 255;

export type ExecFrame =
  | { kind: 'data'; channel: number; data: Uint8Array }
  | { kind: 'close'; channel: number }
  | { kind: 'empty' };

/** One message on `channel`. */
export function execFrame(channel: number, data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(bytes.length + 1);
  out[0] = channel;
  out.set(bytes, 1);
  return out;
}

/** v5's end of a channel (stdin EOF). */
export const closeFrame = (channel: number): Uint8Array => Uint8Array.of(CLOSE_MARKER, channel);

export function parseExecFrame(message: Uint8Array): ExecFrame {
  if (message.length === 0) return { kind: 'empty' };
  const channel = message[0]!;
  if (channel === CLOSE_MARKER) {
    // Anything but exactly one channel byte after the marker is malformed: read as nothing.
    return message.length === 2 ? { kind: 'close', channel: message[1]! } : { kind: 'empty' };
  }
  return { kind: 'data', channel, data: message.subarray(1) };
}

/** A resize message's size; undefined for anything that is not one (ignored, as the kubelet does). */
export function parseResize(data: Uint8Array): { width: number; height: number } | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(data)) as { Width?: unknown; Height?: unknown };
    const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536;
    return ok(v.Width) && ok(v.Height) ? { width: v.Width, height: v.Height } : undefined;
  } catch {
    return undefined;
  }
}

/** The Status kubectl reads on the error channel: how the command ended. */
export interface ExecStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason: string; message: string }[] };
}

/**
 * The command's exit code as the kubelet reports it: Success for 0; otherwise NonZeroExitCode with
 * the code in an ExitCode cause, which kubectl turns into its own exit code.
 */
export function exitStatus(code: number): ExecStatus {
  if (code === 0) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** A stream that could not run the command (or lost its other end): kubectl prints the message. */
export function failureStatus(message: string): ExecStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'InternalError',
  };
}

/** The error channel's message carrying `status`. */
export const statusFrame = (status: ExecStatus): Uint8Array =>
  execFrame(CHANNEL.error, JSON.stringify(status));

/**
 * The engine's multiplexed output (no TTY): 8-byte headers (stream 1 or 2, then a big-endian
 * length) before each chunk. Chunks may split anywhere, so this keeps what it has not placed yet.
 */
export class DockerDemux {
  private pending = new Uint8Array(0);

  /** The complete chunks `bytes` finishes, as [channel, data] (stdout 1, stderr 2). */
  push(bytes: Uint8Array): [number, Uint8Array][] {
    const all = new Uint8Array(this.pending.length + bytes.length);
    all.set(this.pending);
    all.set(bytes, this.pending.length);
    const out: [number, Uint8Array][] = [];
    let at = 0;
    while (all.length - at >= 8) {
      const size = ((all[at + 4]! << 24) >>> 0) + (all[at + 5]! << 16) + (all[at + 6]! << 8) + all[at + 7]!;
      if (all.length - at - 8 < size) break;
      const stream = all[at]!;
      // Stdin echo (0) never comes back on an exec; anything but stderr is output.
      out.push([stream === 2 ? CHANNEL.stderr : CHANNEL.stdout, all.slice(at + 8, at + 8 + size)]);
      at += 8 + size;
    }
    this.pending = all.slice(at);
    return out.filter(([, data]) => data.length > 0);
  }
}
