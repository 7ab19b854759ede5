import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Server } from 'node:net';
import { issue, makeCa } from '../../test/support/certificates.ts';
import { eventually, type SimFleet, startSimAgents } from '../../test/support/sim-agents.ts';
import { BerthApi, httpdDeployment } from '../lib/berth-api.ts';
import { benchDatabase, tempDir } from '../lib/berth-stack.ts';
import { freePort, startControlPlane, waitForOutput } from '../lib/processes.ts';
import type { Section } from '../lib/report.ts';
import { fmtRatio, percentile } from '../lib/stats.ts';

/** Served over HTTPS with an Ingress's kubernetes.io/tls Secret. */
const TLS_HOST = 'tls.bench.test';
/** The same service as a Service host with no certificate: served on the plain HTTP listener. */
const PLAIN_HOST = 'plain.bench.test';

interface Latency {
  p50: number;
  p99: number;
}

/** Berth's ingress and the peer for one way of sending a request, sampled in the same run. */
interface Pair {
  berth: Latency;
  peer: Latency;
}

export interface IngressTlsFigures {
  requests: number;
  /** A new connection per request: the TLS handshake (a full one, no resumption) and one GET. */
  newTls: Pair;
  newHttp: Pair;
  /** GETs on one connection kept open, as browsers and API clients send them. */
  keptTls: Pair;
  keptHttp: Pair;
}

