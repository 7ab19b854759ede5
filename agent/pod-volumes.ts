import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import {
  chmod,
  chown,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  statfs,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import type { AssignedContainer, Assignment } from '../common/agent-protocol.ts';
import type { AssignedVolume, AssignedVolumeFile } from '../common/volumes.ts';
import type { Logger } from './log.ts';
import { podFsGroup } from './security-context.ts';

/**
 * A replica's volumes on this node, laid out as the kubelet lays them out, each a directory
 * bind-mounted into the containers that mount it:
 *
 *   <memory root>/<replica>/<volume>/   configMap and secret files, and emptyDir medium: Memory
 *                                       (a tmpfs of its own, sized by sizeLimit)
 *   <disk root>/<replica>/<volume>/     emptyDir on disk (0777, as the kubelet makes it)
 *
 * The memory root is on a tmpfs (the agent mounts one there when it is not), so secret files
 * never reach a disk. A configMap or secret volume is written as Kubernetes' atomic writer does:
 *
 *   ..2026_12_05_02_40_00.123.<hash>/   the files, with their modes
 *   ..data -> ..2026_...                 swapped by one rename, so a reader sees all old or all new
 *   <key> -> ..data/<key>                what the container opens
 *
 * Nothing here is part of a container's spec hash but the paths, so new files never recreate a
 * container. The directories outlive container restarts and agent restarts (prepare is
 * idempotent) and are removed with the replica.
 */

export interface VolumeRoots {
  /** On a tmpfs: configMap, secret and memory emptyDir volumes (per node: agents may share the directory). */
  memory: string;
  /** On disk: emptyDir volumes. */
  disk: string;
}

/** Where volumes go without --volume-dir and --data-dir (a root agent's defaults). */
export const defaultVolumeRoots = (node: string): VolumeRoots => ({
  memory: join('/run/berth/volumes', node),
  disk: '/var/lib/berth-agent/volumes',
});

/** Linux's statfs f_type of a tmpfs. */
const TMPFS_MAGIC = 0x01021994;

const isOnDisk = (v: AssignedVolume) => v.emptyDir !== undefined && v.emptyDir.medium !== 'Memory';

export function volumeDir(roots: VolumeRoots, replica: string, v: AssignedVolume): string {
  // The node's own path: never made or removed with the replica.
  if (v.hostPath) return v.hostPath.path;
  return join(isOnDisk(v) ? roots.disk : roots.memory, replica, v.name);
}

/** A directory of the node bound into a container. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/**
 * The container's mounts, in its order: pure, from paths alone. configMap and secret volumes are
 * always read-only, as the kubelet mounts them. A subPath binds that file or directory of the
 * volume, so it keeps what it held at the container's start (as in Kubernetes).
 */
export function planMounts(
  a: Pick<Assignment, 'id' | 'volumes'>,
  c: Pick<AssignedContainer, 'volumeMounts'>,
  roots: VolumeRoots,
): BindMount[] {
  return (c.volumeMounts ?? []).flatMap((m) => {
    const v = a.volumes?.find((x) => x.name === m.name);
    // A claim is a Docker volume, not a directory of the agent's (agent/claim-volumes.ts).
    if (!v || v.persistentVolumeClaim) return [];
    const dir = volumeDir(roots, a.id, v);
    // A container may write an emptyDir: its subPath is bound from where none can reach it.
    const sub = m.subPath && v.emptyDir ? subPathSource(roots, a.id, v.name, m.subPath) : undefined;
    return [
      {
        source: sub ?? (m.subPath ? join(dir, m.subPath) : dir),
        target: m.mountPath,
        readOnly: m.readOnly || (v.emptyDir === undefined && v.hostPath === undefined),
      },
    ];
  });
}

/** Mounting and unmounting tmpfs file systems: the system's `mount`, or a fake in tests. */
export interface Mounter {
  mountTmpfs(dir: string, options: { sizeBytes?: number; mode: number }): Promise<void>;
  /** Binds `source` (a /proc/<pid>/fd/<n> path: what the agent holds open) onto `target`. */
  bind(source: string, target: string): Promise<void>;
  unmount(dir: string): Promise<void>;
}

const run = promisify(execFile);

export const systemMounter: Mounter = {
  async mountTmpfs(dir, { sizeBytes, mode }) {
    const o = [`mode=${mode.toString(8).padStart(4, '0')}`, ...(sizeBytes ? [`size=${sizeBytes}`] : [])];
    await run('mount', ['-t', 'tmpfs', '-o', o.join(','), 'tmpfs', dir]);
  },
  async bind(source, target) {
    await run('mount', ['--bind', source, target]);
  },
  async unmount(dir) {
    await run('umount', [dir]);
  },
};

export const isTmpfs = async (dir: string) => (await statfs(dir)).type === TMPFS_MAGIC;

/** A mount point: a different file system than its parent's. */
async function isMountPoint(dir: string): Promise<boolean> {
  const [self, parent] = await Promise.all([stat(dir), stat(dirname(dir))]);
  return self.dev !== parent.dev;
}

/** What stops a volume from being made, said in the replica's message. */
export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeError';
  }
}

