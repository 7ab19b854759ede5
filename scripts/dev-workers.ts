import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NeonWsProxy, startNeonWsProxy } from '../infra/neon-ws-proxy.ts';

/**
 * `npm run dev:workers`: the Worker in workerd (`wrangler dev`, local mode) against the
 * PostgreSQL in DATABASE_URL. A plain Postgres is reached through a WebSocket-to-TCP proxy
 * started here (the Neon driver only speaks WebSocket); a Neon URL is used directly.
 *
 * Bindings come from this process's environment: DATABASE_URL and BERTH_ADMIN_TOKEN
 * (required), BERTH_SECRET_KEY and any other BERTH_* variable. They travel in a 0600 env file
 * in a temporary directory, not on wrangler's command line where `ps` would show them.
 * Also: PORT (default 8787), HOST (default 127.0.0.1). The cron is fired by hand with
 * `curl "http://127.0.0.1:$PORT/__scheduled?cron=*+*+*+*+*"`.
 */
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const env = process.env;

function fail(message: string): never {
  console.error(`dev:workers: ${message}`);
  process.exit(2);
}

const databaseUrl =
  env.DATABASE_URL?.trim() || fail('set DATABASE_URL (postgres://...) and BERTH_ADMIN_TOKEN');
if (!env.BERTH_ADMIN_TOKEN) fail('set BERTH_ADMIN_TOKEN (at least 16 characters)');
const port = Number(env.PORT || 8787);
const host = env.HOST || '127.0.0.1';

let proxy: NeonWsProxy | undefined;
let proxyUrl = env.BERTH_NEON_WS_PROXY;
if (!proxyUrl && !/\.neon\.tech\b/.test(databaseUrl)) {
  const target = new URL(databaseUrl);
  const targetPort = Number(target.port || 5432);
  // Only the database's own address is reachable through it.
  proxy = await startNeonWsProxy({
    allow: (h, p) =>
      h.replace(/^\[|\]$/g, '') === target.hostname.replace(/^\[|\]$/g, '') && p === targetPort,
  });
  proxyUrl = proxy.url;
}

const bindings: Record<string, string> = {};
for (const [key, value] of Object.entries(env)) {
  if (key.startsWith('BERTH_') && value !== undefined && value !== '') bindings[key] = value;
}
bindings.DATABASE_URL = databaseUrl;
if (proxyUrl) bindings.BERTH_NEON_WS_PROXY = proxyUrl;

const dir = mkdtempSync(join(tmpdir(), 'berth-dev-workers-'));
const envFile = join(dir, 'bindings.env');
writeFileSync(
  envFile,
  Object.entries(bindings)
    .map(([k, v]) => `${k}=${dotenvQuote(k, v)}`)
    .join('\n'),
  {
    mode: 0o600,
  },
);

const wrangler = spawn(
  join(ROOT, 'node_modules/.bin/wrangler'),
  [
    'dev',
    '--config',
    join(ROOT, 'wrangler.toml'),
    '--local',
    '--test-scheduled',
    '--port',
    String(port),
    '--ip',
    host,
    '--inspector-port',
    String(await freePort()),
    '--env-file',
    envFile,
    '--persist-to',
    join(dir, 'state'),
    '--show-interactive-dev-session=false',
  ],
  {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...env,
      // Nothing here may need the internet: no telemetry, and miniflare's built-in
      // request.cf values instead of downloading Cloudflare's.
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      // The bindings are exactly the env file: not the whole environment, never a stray .dev.vars.
      CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'true',
      CLOUDFLARE_INCLUDE_PROCESS_ENV: 'false',
    },
  },
);

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  if (wrangler.exitCode === null) wrangler.kill('SIGTERM');
  await proxy?.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
};
wrangler.on('exit', (code) => void stop(code ?? 1));
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

function dotenvQuote(key: string, value: string): string {
  if (/[\r\n]/.test(value)) fail(`${key} must be one line`);
  // wrangler expands $NAME in env files after parsing them, and turns \$ back into $.
  const escaped = value.replace(/\$/g, '\\$');
  // dotenv: single quotes are literal; double quotes when the value itself holds a single quote.
  if (!escaped.includes("'")) return `'${escaped}'`;
  if (!escaped.includes('"')) return `"${escaped}"`;
  return fail(`${key} may not contain both kinds of quote`);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolvePort(address.port));
    });
  });
}