/** One GET; resolves with its duration in ms, handshake included when the agent opens a connection. */
function timedGet(o: {
  tls: boolean;
  port: number;
  host: string;
  agent: HttpAgent | false;
  ca: string;
}): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const done = (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${o.host}:${o.port}: status ${res.statusCode}`));
        else resolve(performance.now() - start);
      });
    };
    const options = { host: '127.0.0.1', port: o.port, path: '/', headers: { host: o.host }, agent: o.agent };
    const req = o.tls
      ? httpsRequest({ ...options, servername: o.host, ca: o.ca }, done)
      : httpRequest(options, done);
    req.on('error', reject);
    req.end();
  });
}

/** `n` samples of each, alternating which goes first, so drift on a shared machine hits both alike. */
async function interleaved(
  n: number,
  berth: () => Promise<number>,
  peer: () => Promise<number>,
): Promise<Pair> {
  // Unmeasured first: the JIT, the ingress's route cache and the kept-alive connections warm up.
  for (let i = 0; i < Math.min(50, n); i++) {
    await berth();
    await peer();
  }
  const b: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2) {
      b.push(await berth());
      p.push(await peer());
    } else {
      p.push(await peer());
      b.push(await berth());
    }
  }
  const stat = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
  return { berth: stat(b), peer: stat(p) };
}

const listen = (server: Server, port = 0) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/**
 * Part 7: what HTTPS at the ingress costs. The Node control plane in its own process, serving a
 * Service over HTTPS with a kubernetes.io/tls Secret (a private CA's leaf, made with openssl) and
 * over plain HTTP under a second host; its one endpoint is an HTTP server in this process, on the
 * host port a simulated agent reported for the replica. Beside it, in the same run: a bare
 * node:https server with the same certificate (the machine's own TLS cost) and the backend itself.
 */
export async function ingressTls(o: {
  requests: number;
  log: (s: string) => void;
}): Promise<{ section: Section; figures: IngressTlsFigures }> {
  const dir = tempDir('berth-bench-tls');
  const ca = makeCa(dir);
  const apiPair = issue(dir, ca, ['127.0.0.1'], 'api');
  const hostPair = issue(dir, ca, [TLS_HOST], 'host');
  const httpPort = await freePort();
  const cp = await startControlPlane({
    databaseUrl: await benchDatabase(),
    dataDir: tempDir('berth-bench-tls-cp'),
    env: {
      BERTH_TLS_CERT_FILE: apiPair.certFile,
      BERTH_TLS_KEY_FILE: apiPair.keyFile,
      // Secrets are kept encrypted: without a key none can be written.
      BERTH_SECRET_KEY: randomBytes(32).toString('base64'),
      BERTH_HTTP_PORT: String(httpPort),
      BERTH_HTTP_HOST: '127.0.0.1',
    },
  });
  const backend = createServer((_req, res) => res.end('ok\n'));
  const bare = createHttpsServer({ cert: hostPair.cert, key: readFileSync(hostPair.keyFile) }, (_req, res) =>
    res.end('ok\n'),
  );
  let fleet: SimFleet | undefined;
  try {
    await waitForOutput(cp, /plain HTTP .* on port/);
    const httpsPort = Number(new URL(cp.url).port);
    // The plain listener serves the API too, for hosts without a certificate: no CA needed here.
    const api = new BerthApi(`http://127.0.0.1:${httpPort}`, cp.adminToken);
    fleet = await startSimAgents({
      server: api.url,
      adminToken: cp.adminToken,
      count: 1,
      prefix: 'bench-tls',
    });
    await api.call('PUT', '/v1/namespaces/default/services/tls-web', {
      spec: {
        selector: { app: 'tls-web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
        hosts: [PLAIN_HOST],
      },
    });
    await api.call('PUT', '/v1/namespaces/default/secrets/tls-web', {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': hostPair.cert, 'tls.key': readFileSync(hostPair.keyFile, 'utf8') },
    });
    await api.call('PUT', '/v1/namespaces/default/ingresses/tls-web', {
      spec: {
        rules: [
          {
            host: TLS_HOST,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'tls-web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
        tls: [{ hosts: [TLS_HOST], secretName: 'tls-web' }],
      },
    });
    await api.putDeployment('tls-web', httpdDeployment({ replicas: 1, app: 'tls-web' }));
    // The simulated agent picks the replica's host port as Docker would; the backend then takes
    // it, as the container would have.
    const endpoint = await eventually(
      async () =>
        (
          await api.call<{ items: { port: number }[] }>(
            'GET',
            '/v1/namespaces/default/services/tls-web/endpoints',
          )
        ).items[0],
      30_000,
      'a ready endpoint',
    );
    await listen(backend, endpoint.port);
    const barePort = await listen(bare);

    const get = (tls: boolean, port: number, host: string, agent: HttpAgent | false) => () =>
      timedGet({ tls, port, host, agent, ca: ca.cert });
    // The Secret's certificate is loaded by the server's next scan: wait until it is served.
    await eventually(() => get(true, httpsPort, TLS_HOST, false)(), 30_000, `HTTPS for ${TLS_HOST}`);
    o.log(`ingress TLS: ${o.requests} requests per figure`);
    const n = o.requests;
    const newTls = await interleaved(
      n,
      get(true, httpsPort, TLS_HOST, false),
      get(true, barePort, TLS_HOST, false),
    );
    const newHttp = await interleaved(
      n,
      get(false, httpPort, PLAIN_HOST, false),
      get(false, endpoint.port, PLAIN_HOST, false),
    );
    const keptAlive = () => ({ keepAlive: true, maxSockets: 1 });
    const [tlsA, tlsB] = [new HttpsAgent(keptAlive()), new HttpsAgent(keptAlive())];
    const keptTls = await interleaved(
      n,
      get(true, httpsPort, TLS_HOST, tlsA),
      get(true, barePort, TLS_HOST, tlsB),
    );
    const [httpA, httpB] = [new HttpAgent(keptAlive()), new HttpAgent(keptAlive())];
    const keptHttp = await interleaved(
      n,
      get(false, httpPort, PLAIN_HOST, httpA),
      get(false, endpoint.port, PLAIN_HOST, httpB),
    );
    for (const a of [tlsA, tlsB, httpA, httpB]) a.destroy();
    const figures: IngressTlsFigures = { requests: n, newTls, newHttp, keptTls, keptHttp };
    o.log(
      `ingress TLS: new connection p50 ${newTls.berth.p50.toFixed(2)} ms ` +
        `(${fmtRatio(newTls.berth.p50, newTls.peer.p50)} bare node:https)`,
    );
    return { figures, section: section(figures) };
  } finally {
    await fleet?.stop();
    await cp.stop();
    if (backend.listening) await close(backend);
    if (bare.listening) await close(bare);
  }
}

function section(f: IngressTlsFigures): Section {
  const ms = (v: number) => `${v.toFixed(3)} ms`;
  const rows = (what: string, peer: string, p: Pair): string[][] =>
    (['p50', 'p99'] as const).map((q) => [
      `${what}, ${q}`,
      ms(p.berth[q]),
      `${ms(p.peer[q])} (${peer})`,
      fmtRatio(p.berth[q], p.peer[q]),
      ms(p.berth[q] - p.peer[q]),
    ]);
  const handshake = (p: Pair, plain: Pair) => p.berth.p50 - plain.berth.p50;
  return {
    title: 'HTTPS at the ingress',
    intro:
      `The Node control plane serving one Service over HTTPS (an Ingress with a kubernetes.io/tls Secret, ` +
      'a P-256 leaf of a private CA) and over plain HTTP under a second host; its endpoint is an HTTP server ' +
      'in the benchmark, on the host port a simulated agent reported. The peers, in the same run and ' +
      'alternating with Berth: a bare node:https server with the same certificate, and the backend itself. ' +
      `${f.requests} GETs each, one at a time; a new connection is a full handshake (no session resumption).`,
    columns: ['figure', 'Berth ingress', 'peer', 'Berth ÷ peer', 'added'],
    rows: [
      ...rows('new TLS connection + GET', 'bare node:https', f.newTls),
      ...rows('new HTTP connection + GET', 'the backend', f.newHttp),
      ...rows('kept-alive HTTPS GET', 'bare node:https', f.keptTls),
      ...rows('kept-alive HTTP GET', 'the backend', f.keptHttp),
    ],
    notes: [
      `A new connection over TLS costs Berth ${ms(handshake(f.newTls, f.newHttp))} more than over plain HTTP ` +
        `at p50; the bare server's handshake costs ${ms(f.newTls.peer.p50 - f.newHttp.peer.p50)} over the plain backend.`,
      'The ingress keeps its connections to the backend open: what Berth adds on every row is one proxied ' +
        'hop through its process (route lookup, request and response copied), not a second handshake.',
    ],
    data: f,
  };
}
