import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Assignment } from '../common/agent-protocol.ts';

/** The node's credential as issued by POST /v1/agent/register, with what it was issued for. */
export const StoredCredential = z.object({
  server: z.string(),
  name: z.string(),
  nodeId: z.string(),
  nodeToken: z.string(),
  labels: z.record(z.string(), z.string()).default({}),
  address: z.string().optional(),
  /** What it registered offering (session.ts offered()): a change registers again. */
  offered: z.string().optional(),
  /** SHA-256 of the join token the credential came from: that token is never spent again. */
  joinTokenSha256: z.string().optional(),
});
export type StoredCredential = z.infer<typeof StoredCredential>;

/** The last assignment set received, kept so an agent restarted during an outage keeps serving it. */
export const StoredAssignments = z.object({
  server: z.string(),
  name: z.string(),
  etag: z.string().optional(),
  replicas: z.array(Assignment),
  savedAt: z.string(),
});
export type StoredAssignments = z.infer<typeof StoredAssignments>;

/** Running containers past their startup probe (startup-ledger.ts). */
const StartedContainers = z.object({ ids: z.array(z.string()) });

/**
 * Files in the agent's data dir. Both hold secrets (the node token; resolved env values and
 * registry passwords), so the dir is 0700 and the files 0600, and every write is atomic
 * (temporary file, fsync, rename): a crash leaves the old or the new version, never half.
 */
export class StateStore {
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700).catch(() => {});
  }

  loadCredential(): Promise<StoredCredential | undefined> {
    return this.read('node.json', StoredCredential);
  }

  saveCredential(c: StoredCredential): Promise<void> {
    return this.write('node.json', c);
  }

  loadAssignments(): Promise<StoredAssignments | undefined> {
    return this.read('assignments.json', StoredAssignments);
  }

  saveAssignments(a: StoredAssignments): Promise<void> {
    return this.write('assignments.json', a);
  }

  loadStartedContainers(): Promise<string[] | undefined> {
    return this.read('started.json', StartedContainers).then((s) => s?.ids);
  }

  saveStartedContainers(ids: string[]): Promise<void> {
    return this.write('started.json', { ids });
  }

  private async read<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir, file), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const parsed = schema.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(`${join(this.dir, file)} is not valid: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  /** Writes are queued so that a later state never lands before an earlier one. */
  private write(file: string, value: unknown): Promise<void> {
    const next = this.writes.then(() => atomicWrite(join(this.dir, file), `${JSON.stringify(value)}\n`));
    this.writes = next.catch(() => {});
    return next;
  }
}

export async function atomicWrite(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(tmp, mode);
  await rename(tmp, path);
}
