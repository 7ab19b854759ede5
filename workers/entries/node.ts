import type { Server as TlsServer } from 'node:tls';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { ConfigError } from '../config.ts';
import { certificateServing } from '../nodejs/certificate-serving.ts';
import { createNodeControlPlane } from '../nodejs/control-plane.ts';
import { maybeStartLocalAgent } from '../nodejs/local-agent.ts';
import { keepTlsFresh, plainHttpWarning, readTls, type TlsMaterial } from '../nodejs/tls-files.ts';

/**
 * `npm start`: the control plane on Node with embedded PGlite (or DATABASE_URL), the safety-net
 * reconcile loop, and a local agent when a Docker Engine answers.
 */
const started = performance.now();

let plane: Awaited<ReturnType<typeof createNodeControlPlane>>;
let tls: TlsMaterial | undefined;
let certs: ReturnType<typeof certificateServing>;
try {
  plane = await createNodeControlPlane({ env: process.env, backgroundLoops: true });
  const files = plane.deps.config.tls;
  tls = files && readTls(files);
  // HTTPS with the API's files and, with ACME on, a certificate per service host (SNI); plain
  // HTTP beside it (BERTH_HTTP_PORT) for ACME's HTTP-01 and the redirects.
  certs = certificateServing(plane, tls);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}
plane.deps.clientAddress = (c) => getConnInfo(c).remote.address;
const publicHost = plane.deps.config.publicUrl && new URL(plane.deps.config.publicUrl).hostname;

// createServer: requests for service hosts are proxied natively (WebSockets too); the rest reach the app.
const server = serve(
  {
    fetch: plane.app.fetch,
    port: plane.deps.config.port,
    hostname: plane.deps.config.host,
    createServer: certs.createServer,
  },
  (info) => {
    const ms = Math.round(performance.now() - started);
    const where = plane.adminToken.path
      ? `admin token in ${plane.adminToken.path}`
      : 'admin token from BERTH_ADMIN_TOKEN';
    const db =
      plane.handle.kind === 'pglite' ? `embedded database in ${plane.dataDir}` : 'database from DATABASE_URL';
    const scheme = certs.https ? 'https' : 'http';
    console.log(`berth listening on ${scheme}://localhost:${info.port} (${db}; ${where}; ready in ${ms} ms)`);
    if (tls) console.log(`TLS certificate for ${tls.subject}, valid until ${tls.notAfter.toISOString()}`);
    if (plane.deps.config.acme) console.log(`ACME certificates from ${plane.deps.config.acme.directoryUrl}`);
    certs.start(info.port).then(
      (http) => {
        if (http) console.log(`plain HTTP (ACME answers, redirects) on port ${http.port}`);
      },
      (e) => {
        console.error(`plain HTTP listener: ${(e as Error).message}`);
        process.exit(2);
      },
    );
    const warning = certs.https ? undefined : plainHttpWarning(plane.deps.config.host);
    if (warning) plane.deps.log.warn(warning);
    if (plane.adminToken.created) console.log(`admin token (shown once): ${plane.adminToken.value}`);
    maybeStartLocalAgent({
      mode: plane.deps.config.localAgent,
      port: info.port,
      tls: certs.https
        ? {
            ...(tls?.selfSigned ? { ca: tls.cert.toString() } : {}),
            servername: tls ? tls.localName(publicHost) : publicHost,
          }
        : undefined,
      dataDir: plane.dataDir,
      db: plane.deps.db,
      log: plane.deps.log,
    })
      .then((agent) => {
        localAgent = agent;
      })
      .catch((e) => {
        console.error(`local agent: ${(e as Error).message}`);
        if (plane.deps.config.localAgent === '1') process.exit(1);
      });
  },
);
let localAgent: { stop(): Promise<void> } | undefined;
const stopTlsReload =
  tls && plane.deps.config.tls
    ? keepTlsFresh(server as TlsServer, plane.deps.config.tls, plane.deps.log)
    : undefined;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  plane.deps.shuttingDown = () => true;
  console.log(`${signal}: finishing in-flight requests, then stopping`);
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  // The local agent leaves its containers running: a control-plane restart never stops workloads.
  await localAgent?.stop().catch(() => {});
  // Long-polls would hold the close open for their full wait: wake them so they answer now.
  plane.deps.signals.notify(['*']);
  stopTlsReload?.();
  await certs.stop();
  await plane.deps.kubeWatch?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await plane.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
