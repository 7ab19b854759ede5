import { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { HostPort } from '../../common/agent-protocol.ts';
import { parseImageRef } from '../image-ref.ts';
import { LABEL_NODE } from '../labels.ts';
import { errorMessage, type Logger } from '../log.ts';
import { demuxDockerStream, parseTimestampedLines } from '../log-tail.ts';
import { SweepSchedule, type SweepTiming } from '../sweep-schedule.ts';
import { type ContainerSample, type EngineStats, engineSample } from '../usage.ts';
import { engineError, statusOf } from './docker-errors.ts';
import { DockerNetworks, isNetworkMissing } from './docker-networks.ts';
import type { ContainerEvent, ContainerInfo, CreateSpec, Driver, LogLine, RegistryAuth } from './driver.ts';
import { NameConflictError } from './driver.ts';

export interface DockerDriverOptions {
  log?: Logger;
  /** When unused namespace networks are removed after containers are (default: 5 s, at most once a minute). */
  networkSweep?: SweepTiming;
}

/**
 * The Docker Engine API through dockerode. `new Docker()` honours DOCKER_HOST (unix://, tcp://,
 * with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) and defaults to /var/run/docker.sock.
 */
export class DockerDriver implements Driver {
  readonly networks: DockerNetworks;
  private readonly sweep: SweepSchedule;

  constructor(
    readonly docker: Docker = new Docker(),
    options: DockerDriverOptions = {},
  ) {
    this.networks = new DockerNetworks(docker);
    const log = options.log;
    this.sweep = new SweepSchedule(async () => {
      try {
        const removed = await this.networks.prune();
        if (removed.length > 0)
          log?.info('removed unused namespace networks', { networks: removed.join(',') });
      } catch (e) {
        log?.warn('removing unused namespace networks failed', { error: errorMessage(e) });
      }
    }, options.networkSweep ?? { delayMs: 5_000, minIntervalMs: 60_000 });
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw engineError(e);
    }
  }

  async imageUser(image: string): Promise<string> {
    try {
      return (await this.docker.getImage(image).inspect()).Config?.User ?? '';
    } catch (e) {
      throw engineError(e);
    }
  }

  async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    const ref = parseImageRef(image);
    let stream: NodeJS.ReadableStream;
    try {
      const opts = ref.isDigest
        ? { fromImage: `${ref.repository}@${ref.tag}` }
        : { fromImage: ref.repository, tag: ref.tag };
      // Two-argument form: the credentials travel in X-Registry-Auth, never in the query string.
      stream = (await this.docker.createImage(auth, opts)) as NodeJS.ReadableStream;
    } catch (e) {
      throw engineError(e);
    }
    // The engine answers 200 and then reports failure inside the progress stream.
    const text = await readAll(stream).catch((e: unknown) => {
      throw engineError(e);
    });
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let obj: { error?: string; errorDetail?: { message?: string } };
      try {
        obj = JSON.parse(line);
      } catch {
        continue;
      }
      const msg = obj.errorDetail?.message ?? obj.error;
      if (msg) throw new Error(msg);
    }
  }

  async importImage(ref: string, tar: Buffer): Promise<void> {
    const [repo, tag] = ref.split(':');
    try {
      const stream = (await this.docker.importImage(Readable.from([tar]), {
        repo,
        tag,
      })) as NodeJS.ReadableStream;
      await readAll(stream);
    } catch (e) {
      throw engineError(e);
    }
  }

  async createContainer(spec: CreateSpec): Promise<string> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.publish) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      bindings[key] = [{ HostIp: spec.hostIp, HostPort: p.hostPort ? String(p.hostPort) : '' }];
    }
    const opts: Docker.ContainerCreateOptions = {
      name: spec.name,
      Image: spec.image,
      Labels: spec.labels,
      Env: spec.env,
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint, Cmd: spec.cmd ?? [] } : {}),
      ...(!spec.entrypoint && spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      ...(spec.security.user ? { User: spec.security.user } : {}),
      ...(spec.networkFrom ? {} : { ExposedPorts: exposed }),
      HostConfig: {
        // docker-init as PID 1 forwards SIGTERM and reaps zombies, so stop is graceful.
        Init: true,
        ...(spec.mounts?.length
          ? {
              Mounts: spec.mounts.map((m) =>
                m.volume
                  ? {
                      // Made empty on first use (no copy of the image's files, as a Kubernetes volume).
                      Type: 'volume' as const,
                      Source: m.source,
                      Target: m.target,
                      ReadOnly: m.readOnly,
                      VolumeOptions: {
                        NoCopy: true,
                        Labels: m.volume.labels,
                        DriverConfig: { Name: 'local', Options: {} },
                      },
                    }
                  : { Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly },
              ),
            }
          : {}),
        ...(spec.networkFrom
          ? { NetworkMode: `container:${spec.networkFrom}` }
          : { NetworkMode: spec.network.name, PortBindings: bindings }),
        ...(spec.dns && !spec.networkFrom
          ? { Dns: spec.dns.servers, DnsSearch: spec.dns.search, DnsOptions: spec.dns.options }
          : {}),
        ...(spec.nanoCpus ? { NanoCpus: spec.nanoCpus } : {}),
        // Swap equal to memory: the limit is the limit, as in Kubernetes.
        ...(spec.memoryBytes ? { Memory: spec.memoryBytes, MemorySwap: spec.memoryBytes } : {}),
        ...(spec.pidsLimit ? { PidsLimit: spec.pidsLimit } : {}),
        // `docker run --gpus N`: the NVIDIA container runtime's devices, counted, not chosen.
        ...(spec.gpus
          ? { DeviceRequests: [{ Driver: 'nvidia', Count: spec.gpus, Capabilities: [['gpu']] }] }
          : {}),
        SecurityOpt: [
          ...(spec.security.noNewPrivileges ? ['no-new-privileges'] : []),
          ...(spec.security.seccompUnconfined ? ['seccomp=unconfined'] : []),
        ],
        ...(spec.security.privileged ? { Privileged: true } : {}),
        ...(spec.security.readonlyRootfs ? { ReadonlyRootfs: true } : {}),
        ...(spec.security.groupAdd?.length ? { GroupAdd: spec.security.groupAdd } : {}),
        ...(spec.security.capAdd.length > 0 ? { CapAdd: spec.security.capAdd } : {}),
        ...(spec.security.capDrop.length > 0 ? { CapDrop: spec.security.capDrop } : {}),
        // The agent restarts containers itself (CrashLoopBackOff, restartCount).
        RestartPolicy: { Name: 'no' },
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      },
    };
    try {
      const create = async () => (await this.docker.createContainer(opts)).id;
      return spec.networkFrom ? await create() : await this.networks.withNetwork(spec.network, create);
    } catch (e) {
      if (statusOf(e) === 409) throw new NameConflictError(spec.name);
      throw engineError(e);
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.start(id);
    } catch (e) {
      // Its namespace network was removed between create and start (another agent's prune).
      if (!isNetworkMissing(e)) throw engineError(e);
      const info = await this.docker
        .getContainer(id)
        .inspect()
        .catch(() => undefined);
      if (!info || !(await this.networks.restoreFor(info))) throw engineError(e);
      await this.start(id).catch((again: unknown) => {
        throw engineError(again);
      });
    }
  }

  private async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (e) {
      if (statusOf(e) === 304) return; // already running
      throw e;
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: graceSeconds });
    } catch (e) {
      const s = statusOf(e);
      if (s === 304 || s === 404) return;
      throw engineError(e);
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (e) {
      const s = statusOf(e);
      // 409: removal already in progress.
      if (s === 404 || s === 409) return;
      throw engineError(e);
    }
    // Perhaps the last container of its namespace on this engine.
    this.sweep.request();
  }

  async removeVolume(name: string, labels: Record<string, string>): Promise<'removed' | 'absent' | 'in-use'> {
    const volume = this.docker.getVolume(name);
    try {
      const info = (await volume.inspect()) as { Labels?: Record<string, string> | null };
      if (Object.entries(labels).some(([k, v]) => info.Labels?.[k] !== v)) return 'absent';
      await volume.remove();
      return 'removed';
    } catch (e) {
      const s = statusOf(e);
      if (s === 404) return 'absent';
      if (s === 409) return 'in-use';
      throw engineError(e);
    }
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo | undefined> {
    try {
      return toInfo(await this.docker.getContainer(idOrName).inspect());
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw engineError(e);
    }
  }

  async listContainers(labels: Record<string, string>, detailed = true): Promise<ContainerInfo[]> {
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) },
    });
    if (!detailed) {
      return list.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        labels: c.Labels,
        running: c.State === 'running',
        created: c.State === 'created',
        hostPorts: c.Ports.filter((p) => p.PublicPort).map((p) => ({
          containerPort: p.PrivatePort,
          hostPort: p.PublicPort,
        })),
      }));
    }
    // The list lacks exit times and published ports of stopped containers: inspect each.
    const infos = await Promise.all(list.map((c) => this.inspectContainer(c.Id)));
    return infos.filter((c): c is ContainerInfo => c !== undefined);
  }

  async containerStats(id: string, withPrevious: boolean): Promise<ContainerSample | undefined> {
    try {
      // one-shot: the engine answers at once instead of waiting for a second reading of its own.
      const stats = await this.docker.getContainer(id).stats({ stream: false, 'one-shot': !withPrevious });
      return engineSample(stats as EngineStats);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw engineError(e);
    }
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<number> {
    const container = this.docker.getContainer(id);
    const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`command timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on('data', () => {});
      stream.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.once('error', (e: Error) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const info = await exec.inspect();
    return info.ExitCode ?? -1;
  }

  async logs(id: string, tail: number, since?: string): Promise<LogLine[]> {
    const buf = await this.docker.getContainer(id).logs({
      stdout: true,
      stderr: true,
      tail,
      timestamps: true,
      follow: false,
      // The engine reads `seconds.nanoseconds`; dockerode's type says number, the query is text.
      ...(since ? { since: since as unknown as number } : {}),
    });
    return parseTimestampedLines(demuxDockerStream(buf));
  }

  watchEvents(node: string, onEvent: (e: ContainerEvent) => void, onResync: () => void): { close(): void } {
    let closed = false;
    let current: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    let retry: NodeJS.Timeout | undefined;
    let delay = 250;
    const connect = async () => {
      if (closed) return;
      try {
        const stream = (await this.docker.getEvents({
          filters: {
            type: ['container'],
            label: [`${LABEL_NODE}=${node}`],
            event: ['start', 'die', 'oom', 'destroy'],
          },
        })) as NodeJS.ReadableStream & { destroy?: () => void };
        if (closed) {
          stream.destroy?.();
          return;
        }
        current = stream;
        delay = 250;
        onResync();
        let buf = '';
        stream.on('data', (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
            const e = parseEvent(line);
            if (e) onEvent(e);
          }
        });
        const again = () => {
          if (current !== stream) return;
          current = undefined;
          reconnect();
        };
        stream.once('end', again);
        stream.once('close', again);
        stream.once('error', again);
      } catch {
        reconnect();
      }
    };
    const reconnect = () => {
      if (closed) return;
      retry = setTimeout(() => void connect(), delay);
      retry.unref();
      delay = Math.min(delay * 2, 10_000);
    };
    void connect();
    return {
      close: () => {
        closed = true;
        if (retry) clearTimeout(retry);
        const s = current;
        current = undefined;
        s?.destroy?.();
      },
    };
  }
}

function parseEvent(line: string): ContainerEvent | undefined {
  if (!line.trim()) return undefined;
  try {
    const e = JSON.parse(line) as {
      Action?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    const action = e.Action;
    const id = e.Actor?.ID;
    if (!id || (action !== 'start' && action !== 'die' && action !== 'oom' && action !== 'destroy'))
      return undefined;
    const attrs = e.Actor?.Attributes ?? {};
    const exit = attrs.exitCode !== undefined ? Number(attrs.exitCode) : undefined;
    return {
      action,
      id,
      labels: attrs,
      ...(exit !== undefined && Number.isFinite(exit) ? { exitCode: exit } : {}),
    };
  } catch {
    return undefined;
  }
}

export function toInfo(c: Docker.ContainerInspectInfo): ContainerInfo {
  const hostPorts: HostPort[] = [];
  for (const [key, binds] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const containerPort = Number.parseInt(key, 10);
    const b = binds?.[0];
    if (!b?.HostPort) continue;
    // Docker's keys are `80/tcp`, `53/udp`; the report says UDP only (absent: TCP).
    const udp = key.endsWith('/udp');
    hostPorts.push({
      containerPort,
      hostPort: Number.parseInt(b.HostPort, 10),
      ...(udp ? { protocol: 'UDP' } : {}),
    });
  }
  const netMode = c.HostConfig?.NetworkMode ?? '';
  const time = (s: string | undefined) => {
    if (!s || s.startsWith('0001-')) return undefined;
    const t = Date.parse(s);
    return Number.isNaN(t) ? undefined : t;
  };
  const ip = Object.values(c.NetworkSettings?.Networks ?? {})[0]?.IPAddress || undefined;
  const startedAt = time(c.State?.StartedAt);
  const finishedAt = time(c.State?.FinishedAt);
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    labels: c.Config?.Labels ?? {},
    running: c.State?.Running === true,
    created: c.State?.Status === 'created',
    ...(c.State && !c.State.Running && c.State.Status !== 'created' ? { exitCode: c.State.ExitCode } : {}),
    ...(c.State?.OOMKilled ? { oomKilled: true } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    hostPorts,
    ...(ip ? { ip } : {}),
    ...(netMode.startsWith('container:') ? { networkFrom: netMode.slice('container:'.length) } : {}),
  };
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

/** True when a Docker Engine answers within `timeoutMs` (DOCKER_HOST honoured). */
export async function dockerAvailable(timeoutMs = 2000): Promise<boolean> {
  const docker = new Docker();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
