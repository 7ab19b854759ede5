import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The last of its output, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a Node child (its own process: its CPU and memory are its own, readable in /proc). */
export function spawnNode(what: string, args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  const stop = async (graceMs = 5000) => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
  const undo = onCleanup(`stop ${what} (pid ${proc.pid})`, () => stop());
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    stop: async (graceMs) => {
      await stop(graceMs);
      await undo();
    },
  };
}

/** Resolves when `pattern` appears in the child's output; rejects if it exits first or on timeout. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(child.output());
      if (m) {
        done();
        resolve(m);
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`exited (${code}) before printing ${pattern}:\n${child.output().slice(-3000)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${child.output().slice(-3000)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.proc.stdout?.off('data', check);
      child.proc.stderr?.off('data', check);
      child.proc.off('exit', onExit);
    };
    child.proc.stdout?.on('data', check);
    child.proc.stderr?.on('data', check);
    child.proc.once('exit', onExit);
    check();
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ControlPlaneProcess extends Child {
  url: string;
  adminToken: string;
}

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

/** `npm start` as an operator runs it: its own Node process, on the given database, no local agent. */
export async function startControlPlane(args: {
  databaseUrl: string;
  dataDir: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
}): Promise<ControlPlaneProcess> {
  const port = await freePort();
  const child = spawnNode(
    'control plane',
    [...(args.nodeArgs ?? []), '--import', 'tsx', 'workers/entries/node.ts'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: args.databaseUrl,
      BERTH_DATA_DIR: args.dataDir,
      BERTH_ADMIN_TOKEN: ADMIN_TOKEN,
      BERTH_LOCAL_AGENT: '0',
      BERTH_LOG_LEVEL: 'warn',
      ...args.env,
    },
  );
  await waitForOutput(child, /berth listening on/, 60_000);
  return { ...child, url: `http://127.0.0.1:${port}`, adminToken: ADMIN_TOKEN };
}

/** berth-agent as installed machines run it (the single-file bundle), as its own process. */
export function startAgentProcess(args: {
  entry: string;
  server: string;
  joinToken: string;
  name: string;
  dataDir: string;
  env?: Record<string, string>;
}): Child {
  return spawnNode(
    `berth-agent ${args.name}`,
    [
      args.entry,
      '--server',
      args.server,
      '--join-token',
      args.joinToken,
      '--name',
      args.name,
      '--address',
      '127.0.0.1',
      '--data-dir',
      args.dataDir,
    ],
    { BERTH_LOG: 'warn', ...args.env },
  );
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user+system, ms) and resident memory (bytes) of a process, from /proc. */
export function procStat(pid: number): { cpuMs: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return { cpuMs: ((utime + stime) * 1000) / ticksPerSecond(), rssBytes: rssKb * 1024 };
}

export interface Footprint {
  seconds: number;
  /** Share of one core, 0..1 */
  cpuShare: number;
  rssMedianBytes: number;
  rssMaxBytes: number;
}

/** Samples a process for `ms`: CPU share of one core over the window, RSS each second. */
export async function sampleFootprint(pid: number, ms: number): Promise<Footprint> {
  const start = procStat(pid);
  const t0 = performance.now();
  const rss: number[] = [start.rssBytes];
  while (performance.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, Math.min(1000, ms - (performance.now() - t0))));
    rss.push(procStat(pid).rssBytes);
  }
  const end = procStat(pid);
  const wall = performance.now() - t0;
  rss.sort((a, b) => a - b);
  return {
    seconds: wall / 1000,
    cpuShare: (end.cpuMs - start.cpuMs) / wall,
    rssMedianBytes: rss[Math.floor(rss.length / 2)]!,
    rssMaxBytes: rss[rss.length - 1]!,
  };
}
