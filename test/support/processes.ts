import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlaneArgs } from './launch.ts';

/**
 * Control-plane processes that tests can crash: what `npm start` runs (its bundle, launch.ts)
 * spawned directly, so `kill9()` hits the server itself and not an npm
 * wrapper that would leave it running. Agents are started with `startAgentProcess` of the e2e
 * harness (re-exported here), which already knows how to SIGKILL them.
 */
export {
  type AgentProcess,
  startAgentProcess,
} from '../e2e/support/agent-harness.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PROCESS_ADMIN_TOKEN = 'process-admin-token-0123456789abcdef';
/** A fixed key, so a restarted or second copy reads what the first one sealed. */
export const PROCESS_SECRET_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(42)));

export interface ServerProcess {
  url: string;
  port: number;
  adminToken: string;
  /** Everything every incarnation printed (stdout and stderr). */
  output(): string;
  pid(): number | undefined;
  /** JSON call with the admin token (or `token`; null for none). */
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** SIGKILL: no shutdown hook runs, in-flight transactions die with their connections. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (force after 15 s). */
  stop(): Promise<void>;
  /**
   * Stop (SIGTERM) if still running, then start again on the same port, data dir and
   * environment (plus `env`, which stays for later restarts); resolves when it answers.
   */
  restart(env?: Record<string, string>): Promise<void>;
  /** Stop and remove the data dir. */
  close(): Promise<void>;
}

export interface ServerProcessOptions {
  /** DATABASE_URL; required: a crash test needs state that outlives the process. */
  databaseUrl: string;
  env?: Record<string, string>;
  port?: number;
  /** Wait for /readyz (database reachable) rather than /healthz. */
  waitForReady?: boolean;
  /**
   * The server serves HTTPS (its env names BERTH_TLS_CERT_FILE/_KEY_FILE): `url` is https and
   * the test's own requests trust this CA (PEM).
   */
  tlsCa?: string;
  /** The name the test's own calls check the certificate for (default: the address). */
  tlsServername?: string;
}

export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const port = o.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-proc-'));
  const url = `${o.tlsCa ? 'https' : 'http'}://127.0.0.1:${port}`;
  const get = o.tlsCa ? fetchTrusting(o.tlsCa, o.tlsServername) : fetch;
  let out = '';
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  let extraEnv: Record<string, string> = { ...o.env };

  const launch = async () => {
    const proc = spawn(process.execPath, controlPlaneArgs(), {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: o.databaseUrl,
        BERTH_DATA_DIR: dataDir,
        BERTH_ADMIN_TOKEN: PROCESS_ADMIN_TOKEN,
        BERTH_SECRET_KEY: PROCESS_SECRET_KEY,
        BERTH_LOCAL_AGENT: '0',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const collect = (b: Buffer) => {
      out += b.toString();
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    const probe = o.waitForReady === false ? '/healthz' : '/readyz';
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`server exited with ${proc.exitCode}:\n${out.slice(-4000)}`);
      const ok = await get(url + probe, { signal: AbortSignal.timeout(3000) })
        .then(async (r) => {
          await r.body?.cancel();
          return r.status === 200;
        })
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`server did not answer ${probe} at ${url} within 60 s:\n${out.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const signal = async (sig: NodeJS.Signals, forceAfterMs?: number) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(sig);
    const timer = forceAfterMs ? setTimeout(() => proc.kill('SIGKILL'), forceAfterMs) : undefined;
    await exited;
    if (timer) clearTimeout(timer);
  };

  await launch();
  return {
    url,
    port,
    adminToken: PROCESS_ADMIN_TOKEN,
    output: () => out,
    pid: () => child?.pid,
    async call(method, path, body, token = PROCESS_ADMIN_TOKEN) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await get(url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    kill9: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM', 15_000),
    async restart(env) {
      extraEnv = { ...extraEnv, ...env };
      await signal('SIGTERM', 15_000);
      await launch();
    },
    async close() {
      await signal('SIGTERM', 15_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A `fetch` that trusts `ca` (the global one trusts Node's roots only, and cannot be given a CA
 * without undici's classes): node:https under a fetch-shaped function, for the test's own calls.
 */
export function fetchTrusting(ca: string, servername?: string): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const body = typeof init.body === 'string' ? init.body : undefined;
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(
        String(input),
        {
          method: init.method ?? 'GET',
          headers: init.headers as Record<string, string>,
          ca,
          ...(servername ? { servername } : {}),
          signal: init.signal ?? undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
            const status = res.statusCode ?? 0;
            const text = [204, 304].includes(status) ? null : Buffer.concat(chunks);
            resolve(new Response(text, { status, headers }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
      req.end(body);
    });
  }) as typeof fetch;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A forced drop fails while autovacuum works on the database: retry a few times. */
export async function dropDatabase(drop: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await drop();
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The same database reached through another port (a TCP proxy in front of Postgres). */
export function viaPort(databaseUrl: string, port: number): string {
  const u = new URL(databaseUrl);
  u.port = String(port);
  return u.toString();
}
