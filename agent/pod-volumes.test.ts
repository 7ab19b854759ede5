import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Assignment } from '../common/agent-protocol.ts';
import type { AssignedVolume } from '../common/volumes.ts';
import { planContainers } from './container-spec.ts';
import { createLogger } from './log.ts';
import {
  checkHostPath,
  type Mounter,
  openBeneath,
  PodVolumes,
  planMounts,
  subPathSource,
  sweepVolumes,
  type VolumeRoots,
  writeVolumeFiles,
} from './pod-volumes.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const log = createLogger('silent');

let base: string;
let roots: VolumeRoots;
/** Records tmpfs mounts instead of making them (a unit test runs without root). */
let mounts: string[];
const mounter: Mounter = {
  async mountTmpfs(dir, o) {
    mounts.push(`mount ${dir} ${o.mode.toString(8)} ${o.sizeBytes ?? ''}`);
  },
  async bind(source, target) {
    mounts.push(`bind ${source} ${target}`);
  },
  async unmount(dir) {
    mounts.push(`umount ${dir}`);
  },
};

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-volumes-'));
  roots = { memory: join(base, 'memory', 'n1'), disk: join(base, 'disk') };
  mounts = [];
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const config = (text: string, extra: Partial<AssignedVolume> = {}): AssignedVolume => ({
  name: 'config',
  configMap: { files: [{ path: 'app.conf', mode: 0o644, data: b64(text) }] },
  ...extra,
});

function assignment(
  volumes: AssignedVolume[],
  mounts: NonNullable<Assignment['containers'][0]['volumeMounts']>,
): Assignment {
  return {
    id: 'r1',
    namespace: 'default',
    deployment: 'web',
    revision: 1,
    desired: 'running',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    drainDelaySeconds: 0,
    volumes,
    containers: [
      {
        name: 'web',
        image: 'web:1',
        imagePullPolicy: 'IfNotPresent',
        env: [],
        ports: [],
        resources: {},
        volumeMounts: mounts,
      },
    ],
  };
}

