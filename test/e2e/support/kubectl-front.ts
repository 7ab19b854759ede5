import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { run } from '../../../cli/main.ts';
import { captureIo } from '../../../cli/testing/stub-server.ts';

/**
 * kubectl in front of a Berth server: kubectl attaches a token to TLS connections only
 * (client-go), so a TLS front with a certificate of the test's own terminates TLS before the
 * server, and `berth kubeconfig` writes a kubeconfig with its CA. The front passes streams
 * through and closes the server's side when kubectl goes away (what `kubectl logs -f` needs).
 */
export const KUBECTL = process.env.BERTH_KUBECTL ?? '/usr/bin/kubectl';

export interface KubectlFront {
  url: string;
  kubeconfig: string;
  /** Runs kubectl to its end. */
  kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startKubectlFront(o: {
  target: string;
  dir: string;
  token: string;
  namespace: string;
}): Promise<KubectlFront> {
  const key = join(o.dir, 'tls.key');
  const ca = join(o.dir, 'tls.crt');
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
      ca,
    ],
    { stdio: 'ignore' },
  );
  const upstream = new URL(o.target);
  const tls: Server = createServer({ key: readFileSync(key), cert: readFileSync(ca) }, (req, res) => {
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
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    // The client went away mid-stream: so does the request to the server.
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;

  const io = captureIo();
  const code = await run(
    ['kubeconfig', '--server', url, '--token', o.token, '-n', o.namespace, '--certificate-authority', ca],
    io,
  );
  if (code !== 0) throw new Error(`berth kubeconfig: ${io.errors()}`);
  const kubeconfig = join(o.dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, io.output(), { mode: 0o600 });

  return {
    url,
    kubeconfig,
    kubectl: (args) =>
      new Promise((resolve) => {
        execFile(
          KUBECTL,
          args,
          { env: { PATH: process.env.PATH, HOME: o.dir, KUBECONFIG: kubeconfig }, timeout: 60_000 },
          (err, stdout, stderr) => {
            const exit = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code: exit, stdout, stderr });
          },
        );
      }),
    close: () =>
      new Promise<void>((resolve) => {
        tls.closeAllConnections();
        tls.close(() => resolve());
      }),
  };
}
