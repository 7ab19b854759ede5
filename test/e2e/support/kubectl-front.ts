import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { createServer, type Server } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { run } from '../../../cli/main.ts';
import { captureIo } from '../../../cli/testing/stub-server.ts';

/**
 * The real kubectl against a Berth server: kubectl attaches a token to TLS connections only
 * (client-go), as a control plane is served in production (behind TLS, or on Workers), so a TLS
 * front with a certificate of the test's own stands before the server, and `berth kubeconfig`
 * writes a kubeconfig that trusts it. Streams (watches) pass through as they come, and a client
 * going away closes the upstream request too.
 */

export const KUBECTL = process.env.BERTH_KUBECTL ?? '/usr/bin/kubectl';

export interface KubectlFront {
  url: string;
  caFile: string;
  close(): Promise<void>;
}

export async function startTlsFront(dir: string, target: string): Promise<KubectlFront> {
  const key = join(dir, 'tls.key');
  const caFile = join(dir, 'tls.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      caFile,
    ],
    { stdio: 'ignore' },
  );
  const upstream = new URL(target);
  const tls: Server = createServer({ key: readFileSync(key), cert: readFileSync(caFile) }, (req, res) => {
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.flushHeaders();
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  // Upgrades (kubectl exec's WebSocket) go through as bytes: the server answers the handshake.
  tls.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const up = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      socket.pipe(up);
      up.pipe(socket);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    up.on('close', () => socket.destroy());
    socket.on('close', () => up.destroy());
  });
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(tls.address() as AddressInfo).port}`,
    caFile,
    close: () =>
      new Promise<void>((resolve) => {
        tls.closeAllConnections();
        tls.close(() => resolve());
      }),
  };
}

/** `berth kubeconfig` for a token, written into `dir`; returns its path. */
export async function writeKubeconfig(
  dir: string,
  front: KubectlFront,
  name: string,
  token: string,
  namespace: string,
): Promise<string> {
  const io = captureIo();
  const code = await run(
    [
      'kubeconfig',
      '--server',
      front.url,
      '--token',
      token,
      '-n',
      namespace,
      '--certificate-authority',
      front.caFile,
    ],
    io,
  );
  if (code !== 0) throw new Error(io.errors());
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, io.output(), { mode: 0o600 });
  return path;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(
  kubeconfig: string,
  home: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      args,
      { env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** kubectl with `input` on its stdin (closed after it, empty when absent), to its end or `timeoutMs`. */
export function kubectlWithInput(
  kubeconfig: string,
  home: string,
  args: string[],
  input = '',
  timeoutMs = 90_000,
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL, args, {
      env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** kubectl left running (e.g. `get -w`): its output so far, and a way to stop it. */
export interface KubectlProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

export function kubectlInBackground(kubeconfig: string, home: string, args: string[]): KubectlProcess {
  const child = spawn(KUBECTL, args, {
    env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A TLS front, one kubeconfig for `token` in `namespace`, and kubectl run with it to its end. */
export async function startKubectlFront(o: {
  target: string;
  dir: string;
  token: string;
  namespace: string;
}): Promise<KubectlFront & { kubeconfig: string; kubectl(args: string[]): Promise<KubectlResult> }> {
  const front = await startTlsFront(o.dir, o.target);
  const config = await writeKubeconfig(o.dir, front, 'kubeconfig', o.token, o.namespace);
  return { ...front, kubeconfig: config, kubectl: (args) => kubectl(config, o.dir, args) };
}
