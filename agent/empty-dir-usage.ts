import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Assignment } from '../common/agent-protocol.ts';
import { formatMemory } from '../common/quantity.ts';
import { type VolumeRoots, volumeDir } from './pod-volumes.ts';

/**
 * A disk emptyDir's `sizeLimit`, as the kubelet enforces it: the agent measures what the
 * directory takes on the disk now and then (only volumes with a limit), and a replica past one is
 * evicted: its containers stopped, reported Failed with the kubelet's reason, and replaced by the
 * controller. A memory emptyDir needs none of this: its tmpfs is that size.
 */

/** Bytes the directory's files take on the disk (blocks, as du counts them; each inode once). */
export async function diskUsage(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0; // gone meanwhile
  }
  for (const name of names) {
    const path = join(dir, name);
    const s = await lstat(path).catch(() => undefined);
    if (!s) continue;
    const key = `${s.dev}:${s.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    total += s.blocks * 512;
    if (s.isDirectory()) total += await diskUsage(path, seen);
  }
  return total;
}

/** The kubelet's words for an emptyDir past its limit. */
export const evictionMessage = (volume: string, limitBytes: number) =>
  `Evicted: Usage of EmptyDir volume "${volume}" exceeds the limit "${formatMemory(limitBytes)}".`;

/** Why the replica must be evicted (its first disk emptyDir past its sizeLimit), or undefined. */
export async function emptyDirOverLimit(
  roots: VolumeRoots,
  a: Pick<Assignment, 'id' | 'volumes'>,
): Promise<string | undefined> {
  for (const v of a.volumes ?? []) {
    const limit = v.emptyDir?.sizeLimitBytes;
    if (limit === undefined || v.emptyDir?.medium === 'Memory') continue;
    if ((await diskUsage(volumeDir(roots, a.id, v))) > limit) return evictionMessage(v.name, limit);
  }
  return undefined;
}

/** Whether the assignment has a volume worth measuring. */
export const hasBoundedDiskEmptyDir = (a: Pick<Assignment, 'volumes'>) =>
  (a.volumes ?? []).some((v) => v.emptyDir?.sizeLimitBytes !== undefined && v.emptyDir.medium !== 'Memory');
