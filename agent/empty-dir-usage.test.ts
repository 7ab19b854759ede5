import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diskUsage, emptyDirOverLimit, evictionMessage, hasBoundedDiskEmptyDir } from './empty-dir-usage.ts';
import type { VolumeRoots } from './pod-volumes.ts';

let base: string;
let roots: VolumeRoots;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-usage-'));
  roots = { memory: join(base, 'memory'), disk: join(base, 'disk') };
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('disk emptyDir sizeLimit', () => {
  it("measures what the directory takes on the disk and says the kubelet's reason past the limit", async () => {
    const dir = join(roots.disk, 'r1', 'cache');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub', 'a'), Buffer.alloc(300 * 1024, 1));
    expect(await diskUsage(dir)).toBeGreaterThanOrEqual(300 * 1024);
    const a = (sizeLimitBytes: number) => ({
      id: 'r1',
      volumes: [{ name: 'cache', emptyDir: { medium: '' as const, sizeLimitBytes } }],
    });
    expect(await emptyDirOverLimit(roots, a(1024 ** 2))).toBeUndefined();
    expect(await emptyDirOverLimit(roots, a(256 * 1024))).toBe(
      'Evicted: Usage of EmptyDir volume "cache" exceeds the limit "256Ki".',
    );
    expect(evictionMessage('cache', 10 * 1024 ** 2)).toBe(
      'Evicted: Usage of EmptyDir volume "cache" exceeds the limit "10Mi".',
    );
  });

  it('measures only disk emptyDirs with a limit', () => {
    expect(
      hasBoundedDiskEmptyDir({ volumes: [{ name: 'm', emptyDir: { medium: 'Memory', sizeLimitBytes: 1 } }] }),
    ).toBe(false);
    expect(hasBoundedDiskEmptyDir({ volumes: [{ name: 'd', emptyDir: { medium: '' } }] })).toBe(false);
    expect(
      hasBoundedDiskEmptyDir({ volumes: [{ name: 'd', emptyDir: { medium: '', sizeLimitBytes: 1 } }] }),
    ).toBe(true);
  });
});
