import { statfs } from 'node:fs/promises';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';
import { allocatableDisk, allocatableOf } from './node-disk.ts';

const engineAt = (root: string | undefined) =>
  ({ info: async () => ({ DockerRootDir: root }) }) as unknown as Docker;

describe('the ephemeral storage an agent reports', () => {
  it('is 90% of the filesystem of the engine’s data root, as the kubelet keeps 10% free', async () => {
    const fs = await statfs('/');
    expect(await allocatableDisk(engineAt('/'), createLogger('silent'))).toBe(
      allocatableOf(fs.blocks * fs.bsize),
    );
    expect(allocatableOf(100 * 1024 ** 3)).toBe(90 * 1024 ** 3);
  });

  it('is unknown, with a warning, when the data root is out of the agent’s sight', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', (line: string) => lines.push(line));
    expect(await allocatableDisk(engineAt('/no/such/data-root'), log)).toBeUndefined();
    expect(await allocatableDisk(engineAt(undefined), log)).toBeUndefined();
    expect(lines.join('\n')).toMatch(/ephemeral-storage requests will not fit here/);
  });
});
