import { errorChain } from '../../common/error-chain.ts';
import { PORT_FORWARD_TUNNEL, PortForwardServer } from '../../common/port-forward.ts';
import { SpdyProtocolError } from '../../common/spdy.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import { openNeonDatabase } from '../../db/neon-database.ts';
import { ConfigError } from '../config.ts';
import { PORT_FORWARD_PORT_HEADER } from '../kube/pod-port-forward-route.ts';
import { type EdgeSettings, edgeSettings } from '../runtime/edge-settings.ts';
import { bridge, ExecPairing, type ExecSocket } from '../runtime/exec-pairing.ts';
import {
  askExecPreflight,
  type ExecSide,
  execProtocol,
  execUpgradeSide,
  isPortForwardUpgrade,
  newExecPreflightSecret,
} from '../runtime/exec-upgrade.ts';
import { createPlaneApp, listenForAssignments } from '../runtime/plane.ts';
import {
  forwardConnection,
  refusalMessage,
  standardAgentStream,
} from '../runtime/port-forward-connection.ts';
import { startReconcileLoop } from '../runtime/reconcile-loop.ts';
import { NodeSignals } from '../signals.ts';
import { EXEC_TAKE_MS, endExecSession } from '../verbs/exec-sessions.ts';

/**
 * `npm run start:deno`: the control plane on Deno (`Deno.serve` on PORT), one long-lived
 * process like Node, so long-polls are held and woken in-process.
 *
 * Database: a plain postgres:// URL goes over TCP with node-postgres (Deno runs it through its
 * Node compatibility), which also carries LISTEN/NOTIFY, so several copies (Deno or Node) wake
 * each other's agents. A Neon URL, or any URL with BERTH_NEON_WS_PROXY set, goes through the
 * Neon driver over WebSocket as on Workers; then wake-ups from other copies fall back to the
 * long-poll timeout (the agent re-polls; nothing is lost, it is only later).
 *
 * The safety-net reconcile runs every BERTH_RECONCILE_INTERVAL_MS while the process lives and,
 * where Deno.cron exists (Deno Deploy; `--unstable-cron` locally), also once a minute from the
 * cron, which Deno Deploy runs even when no request keeps an isolate alive.
 *
 * `kubectl exec`: kubectl's WebSocket and the agent's are upgraded here (Deno.upgradeWebSocket)
 * after the same preflight through the app as on Node, and meet in this process's memory
 * (runtime/exec-pairing.ts). With several copies, each with its BERTH_PEER_URL, an agent's socket
 * that reaches a copy other than kubectl's is carried on to that one: Deno cannot pass the upgrade
 * on unopened as Node does, so it opens the agent's socket and one of its own to the holder (with
 * the agent's credential, which the holder checks again) and copies between them.
 * `kubectl port-forward` (its SPDY inside a WebSocket) ends here too, and each connection it forwards
 * meets its agent's socket the same way.
 */
interface DenoRuntime {
  env: { toObject(): Record<string, string> };
  serve(
    options: {
      port: number;
      hostname: string;
      cert?: string;
      key?: string;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
  cron?: (name: string, schedule: string, handler: () => Promise<void>) => Promise<void>;
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
  readTextFileSync(path: string): string;
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string },
  ): { socket: WebSocket; response: Response };
}
const Deno = (globalThis as unknown as { Deno: DenoRuntime }).Deno;

const started = performance.now();
const env = Deno.env.toObject();
let settings: EdgeSettings;
try {
  settings = await edgeSettings(env, 'deno');
  // Certificates are ordered and served per host by Node's server only: refused, not ignored.
  if (settings.config.acme || settings.config.httpListener)
    throw new ConfigError(
      'invalid configuration:\n  BERTH_ACME, BERTH_ACME_EMAIL, BERTH_HTTP_PORT: ACME certificates and the plain HTTP listener run on Node (npm start) only',
    );
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    Deno.exit(2);
  }
  throw e;
}

