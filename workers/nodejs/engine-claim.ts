import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type EngineClaim =
  | { claimed: true; release(): void }
  | { claimed: false; heldBy: number; file: string };

/**
 * One local agent per Docker Engine. A second `npm start` on the same machine would register
 * its own node `local` and, finding the first one's containers labelled `local` but not
 * assigned to it, remove them. The first process to claim the engine (a pid file named after
 * the engine's address, in the temp dir) runs the local agent; a claim whose process is gone is
 * taken over.
 */
export function claimEngine(o: { engine?: string; dir?: string; pid?: number } = {}): EngineClaim {
  const engine = o.engine ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const pid = o.pid ?? process.pid;
  const key = createHash('sha256').update(engine).digest('hex').slice(0, 12);
  const file = join(o.dir ?? tmpdir(), `berth-local-agent-${key}.pid`);
  for (;;) {
    try {
      writeFileSync(file, String(pid), { flag: 'wx' });
      return {
        claimed: true,
        release: () => {
          if (readPid(file) === pid) rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readPid(file);
    if (holder !== undefined && holder !== pid && isAlive(holder))
      return { claimed: false, heldBy: holder, file };
    // Its process is gone (or it is ours from before): take it over.
    rmSync(file, { force: true });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
