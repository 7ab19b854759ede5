import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrateDatabase } from '../../../db/migrate.ts';
import { openDatabase } from '../../../db/node-database.ts';
import { type NeonWsProxy, startNeonWsProxy } from '../../../infra/neon-ws-proxy.ts';
import { freshPostgres } from '../../support/databases.ts';

/**
 * The control plane as users start it, once per runtime, each on a fresh database of the real
 * PostgreSQL server: `npm start` (Node), `npm run dev:workers` (workerd through wrangler and
 * the Neon driver's WebSocket proxy), `npm run start:deno` (Deno, node-postgres over TCP) and
 * `npm run start:deno` with BERTH_NEON_WS_PROXY (Deno over the Neon driver, as on Deno Deploy
 * with Neon).
 */
export type RuntimeName = 'node' | 'workerd' | 'deno' | 'deno-neon';
export const RUNTIMES: RuntimeName[] = ['node', 'workerd', 'deno', 'deno-neon'];

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ADMIN_TOKEN = 'contract-admin-token-0123456789abcdef';
const SECRET_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

export interface LiveServer {
  runtime: RuntimeName;
  url: string;
  /** Its PostgreSQL database, which another copy may be started on. */
  databaseUrl: string;
  /** Workers answer long-polls at once; Node and Deno hold them. */
  holdsLongPolls: boolean;
  /** Run SQL on this server's database, behind the API's back. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Fire the Workers cron (wrangler's --test-scheduled endpoint); Workers only. */
  fireCron?: () => Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

const SCRIPTS: Record<RuntimeName, string[]> = {
  node: ['start'],
  workerd: ['run', 'dev:workers'],
  deno: ['run', 'start:deno'],
  'deno-neon': ['run', 'start:deno'],
};

/** What the Deno entry prints about its database: each Deno tier must run the driver it is named for. */
const DRIVER_LINE: Partial<Record<RuntimeName, string>> = {
  deno: 'database over node-postgres',
  'deno-neon': 'database over Neon driver',
};

export async function startRuntime(
  runtime: RuntimeName,
  extraEnv: Record<string, string> = {},
  /** Another copy on `databaseUrl` (migrated already, and dropped by the copy that made it). */
  options: { databaseUrl?: string; port?: number } = {},
): Promise<LiveServer> {
  const database = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => {} }
    : await freshPostgres();
  let proc: ChildProcess | undefined;
  let pool: pg.Pool | undefined;
  let proxy: NeonWsProxy | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), `berth-contract-${runtime}-`));
  let out = '';
  const cleanup = async () => {
    if (proc) await stopGroup(proc);
    await proxy?.close();
    await pool?.end().catch(() => {});
    await dropWithRetry(database.drop);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (runtime !== 'node' && !options.databaseUrl) {
      // Edge runtimes never migrate at start (`npm run db:migrate` is a deploy step).
      const handle = await openDatabase({ url: database.url, dataDir });
      try {
        await migrateDatabase(handle);
      } finally {
        await handle.close();
      }
    }
    if (runtime === 'deno-neon') proxy = await startNeonWsProxy();
    const port = options.port ?? (await freePort());
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dataDir,
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      BERTH_ADMIN_TOKEN: ADMIN_TOKEN,
      BERTH_SECRET_KEY: SECRET_KEY,
      BERTH_DATA_DIR: dataDir,
      BERTH_LOCAL_AGENT: '0',
      ...(proxy ? { BERTH_NEON_WS_PROXY: proxy.url } : {}),
      ...extraEnv,
    };
    proc = spawn('npm', SCRIPTS[runtime], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (b: Buffer) => {
      out += b.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    const url = `http://127.0.0.1:${port}`;
    // A bound for a loaded machine (CI runs every tier at once, beside other jobs); it fails only a hung start.
    await waitReady(url, proc, () => out, 240_000);
    const driver = DRIVER_LINE[runtime];
    if (driver && !out.includes(driver)) throw new Error(`expected "${driver}" in its start-up line`);
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    const db = pool;
    const server: LiveServer = {
      runtime,
      url,
      databaseUrl: database.url,
      holdsLongPolls: runtime !== 'workerd',
      sql: async (text, params) => (await db.query(text, params as unknown[])).rows,
      output: () => out,
      stop: cleanup,
    };
    if (runtime === 'workerd') {
      server.fireCron = async () => {
        const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
        const text = await res.text();
        if (!res.ok) throw new Error(`cron: ${res.status} ${text}`);
      };
    }
    return server;
  } catch (e) {
    await cleanup().catch(() => {});
    throw new Error(`${runtime} did not start: ${(e as Error).message}\n--- output ---\n${out.slice(-4000)}`);
  }
}

async function waitReady(
  url: string,
  proc: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready at ${url} within ${timeoutMs} ms (${output().length} bytes of output)`);
}

/** npm, its shell, wrangler and workerd are one process group: stop them all, by that group's id. */
async function stopGroup(proc: ChildProcess): Promise<void> {
  const pid = proc.pid;
  if (!pid) return;
  const signal = (s: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, s);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  if (!signal('SIGTERM')) return;
  // Graceful first (long-polls are woken, pools closed); whatever is left after that is killed.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && signal(0)) await new Promise((r) => setTimeout(r, 100));
  signal('SIGKILL');
}

/** A forced drop fails while autovacuum (a superuser process) works on the database: retry. */
async function dropWithRetry(drop: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await drop();
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
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
