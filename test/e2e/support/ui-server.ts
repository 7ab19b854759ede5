import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneArgs } from '../../support/launch.ts';
import { seedPglite } from '../../support/pglite-template.ts';

/**
 * The real control plane as `npm start` runs it (its bundle: test/support/launch.ts),
 * on a free port with a throwaway data dir and no local Docker agent.
 */
export interface BerthServer {
  url: string;
  adminToken: string;
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** JSON call with the admin token (or `token`). */
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

const ROOT = join(import.meta.dirname, '..', '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `env`: configuration of the test's own (a trusted OIDC issuer), over the defaults below. */
export async function startBerthServer(env: Record<string, string> = {}): Promise<BerthServer> {
  // A free port can be taken by a test beside this one before the server binds it: then again on another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env);
    } catch (e) {
      if (attempt < 3 && /EADDRINUSE/.test(String(e))) continue;
      throw e;
    }
  }
}

async function startOnce(env: Record<string, string>): Promise<BerthServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-ui-e2e-'));
  if (!process.env.DATABASE_URL) await seedPglite(dataDir);
  const adminToken = `ui-e2e-admin-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(process.execPath, controlPlaneArgs(), {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      BERTH_DATA_DIR: dataDir,
      BERTH_ADMIN_TOKEN: adminToken,
      BERTH_LOCAL_AGENT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d) => {
    log += String(d);
  });
  child.stderr?.on('data', (d) => {
    log += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;

  // A bound for a loaded machine, where a start has taken over 90 s; it fails only a hung one.
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`berth server exited with ${child.exitCode}:\n${log}`);
    const ok = await fetch(`${url}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`berth server did not answer /healthz within 240 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    adminToken,
    output: () => log,
    async call(method, path, body, token = adminToken) {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
