import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { buildCliBundle } from '../../../cli/build.ts';

/**
 * Runs the `berth` CLI or the Action bundle as a real process and collects what it printed. The
 * CLI runs as the single-file build users install (`npm run build:cli`), built once per test
 * file: each command then starts in a quarter of the CPU time `bin/berth.mjs` spends compiling
 * the sources through tsx, which on a busy machine was most of these files' time.
 * `berthCheckoutCli` runs `bin/berth.mjs` itself, for the check that the checkout's entry works.
 */

export const ROOT = join(import.meta.dirname, '..', '..', '..');

let bundle: Promise<string> | undefined;

/** dist/berth.mjs's twin, in a directory of this process's own (test files run side by side). */
function cliBundle(): Promise<string> {
  bundle ??= (async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'berth-cli-')), 'berth.mjs');
    await buildCliBundle(outfile);
    return outfile;
  })();
  return bundle;
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNode(
  script: string,
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    input?: string;
    cwd?: string;
    timeoutMs?: number;
  } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [resolvePath(ROOT, script), ...args], {
      cwd: options.cwd ?? ROOT,
      // Only what the test gives: no BERTH_* or INPUT_* leaks in from the developer's shell.
      env: { PATH: process.env.PATH, ...options.env } as NodeJS.ProcessEnv,
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
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export const berthCli = async (args: string[], options: Parameters<typeof runNode>[2] = {}) =>
  runNode(await cliBundle(), args, options);

export const berthCheckoutCli = (args: string[], options: Parameters<typeof runNode>[2] = {}) =>
  runNode('bin/berth.mjs', args, options);

export interface RunningProcess {
  /** Resolves with the first stdout line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Ctrl-C, then the result. */
  interrupt(): Promise<ProcessResult>;
}

/** A long-running `berth` (port-forward) that the test stops with SIGINT, as a user would. */
export async function startCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<RunningProcess> {
  const child = spawn(process.execPath, [await cliBundle(), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const closed = new Promise<ProcessResult>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    async line(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(stdout);
        if (m) return m;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no line matching ${pattern}; stdout: ${stdout}; stderr: ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async interrupt() {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await closed;
      clearTimeout(timer);
      return result;
    },
  };
}
