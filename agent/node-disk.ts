import { statfs } from 'node:fs/promises';
import type Docker from 'dockerode';
import { errorMessage, type Logger } from './log.ts';

/**
 * The share of a filesystem that replicas may ask for as ephemeral-storage: the kubelet keeps the
 * last 10% free (its default hard eviction threshold, nodefs.available<10%), so does Berth.
 */
export const ALLOCATABLE_SHARE = 0.9;

/** What replicas may ask of a filesystem of `totalBytes`. */
export function allocatableOf(totalBytes: number): number {
  return Math.floor(totalBytes * ALLOCATABLE_SHARE);
}

/**
 * The allocatable ephemeral storage of the node: the filesystem of Docker's data root, where
 * containers' writable layers and logs live. Undefined, with a warning, when the agent cannot see
 * it (a remote engine, or a data root outside the agent's mount namespace): then ephemeral-storage
 * requests do not fit this node.
 */
export async function allocatableDisk(docker: Docker, log: Logger): Promise<number | undefined> {
  let root: string | undefined;
  try {
    root = ((await docker.info()) as { DockerRootDir?: string }).DockerRootDir;
    if (!root) throw new Error('the engine names no data root');
    const fs = await statfs(root);
    return allocatableOf(fs.blocks * fs.bsize);
  } catch (e) {
    log.warn(
      'cannot measure the disk of the Docker data root: ephemeral-storage requests will not fit here',
      {
        dataRoot: root ?? 'unknown',
        error: errorMessage(e),
      },
    );
    return undefined;
  }
}
