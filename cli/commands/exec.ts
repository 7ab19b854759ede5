import WebSocket from 'ws';
import {
  CHANNEL,
  closeFrame,
  EXEC_PROTOCOL,
  type ExecStatus,
  execFrame,
  parseExecFrame,
} from '../../common/exec-stream.ts';
import { objectRef } from '../args.ts';
import type { Command } from '../command.ts';
import { CliError, EXIT, exitCodeForStatus, UsageError } from '../exit-codes.ts';

/**
 * `berth exec REPLICA|deployment/NAME [-c C] [-i] [-t] -- COMMAND...`: the same stream as `kubectl
 * exec` (the Kubernetes face's `pods/{id}/exec`, WebSocket `v5.channel.k8s.io`), which the pod's
 * agent joins by dialling out. Exits with the command's own code.
 */
export const exec: Command = {
  name: 'exec',
  summary: "Run a command in a replica's container (-i: stdin, -t: a terminal)",
  usage: 'berth exec REPLICA|deployment/NAME [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]',
  flags: ['container', 'stdin', 'tty'],
  async run(ctx) {
    const [target, ...command] = ctx.args;
    if (!target) throw new UsageError('missing the replica (or deployment/NAME)');
    if (command.length === 0) throw new UsageError('missing the command, after --');
    const { kind, name } = objectRef([target], ['deployment', 'replica'], 'replica');
    const client = await ctx.client();
    const ns = await ctx.namespace();
    const id =
      kind === 'replica'
        ? name
        : (await client.listReplicas(ns, name)).find((r) => r.desired === 'running' && r.ready)?.id;
    if (!id) throw new CliError(`deployment/${name} has no ready replica`, EXIT.NOT_FOUND);

    const tty = ctx.flags.tty === true && Boolean(process.stdin.isTTY);
    const stdin = ctx.flags.stdin === true;
    const url = new URL(
      client.url(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(id)}/exec`),
    );
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    for (const arg of command) url.searchParams.append('command', arg);
    if (ctx.flags.container) url.searchParams.set('container', ctx.flags.container);
    url.searchParams.set('stdout', 'true');
    url.searchParams.set('stderr', String(!tty));
    url.searchParams.set('stdin', String(stdin));
    url.searchParams.set('tty', String(tty));
    const { token } = await ctx.connection();
    return run(url, token, { stdin, tty, out: ctx.io.stdout, err: ctx.io.stderr });
  },
};

/** The stream to its end: the command's exit code, from the Status on the error channel. */
function run(
  url: URL,
  token: string | undefined,
  o: {
    stdin: boolean;
    tty: boolean;
    out: { write(d: string | Uint8Array): unknown };
    err: { write(d: string | Uint8Array): unknown };
  },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [EXEC_PROTOCOL], {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    let status: ExecStatus | undefined;
    const restore = o.tty ? rawTerminal() : () => {};
    const sendResize = () =>
      socket.send(
        execFrame(
          CHANNEL.resize,
          JSON.stringify({ Width: process.stdout.columns, Height: process.stdout.rows }),
        ),
      );
    socket.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => {
        restore();
        let message = text || `HTTP ${res.statusCode}`;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // not a Status: the text as it came
        }
        reject(new CliError(message, exitCodeForStatus(res.statusCode ?? 0)));
      });
    });
    socket.on('open', () => {
      if (o.tty) {
        sendResize();
        process.stdout.on('resize', sendResize);
      }
      if (!o.stdin) return;
      process.stdin.on('data', (chunk: Buffer) => socket.send(execFrame(CHANNEL.stdin, chunk)));
      process.stdin.on('end', () => socket.send(closeFrame(CHANNEL.stdin)));
      process.stdin.resume();
    });
    socket.on('message', (data: Buffer) => {
      const frame = parseExecFrame(new Uint8Array(data));
      if (frame.kind !== 'data') return;
      if (frame.channel === CHANNEL.stdout) o.out.write(frame.data);
      else if (frame.channel === CHANNEL.stderr) o.err.write(frame.data);
      else if (frame.channel === CHANNEL.error) status = JSON.parse(new TextDecoder().decode(frame.data));
    });
    socket.on('error', (e) => {
      restore();
      reject(new CliError(`exec: ${e.message}`, EXIT.FAILURE));
    });
    socket.on('close', () => {
      restore();
      process.stdout.off('resize', sendResize);
      // The command ended: what stdin still holds is not wanted, and must not keep the CLI alive.
      if (o.stdin) process.stdin.destroy();
      if (!status || status.status === 'Success') return resolve(EXIT.OK);
      const code = Number(status.details?.causes.find((c) => c.reason === 'ExitCode')?.message);
      if (Number.isInteger(code) && code > 0) return resolve(code);
      reject(new CliError(status.message ?? 'the command could not run', EXIT.FAILURE));
    });
  });
}

/** Keystrokes go to the remote terminal as typed (Ctrl-C included); the local one is restored after. */
function rawTerminal(): () => void {
  process.stdin.setRawMode?.(true);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    process.stdin.setRawMode?.(false);
  };
}
