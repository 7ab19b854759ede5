import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ServiceMap } from '../../common/agent-protocol.ts';
import { atomicWrite } from '../state-store.ts';

/**
 * The last service map received, beside the agent's other state (`services.json`, 0600, written
 * atomically): an agent restarted while the control plane is away routes with it at once.
 */
export const SavedServiceMap = z.object({
  server: z.string(),
  name: z.string(),
  map: ServiceMap,
  savedAt: z.string(),
});
export type SavedServiceMap = z.infer<typeof SavedServiceMap>;

const FILE = 'services.json';

export async function loadServiceMap(dir: string): Promise<SavedServiceMap | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const parsed = SavedServiceMap.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${join(dir, FILE)} is not valid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Writes are queued per process so that an older map never lands after a newer one. */
let writes: Promise<void> = Promise.resolve();
export function saveServiceMap(dir: string, saved: SavedServiceMap): Promise<void> {
  const next = writes.then(() => atomicWrite(join(dir, FILE), `${JSON.stringify(saved)}\n`));
  writes = next.catch(() => {});
  return next;
}