describe('writeVolumeFiles', () => {
  it("lays files out as Kubernetes' atomic writer does: ..data to a timestamped dir, each name through ..data", async () => {
    const dir = join(base, 'v');
    await writeFile(join(base, 'probe'), ''); // the base exists
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    const files = [
      { path: 'app.conf', mode: 0o644, data: b64('a=1\n') },
      { path: 'keys/tls.key', mode: 0o400, data: b64('secret') },
    ];
    expect(await writeVolumeFiles(dir, files, new Date('2026-12-05T02:40:00.123Z'))).toBe(true);
    const entries = (await readdir(dir)).sort();
    expect(entries).toEqual([
      expect.stringMatching(/^\.\.2026_12_05_02_40_00\.123\.[0-9a-f]{12}$/),
      '..data',
      'app.conf',
      'keys',
    ]);
    expect(await readlink(join(dir, '..data'))).toBe(entries[0]);
    expect(await readlink(join(dir, 'app.conf'))).toBe('..data/app.conf');
    expect(await readlink(join(dir, 'keys'))).toBe('..data/keys');
    expect(await readFile(join(dir, 'app.conf'), 'utf8')).toBe('a=1\n');
    expect((await stat(join(dir, 'keys', 'tls.key'))).mode & 0o777).toBe(0o400);
    expect((await stat(join(dir, 'app.conf'))).mode & 0o777).toBe(0o644);
    // The same files again: nothing is written.
    expect(await writeVolumeFiles(dir, [...files].reverse(), new Date('2026-12-05T02:41:00Z'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(entries);
  });

  it('swaps new files in through ..data, drops names no longer there and the old version', async () => {
    const dir = join(base, 'v');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    await writeVolumeFiles(
      dir,
      [
        { path: 'a', mode: 0o644, data: b64('old') },
        { path: 'b', mode: 0o644, data: b64('gone') },
      ],
      new Date('2026-12-05T02:40:00Z'),
    );
    const before = await readlink(join(dir, '..data'));
    expect(
      await writeVolumeFiles(
        dir,
        [{ path: 'a', mode: 0o644, data: b64('new') }],
        new Date('2026-12-05T02:40:05Z'),
      ),
    ).toBe(true);
    const after = await readlink(join(dir, '..data'));
    expect(after).not.toBe(before);
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('new');
    expect((await readdir(dir)).sort()).toEqual([after, '..data', 'a']);
  });
});

describe('PodVolumes', () => {
  it('makes each kind where it belongs: disk emptyDir 0777, memory emptyDir a tmpfs of its size, files under the memory root', async () => {
    const a = assignment(
      [
        { name: 'cache', emptyDir: { medium: '' } },
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimitBytes: 1 << 20 } },
        config('x=1'),
      ],
      [],
    );
    await new PodVolumes({ roots, mounter, log }, 'r1').prepare(a);
    expect((await stat(join(roots.disk, 'r1', 'cache'))).mode & 0o777).toBe(0o777);
    expect(mounts).toEqual([
      // The temporary directory is on disk: the root gets a tmpfs before anything goes in it.
      `mount ${roots.memory} 700 `,
      `mount ${join(roots.memory, 'r1', 'scratch')} 777 1048576`,
    ]);
    expect(await readFile(join(roots.memory, 'r1', 'config', 'app.conf'), 'utf8')).toBe('x=1');
  });

  it('refuses to write a secret where no tmpfs is, with the reason', async () => {
    const v = new PodVolumes({ roots, mounter, log }, 'r1');
    await expect(
      v.prepare(
        assignment([{ name: 'tls', secret: { files: [{ path: 'k', mode: 0o400, data: b64('k') }] } }], []),
      ),
    ).rejects.toThrow(/volume "tls": .* is not a tmpfs/);
  });

  it('writes configMap files, swaps them on a new assignment and removes everything with the replica', async () => {
    const v = new PodVolumes({ roots, mounter, log }, 'r1');
    await v.prepare(assignment([config('v1'), { name: 'cache', emptyDir: { medium: '' } }], []));
    const file = join(roots.memory, 'r1', 'config', 'app.conf');
    expect(await readFile(file, 'utf8')).toBe('v1');
    await v.prepare(assignment([config('v2'), { name: 'cache', emptyDir: { medium: '' } }], []));
    expect(await readFile(file, 'utf8')).toBe('v2');
    await v.remove();
    await expect(stat(join(roots.memory, 'r1'))).rejects.toThrow();
    await expect(stat(join(roots.disk, 'r1'))).rejects.toThrow();
  });

  it('refuses a subPath whose symlink leads out of the volume', async () => {
    const v = new PodVolumes({ roots, mounter, log }, 'r1');
    const { symlink } = await import('node:fs/promises');
    await v.prepare(assignment([config('v1')], []));
    await symlink('/etc', join(roots.memory, 'r1', 'config', 'escape'));
    await expect(
      v.prepare(
        assignment([config('v1')], [{ name: 'config', mountPath: '/x', readOnly: false, subPath: 'escape' }]),
      ),
    ).rejects.toThrow(/leads out of the volume/);
  });

  it('sweeps the volumes of replicas that are gone, and keeps the others', async () => {
    for (const r of ['r1', 'r2'])
      await new PodVolumes({ roots, mounter, log }, r).prepare(assignment([config('x')], []));
    expect(await sweepVolumes(roots, new Set(['r1']), mounter)).toEqual(['r2']);
    expect(await readdir(roots.memory)).toEqual(['r1']);
  });
});

describe('planMounts', () => {
  const a = assignment(
    [
      { name: 'cache', emptyDir: { medium: '' } },
      config('v1'),
      { name: 'mem', emptyDir: { medium: 'Memory' } },
    ],
    [
      { name: 'cache', mountPath: '/cache', readOnly: false },
      { name: 'config', mountPath: '/etc/app', readOnly: false },
      { name: 'config', mountPath: '/etc/app.conf', readOnly: false, subPath: 'app.conf' },
      { name: 'mem', mountPath: '/tmp', readOnly: true },
    ],
  );

  it('binds each volume directory, configMap and secret volumes read-only, a subPath to its file', () => {
    expect(planMounts(a, a.containers[0]!, roots)).toEqual([
      { source: join(roots.disk, 'r1', 'cache'), target: '/cache', readOnly: false },
      { source: join(roots.memory, 'r1', 'config'), target: '/etc/app', readOnly: true },
      { source: join(roots.memory, 'r1', 'config', 'app.conf'), target: '/etc/app.conf', readOnly: true },
      { source: join(roots.memory, 'r1', 'mem'), target: '/tmp', readOnly: true },
    ]);
  });

  it('leaves the container spec hash alone when only the files change, so no container is recreated', () => {
    const [before] = planContainers(a, 'n1', '127.0.0.1', undefined, roots);
    const changed = { ...a, volumes: [a.volumes![0]!, config('v2'), a.volumes![2]!] };
    const [after] = planContainers(changed, 'n1', '127.0.0.1', undefined, roots);
    expect(after!.hash).toBe(before!.hash);
    expect(after!.spec.mounts).toHaveLength(4);
    // A container without mounts hashes as it did before volumes existed.
    const plain = {
      ...a,
      volumes: undefined,
      containers: [{ ...a.containers[0]!, volumeMounts: undefined }],
    };
    expect(planContainers(plain, 'n1', '127.0.0.1')[0]!.spec).not.toHaveProperty('mounts');
  });
});

describe('hostPath volumes', () => {
  const host = (path: string, type: string): AssignedVolume => ({ name: 'h', hostPath: { path, type } });

  it('checks what is there as the kubelet does, making what the ...OrCreate types ask for', async () => {
    const dir = join(base, 'node');
    expect(await checkHostPath(join(dir, 'made'), 'DirectoryOrCreate')).toBeUndefined();
    expect((await stat(join(dir, 'made'))).isDirectory()).toBe(true);
    expect(await checkHostPath(join(dir, 'sub', 'f.log'), 'FileOrCreate')).toBeUndefined();
    expect((await stat(join(dir, 'sub', 'f.log'))).isFile()).toBe(true);
    expect(await checkHostPath(join(dir, 'missing'), 'Directory')).toBe(
      `hostPath type check failed: ${join(dir, 'missing')} is not a directory`,
    );
    expect(await checkHostPath(join(dir, 'made'), 'File')).toMatch(/is not a file$/);
    expect(await checkHostPath(join(dir, 'sub', 'f.log'), 'Socket')).toMatch(/is not a socket file$/);
    expect(await checkHostPath(join(dir, 'nothing'), '')).toBeUndefined();
  });

  it('binds the node path itself (never under the volume roots, never removed), and keeps a missing Directory from starting', async () => {
    const path = join(base, 'logs');
    const a = {
      id: 'r1',
      volumes: [host(path, 'DirectoryOrCreate')],
      containers: [{ volumeMounts: [{ name: 'h', mountPath: '/logs', readOnly: false }] }],
    } as unknown as Assignment;
    expect(planMounts(a, a.containers[0]!, roots)).toEqual([
      { source: path, target: '/logs', readOnly: false },
    ]);
    const volumes = new PodVolumes({ roots, mounter, log }, 'r1');
    await volumes.prepare(a);
    expect(mounts).toEqual([]); // no tmpfs for a pod with only a hostPath
    await volumes.remove();
    expect((await stat(path)).isDirectory()).toBe(true);
    const missing = new PodVolumes({ roots, mounter, log }, 'r2');
    await expect(
      missing.prepare({ volumes: [host(join(base, 'absent'), 'Directory')], containers: [] }),
    ).rejects.toThrow(`volume "h": hostPath type check failed: ${join(base, 'absent')} is not a directory`);
  });
});

describe('fsGroup', () => {
  it("gives the pod's volumes to its fsGroup: files group-readable, directories setgid", async () => {
    const dir = join(base, 'files');
    await mkdir(dir, { recursive: true });
    const files = [
      { path: 'keys/tls.key', mode: 0o400, data: b64('k') },
      { path: 'app.conf', mode: 0o644, data: b64('c') },
    ];
    expect(await writeVolumeFiles(dir, files, new Date(), 2345)).toBe(true);
    const key = await stat(join(dir, 'keys', 'tls.key'));
    expect([key.mode & 0o7777, key.gid]).toEqual([0o440, 2345]);
    expect((await stat(join(dir, 'app.conf'))).mode & 0o7777).toBe(0o644);
    const keys = await stat(join(dir, 'keys'));
    expect([keys.mode & 0o7777, keys.gid]).toEqual([0o2755, 2345]);
    // The same files without the group are new files: written again, as they were sent.
    expect(await writeVolumeFiles(dir, files, new Date(), undefined)).toBe(true);
    expect((await stat(join(dir, 'keys', 'tls.key'))).mode & 0o7777).toBe(0o400);

    const volumes = new PodVolumes({ roots, mounter, log }, 'r1');
    const scratch: AssignedVolume = { name: 'scratch', emptyDir: { medium: '' } };
    await volumes.prepare({
      volumes: [scratch],
      containers: [{ securityContext: { fsGroup: 2345 } }],
    } as unknown as Assignment);
    const made = await stat(join(roots.disk, 'r1', 'scratch'));
    expect([made.mode & 0o7777, made.gid]).toEqual([0o2777, 2345]);
  });
});

describe('subPath into an emptyDir', () => {
  it('opens the path one component at a time, making what is missing, and refuses a symlink anywhere', async () => {
    const dir = join(base, 'vol');
    await mkdir(dir, { recursive: true });
    const held = await openBeneath(dir, 'cache/app');
    expect((await held.stat()).isDirectory()).toBe(true);
    await held.close();
    expect((await stat(join(dir, 'cache', 'app'))).mode & 0o777).toBe(0o777);
    await symlink('/etc', join(dir, 'escape'));
    await expect(openBeneath(dir, 'escape')).rejects.toThrow(/symlink/);
    await expect(openBeneath(dir, 'escape/passwd')).rejects.toThrow(/symlink/);
    await symlink(join(dir, 'cache'), join(dir, 'inside'));
    await expect(openBeneath(dir, 'inside/app')).rejects.toThrow(/symlink/);
  });

  it('binds what it holds open onto a path no container reaches, and unbinds it with the replica', async () => {
    const a = {
      id: 'r1',
      volumes: [{ name: 'data', emptyDir: { medium: '' } }],
      containers: [
        { volumeMounts: [{ name: 'data', mountPath: '/var/cache', readOnly: false, subPath: 'cache' }] },
      ],
    } as unknown as Assignment;
    const [mount] = planMounts(a, a.containers[0]!, roots);
    expect(mount).toEqual({
      source: subPathSource(roots, 'r1', 'data', 'cache'),
      target: '/var/cache',
      readOnly: false,
    });
    expect(mount!.source.startsWith(join(roots.disk, 'r1', '..subpaths'))).toBe(true);
    const volumes = new PodVolumes({ roots, mounter, log }, 'r1');
    await volumes.prepare(a);
    expect(mounts.filter((m) => m.startsWith('bind'))).toEqual([
      expect.stringMatching(new RegExp(`^bind /proc/${process.pid}/fd/\\d+ ${mount!.source}$`)),
    ]);
    expect((await stat(join(roots.disk, 'r1', 'data', 'cache'))).isDirectory()).toBe(true);
    mounts = [];
    await volumes.remove();
    expect(mounts).toContain(`umount ${mount!.source}`);
  });
});