const handle = await openHandle(settings);
const signals = new NodeSignals();
const unlisten = await listenForAssignments(handle, signals);
const { app, deps, reconciler } = createPlaneApp({
  runtime: 'deno',
  config: settings.config,
  handle,
  signals,
  clientAddress: (c) => (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname,
});

// Read per request by the exec routes: this process's relay asks with it (http/exec-preflight.ts).
const preflightSecret = newExecPreflightSecret();
deps.execPreflight = preflightSecret;
const execPairing = new ExecPairing({
  end: (id) => endExecSession(deps.db, id),
  log: deps.log,
  takeMs: EXEC_TAKE_MS,
});

const loop = startReconcileLoop(reconciler, settings.config.reconcileIntervalMs, deps.log);
if (typeof Deno.cron === 'function') {
  // Registered at start-up, as Deno Deploy requires; overlapping ticks are safe (row locks).
  void Deno.cron('berth reconcile', '* * * * *', async () => {
    await reconciler.tick().catch((e) => deps.log.warn('cron tick failed', { error: errorChain(e) }));
  });
}

// HTTPS from the same files as on Node (BERTH_TLS_CERT_FILE/_KEY_FILE), read once: Deno.serve
// cannot swap them, so a renewed certificate is taken by a restart.
const tls = settings.config.tls && {
  cert: Deno.readTextFileSync(settings.config.tls.certFile),
  key: Deno.readTextFileSync(settings.config.tls.keyFile),
};
const server = Deno.serve(
  {
    port: settings.config.port,
    hostname: settings.config.host,
    ...tls,
    onListen: ({ port: bound }) => {
      const ms = Math.round(performance.now() - started);
      const driver = handle.kind === 'neon' ? 'Neon driver' : 'node-postgres';
      console.log(
        `berth listening on ${tls ? 'https' : 'http'}://localhost:${bound} (deno; database over ${driver}; ready in ${ms} ms)`,
      );
    },
  },
  async (request, info) => {
    if (await isPortForwardUpgrade(request, deps)) return upgradePortForward(request, info);
    const side = await execUpgradeSide(request, deps);
    return side ? upgradeExec(request, info, side) : app.fetch(request, info);
  },
);

/** An exec stream's socket, once the app said yes; the app's refusal otherwise, as it is. */
async function upgradeExec(
  request: Request,
  info: { remoteAddr: { hostname: string } },
  side: ExecSide,
): Promise<Response> {
  const answer = await askExecPreflight((r) => app.fetch(r, info), request, preflightSecret);
  if ('refusal' in answer) return answer.refusal;
  const protocol = execProtocol(request);
  // Read before upgrading: Deno lets go of the request's headers once it has upgraded.
  const authorization = request.headers.get('authorization') ?? '';
  const { pathname, search } = new URL(request.url);
  const { socket, response } = Deno.upgradeWebSocket(request, protocol ? { protocol } : {});
  const ws: ExecSocket = socket;
  const holder = answer.relay;
  if (holder) {
    // Dialled once the agent's side is open, so nothing the holder sends can find it opening.
    socket.addEventListener('open', () => {
      // Deno's WebSocket takes headers beside the protocols (not in the DOM's types).
      const upstream = new WebSocket(`${holder.replace(/^http/, 'ws')}${pathname}${search}`, {
        protocols: protocol ? [protocol] : [],
        headers: { authorization },
      } as unknown as string[]);
      upstream.addEventListener('error', () =>
        deps.log.warn('exec: the copy holding the stream cannot be reached', { peer: holder }),
      );
      bridge(ws, upstream);
    });
    return response;
  }
  socket.addEventListener('open', () => {
    if (side === 'agent') execPairing.pair(answer.session, ws);
    else execPairing.wait(answer.session, answer.node ?? 'its node', ws);
  });
  return response;
}

const portForwards = new Set<PortForwardServer>();

/**
 * kubectl's port-forward (SPDY tunnelled in its WebSocket), once the app said yes: the protocol
 * runs here (common/port-forward.ts), and each connection meets its agent's socket in
 * `execPairing`, as Node's relay does it (nodejs/port-forward-relay.ts).
 */
async function upgradePortForward(request: Request, info: { remoteAddr: { hostname: string } }) {
  const fetchApp = (r: Request) => app.fetch(r, info);
  const answer = await askExecPreflight(fetchApp, request, preflightSecret);
  if ('refusal' in answer) return answer.refusal;
  const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(PORT_FORWARD_TUNNEL))
    return new Response(`port-forward needs the ${PORT_FORWARD_TUNNEL} subprotocol (kubectl 1.31 or later)`, {
      status: 400,
    });
  // Kept before upgrading: Deno lets go of the request's headers once it has upgraded.
  const { url, method } = request;
  const headers = new Headers(request.headers);
  const where = `pod ${url.split('/pods/')[1]?.split('/')[0] ?? ''} on node ${answer.node ?? ''}`;
  const { socket, response } = Deno.upgradeWebSocket(request, { protocol: PORT_FORWARD_TUNNEL });
  socket.binaryType = 'arraybuffer';
  socket.addEventListener('open', () => {
    const server = new PortForwardServer(
      (bytes) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
      },
      (port, _id, kubectl) =>
        forwardConnection(port, kubectl, {
          where,
          open: async (p) => {
            const asked = new Headers(headers);
            asked.set(PORT_FORWARD_PORT_HEADER, String(p));
            const opened = await askExecPreflight(
              fetchApp,
              new Request(url, { method, headers: asked }),
              preflightSecret,
            );
            if ('refusal' in opened) return { refusal: await refusalMessage(opened.refusal) };
            return { session: opened.session };
          },
          agentSocket: async (session) =>
            standardAgentStream(await execPairing.agentSocket(session, EXEC_TAKE_MS)),
          end: (session) => endExecSession(deps.db, session),
          warn: (message, e) => deps.log.warn(message, { error: errorChain(e) }),
        }),
    );
    portForwards.add(server);
    socket.addEventListener('message', (event) => {
      try {
        server.receive(new Uint8Array(event.data as ArrayBuffer));
      } catch (e) {
        if (!(e instanceof SpdyProtocolError)) throw e;
        deps.log.warn('port-forward: not the protocol', { error: e.message });
        socket.close(1002);
      }
    });
    socket.addEventListener('close', () => {
      server.close();
      portForwards.delete(server);
    });
  });
  return response;
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: finishing in-flight requests, then stopping`);
  const force = setTimeout(() => Deno.exit(1), 15_000);
  // Long-polls would hold the shutdown open for their full wait: wake them so they answer now.
  signals.notify(['*']);
  for (const pf of portForwards) pf.close();
  execPairing.close();
  await deps.kubeWatch?.close();
  await server.shutdown();
  await loop.stop();
  await unlisten?.();
  await handle.close();
  clearTimeout(force);
  Deno.exit(0);
}
Deno.addSignalListener('SIGTERM', () => void shutdown('SIGTERM'));
Deno.addSignalListener('SIGINT', () => void shutdown('SIGINT'));

async function openHandle(s: EdgeSettings): Promise<DatabaseHandle> {
  if (s.webSocketProxy || /\.neon\.tech\b/.test(s.databaseUrl)) {
    return openNeonDatabase(s.databaseUrl, { webSocketProxy: s.webSocketProxy });
  }
  // node-postgres through Deno's Node compatibility; loaded only on this path.
  const { openDatabase } = await import('../../db/node-database.ts');
  return openDatabase({ url: s.databaseUrl, dataDir: '.' });
}