export interface PodVolumesDeps {
  roots: VolumeRoots;
  mounter: Mounter;
  log: Logger;
  now?: () => Date;
}

/** One replica's volumes: made before its containers, kept up to date, removed after them. */
export class PodVolumes {
  /** The volumes last made, as sent: an unchanged assignment costs nothing. */
  private made: string | undefined;

  constructor(
    private readonly deps: PodVolumesDeps,
    readonly replica: string,
  ) {}

  /** Makes every volume of `a` and writes its files; throws VolumeError with what failed. */
  async prepare(a: Pick<Assignment, 'volumes' | 'containers'>): Promise<void> {
    // The pod's fsGroup owns its volumes, as the kubelet gives them to it (a pod field: every
    // container carries the same one).
    const fsGroup = podFsGroup(a);
    const key = JSON.stringify([a.volumes ?? [], a.containers.map((c) => c.volumeMounts ?? []), fsGroup]);
    if (key === this.made) return;
    // Claims are Docker volumes the engine makes (agent/claim-volumes.ts): nothing to do here.
    const volumes = (a.volumes ?? []).filter((v) => !v.persistentVolumeClaim);
    // The memory root becomes a tmpfs before anything goes in it: mounted later, it would hide
    // what was there. Only secret files require it; configMap files may stay on a disk.
    if (volumes.some((v) => !isOnDisk(v) && !v.hostPath))
      await this.ensureMemoryRoot(volumes.find((v) => v.secret)?.name);
    for (const v of volumes) {
      try {
        await this.prepareVolume(v, fsGroup);
      } catch (e) {
        if (e instanceof VolumeError) throw e;
        throw new VolumeError(`volume "${v.name}": ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const c of a.containers) {
      for (const m of c.volumeMounts ?? []) {
        const v = a.volumes?.find((x) => x.name === m.name);
        if (v?.emptyDir && m.subPath) await this.bindSubPath(v, m.subPath);
        else if (v && m.subPath) await this.ensureSubPath(v, m.subPath);
      }
    }
    this.made = key;
  }

  private async prepareVolume(v: AssignedVolume, fsGroup: number | undefined): Promise<void> {
    if (v.hostPath) {
      const problem = await checkHostPath(v.hostPath.path, v.hostPath.type);
      if (problem) throw new VolumeError(`volume "${v.name}": ${problem}`);
      return;
    }
    const dir = volumeDir(this.deps.roots, this.replica, v);
    if (v.emptyDir?.medium === 'Memory') {
      await mkdir(dir, { recursive: true });
      if (!(await isMountPoint(dir))) {
        try {
          const size = v.emptyDir.sizeLimitBytes;
          await this.deps.mounter.mountTmpfs(dir, { mode: 0o777, ...(size ? { sizeBytes: size } : {}) });
        } catch (e) {
          throw new VolumeError(
            `volume "${v.name}": mounting its tmpfs failed (the agent mounts it, which takes root): ${errorText(e)}`,
          );
        }
      }
      await ownByGroup(dir, fsGroup, 0o777);
      return;
    }
    if (v.emptyDir) {
      await mkdir(dir, { recursive: true });
      // Any user of any container may write it, as in Kubernetes (the umask would take that away).
      await chmod(dir, 0o777);
      await ownByGroup(dir, fsGroup, 0o777);
      return;
    }
    await mkdir(dir, { recursive: true });
    const files = (v.configMap ?? v.secret)!.files;
    if (await writeVolumeFiles(dir, files, this.deps.now?.() ?? new Date(), fsGroup))
      this.deps.log.debug('volume files written', {
        replica: this.replica,
        volume: v.name,
        files: files.length,
      });
  }

  /**
   * Secret files go only where no disk is: a tmpfs, mounted by the agent if the root is not one.
   * `secretVolume`: the pod's first secret volume, which cannot go on without it.
   */
  private async ensureMemoryRoot(secretVolume: string | undefined): Promise<void> {
    const root = this.deps.roots.memory;
    await mkdir(root, { recursive: true, mode: 0o700 });
    if (await isTmpfs(root)) return;
    const volume = secretVolume;
    try {
      await this.deps.mounter.mountTmpfs(root, { mode: 0o700 });
    } catch (e) {
      if (volume === undefined) return;
      throw new VolumeError(
        `volume "${volume}": secret files are written only to a tmpfs; ${root} is not one and mounting one failed (see --volume-dir): ${errorText(e)}`,
      );
    }
    if (volume !== undefined && !(await isTmpfs(root)))
      throw new VolumeError(`volume "${volume}": ${root} is not a tmpfs`);
  }

  /**
   * A subPath must be inside its volume once symlinks are followed (a key's symlink leads into
   * ..data); one that does not exist is made a directory, as the kubelet does.
   */
  private async ensureSubPath(v: AssignedVolume, subPath: string): Promise<void> {
    const dir = volumeDir(this.deps.roots, this.replica, v);
    const path = join(dir, subPath);
    try {
      await stat(path);
    } catch {
      await mkdir(path, { recursive: true });
    }
    const [real, base] = await Promise.all([realpath(path), realpath(dir)]);
    if (real !== base && !real.startsWith(base + sep))
      throw new VolumeError(`volume "${v.name}": subPath "${subPath}" leads out of the volume`);
  }

  /**
   * An emptyDir's subPath, bound where the containers cannot reach (subPathSource). A container
   * may have replaced any directory of the volume with a symlink out of it, so the path is walked
   * one component at a time, each opened without following a symlink (and made when missing, as
   * the kubelet does), and what the agent then holds open is bound, by its /proc fd path: what is
   * bound is what was checked, whatever the containers change meanwhile.
   */
  private async bindSubPath(v: AssignedVolume, subPath: string): Promise<void> {
    const dir = volumeDir(this.deps.roots, this.replica, v);
    const target = subPathSource(this.deps.roots, this.replica, v.name, subPath);
    const held = await openBeneath(dir, subPath).catch((e: unknown) => {
      throw new VolumeError(`volume "${v.name}": subPath "${subPath}": ${errorText(e)}`);
    });
    try {
      const isDir = (await held.stat()).isDirectory();
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await this.deps.mounter.unmount(target).catch(() => undefined);
      await rm(target, { recursive: false, force: true }).catch(() => undefined);
      if (isDir) await mkdir(target, { recursive: true });
      else await writeFile(target, '', { flag: 'a' });
      await this.deps.mounter.bind(`/proc/${process.pid}/fd/${held.fd}`, target);
    } finally {
      await held.close();
    }
  }

  /** Removes the replica's volumes (after its containers), unmounting their tmpfs first. */
  async remove(): Promise<void> {
    await removeReplicaVolumes(this.deps.roots, this.replica, this.deps.mounter);
    this.made = undefined;
  }
}

async function removeReplicaVolumes(roots: VolumeRoots, replica: string, mounter: Mounter): Promise<void> {
  // The subPath binds first: they hold the memory emptyDirs' tmpfs busy.
  const subPaths = join(roots.disk, replica, SUBPATHS);
  for (const name of await readdir(subPaths).catch(() => [] as string[]))
    await mounter.unmount(join(subPaths, name)).catch(() => undefined);
  for (const root of [roots.memory, roots.disk]) {
    const dir = join(root, replica);
    let volumes: string[];
    try {
      volumes = await readdir(dir);
    } catch {
      continue; // none made here
    }
    for (const name of volumes) {
      const path = join(dir, name);
      if ((await lstat(path)).isDirectory() && (await isMountPoint(path))) await mounter.unmount(path);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Removes the volumes of every replica not in `keep` (those of replicas that went while the
 * agent was down with nothing left to remove them by).
 */
export async function sweepVolumes(
  roots: VolumeRoots,
  keep: ReadonlySet<string>,
  mounter: Mounter,
): Promise<string[]> {
  const removed = new Set<string>();
  for (const root of [roots.memory, roots.disk]) {
    let replicas: string[];
    try {
      replicas = await readdir(root);
    } catch {
      continue;
    }
    for (const r of replicas) if (!keep.has(r)) removed.add(r);
  }
  for (const r of removed) await removeReplicaVolumes(roots, r, mounter);
  return [...removed];
}

const DATA = '..data';

/** Where an emptyDir's subPaths are bound from, beside the replica's disk volumes (no volume is named so). */
const SUBPATHS = '..subpaths';

export function subPathSource(roots: VolumeRoots, replica: string, volume: string, subPath: string): string {
  const id = createHash('sha256').update(`${volume}\0${subPath}`).digest('hex').slice(0, 16);
  return join(roots.disk, replica, SUBPATHS, `${volume}-${id}`);
}

/** Linux's O_PATH: a handle on a file that neither reads it nor follows it (absent from fs.constants). */
const O_PATH = 0o10000000;

/**
 * `subPath` beneath `dir`, opened one component at a time as openat(2) with O_NOFOLLOW would
 * (through the /proc fd path of the directory held open, so nothing re-walks the path), missing
 * directories made on the way. A symlink anywhere is refused: it may lead out of the volume.
 */
export async function openBeneath(dir: string, subPath: string): Promise<FileHandle> {
  let held = await open(dir, O_PATH | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
  const parts = subPath.split('/').filter((p) => p && p !== '.');
  try {
    for (const [i, part] of parts.entries()) {
      if (part === '..') throw new Error("must not contain '..'");
      const at = `/proc/self/fd/${held.fd}/${part}`;
      const last = i === parts.length - 1;
      const found = await lstat(at).catch(() => undefined);
      if (!found) await mkdir(at, { mode: 0o777 }).then(() => chmod(at, 0o777));
      else if (found.isSymbolicLink()) throw new Error('is, or passes through, a symlink');
      else if (!last && !found.isDirectory()) throw new Error(`${part} is not a directory`);
      const next = await open(at, O_PATH | fsConstants.O_NOFOLLOW);
      if ((await next.stat()).isSymbolicLink()) {
        await next.close();
        throw new Error('is, or passes through, a symlink');
      }
      await held.close();
      held = next;
    }
    return held;
  } catch (e) {
    await held.close();
    throw e;
  }
}

/**
 * Writes `files` into `dir` as Kubernetes' atomic writer does (see the top of this file). false:
 * `dir` already holds exactly these files, and nothing was written.
 */
export async function writeVolumeFiles(
  dir: string,
  files: AssignedVolumeFile[],
  now: Date,
  fsGroup?: number,
): Promise<boolean> {
  const sorted = [...files].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  const hash = createHash('sha256')
    .update(JSON.stringify([sorted.map((f) => [f.path, f.mode, f.data]), fsGroup ?? null]))
    .digest('hex')
    .slice(0, 12);
  const current = await readlink(join(dir, DATA)).catch(() => undefined);
  const top = new Set(sorted.map((f) => f.path.split('/')[0]!));
  if (current?.endsWith(`.${hash}`)) {
    await linkTop(dir, top);
    return false;
  }
  const stamp = now.toISOString().replace(/[-T:]/g, '_').replace(/Z$/, '');
  const version = `..${stamp}.${hash}`;
  const target = join(dir, version);
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { mode: 0o755 });
  await ownByGroup(target, fsGroup, 0o755);
  for (const f of sorted) {
    const path = join(target, f.path);
    if (relative(target, path).startsWith('..'))
      throw new VolumeError(`file "${f.path}" leads out of the volume`);
    for (let d = dirname(path); d !== target; d = dirname(d)) {
      await mkdir(d, { recursive: true, mode: 0o755 });
      await ownByGroup(d, fsGroup, 0o755);
    }
    // With an fsGroup the group reads what the owner reads, as the kubelet gives a read-only volume.
    const mode = fsGroup === undefined ? f.mode : f.mode | 0o440;
    await writeFile(path, Buffer.from(f.data, 'base64'), { mode });
    await chmod(path, mode); // the umask would take bits away
    if (fsGroup !== undefined) await chown(path, -1, fsGroup);
  }
  // The swap: one rename of a symlink, atomic for every reader.
  const tmp = join(dir, `${DATA}_tmp`);
  await unlink(tmp).catch(() => undefined);
  await symlink(version, tmp);
  await rename(tmp, join(dir, DATA));
  await linkTop(dir, top);
  for (const name of await readdir(dir)) {
    const old = name.startsWith('..') ? name !== DATA && name !== version : !top.has(name);
    if (old) await rm(join(dir, name), { recursive: true, force: true });
  }
  return true;
}

/**
 * The kubelet's fsGroup ownership of a volume directory: the group owns it and keeps owning what
 * is made in it (setgid); `mode` gets the group's bits. Nothing without an fsGroup.
 */
async function ownByGroup(dir: string, fsGroup: number | undefined, mode: number): Promise<void> {
  if (fsGroup === undefined) return;
  await chown(dir, -1, fsGroup);
  await chmod(dir, mode | 0o2000 | ((mode & 0o500) >> 3));
}

/** Each top-level name of the files, a symlink through ..data. */
async function linkTop(dir: string, top: Set<string>): Promise<void> {
  for (const name of top) {
    const link = join(dir, name);
    const to = join(DATA, name);
    if ((await readlink(link).catch(() => undefined)) === to) continue;
    await rm(link, { recursive: true, force: true });
    await symlink(to, link);
  }
}

/**
 * The kubelet's check of a hostPath before the bind, in its words (undefined: bind it): the
 * `...OrCreate` types make what is missing (a directory 0755, an empty file 0644, as the kubelet
 * does); the others require it to be there, so a missing one keeps the replica from starting.
 */
export async function checkHostPath(path: string, type: string): Promise<string | undefined> {
  const found = await stat(path).catch(() => undefined);
  const failed = (what: string) => `hostPath type check failed: ${path} is not a ${what}`;
  switch (type) {
    case 'DirectoryOrCreate':
      if (!found) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (!found.isDirectory()) return failed('directory');
      return undefined;
    case 'Directory':
      return found?.isDirectory() ? undefined : failed('directory');
    case 'FileOrCreate':
      if (!found) {
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        await writeFile(path, '', { mode: 0o644, flag: 'a' });
      } else if (!found.isFile()) return failed('file');
      return undefined;
    case 'File':
      return found?.isFile() ? undefined : failed('file');
    case 'Socket':
      return found?.isSocket() ? undefined : failed('socket file');
    default:
      return undefined;
  }
}

function errorText(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr?.trim() || err.message || String(e)).split('\n')[0]!;
}
