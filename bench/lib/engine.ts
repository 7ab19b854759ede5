import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { onCleanup } from './cleanup.ts';

/**
 * The Docker Engine side of the benchmark: the engine's own limit (parallel create+start),
 * Docker Swarm as the peer, and label-scoped cleanup (nothing without our labels is touched:
 * other work on the same engine is left alone).
 */
export const docker = new Docker();
const run = promisify(execFile);

export const IMAGE_1 = 'berth-test/httpd:1';
export const IMAGE_2 = 'berth-test/httpd:2';
/** Every container, service and task the benchmark makes itself carries this label. */
export const BENCH_LABEL = 'berth.bench/run';

/** Containers carrying every one of `labels` ("key=value"; Docker ANDs label filters). */
export async function containersWithLabel(
  labels: string | string[],
  all = true,
): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all, filters: { label: typeof labels === 'string' ? [labels] : labels } });
}

export async function removeContainersWithLabel(labels: string | string[]): Promise<number> {
  const list = await containersWithLabel(labels);
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
  return list.length;
}

/** Waits until no running container carries `label` (or `count` remain); resolves with performance.now(). */
export async function waitContainerCount(
  label: string | string[],
  count: number,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const list = await containersWithLabel(label, false);
    const at = performance.now();
    if (list.length <= count) return at;
    if (at > deadline) throw new Error(`${list.length} containers with ${label} still running`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET http://127.0.0.1:port/path answered 200 (no keep-alive: each check is a fresh connection). */
export function httpOk(port: number, path = '/healthz', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * The engine's own limit: N containers of the image created and started at once through the
 * Engine API (what `docker run -d` does, without N CLI processes), published on 127.0.0.1 like
 * Berth's, with docker-init like Berth's; done when every one answers /healthz.
 */
export async function rawRun(n: number, runLabel: string): Promise<number> {
  const label = `${BENCH_LABEL}=${runLabel}`;
  const t0 = performance.now();
  const ports = await Promise.all(
    Array.from({ length: n }, async () => {
      const c = await docker.createContainer({
        Image: IMAGE_1,
        Labels: { [BENCH_LABEL]: runLabel },
        ExposedPorts: { '8080/tcp': {} },
        HostConfig: { Init: true, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      });
      await c.start();
      const info = await c.inspect();
      return Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
    }),
  );
  await Promise.all(
    ports.map(async (port) => {
      while (!(await httpOk(port))) await new Promise((r) => setTimeout(r, 20));
    }),
  );
  const ms = performance.now() - t0;
  await removeContainersWithLabel(label);
  return ms;
}

// --- Docker Swarm ----------------------------------------------------------------------------

export async function swarmState(): Promise<string> {
  const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string } };
  return info.Swarm?.LocalNodeState ?? 'inactive';
}

/** `docker swarm init --advertise-addr 127.0.0.1`, with `docker swarm leave --force` registered at once. */
export async function swarmInit(): Promise<() => Promise<void>> {
  const leave = onCleanup('docker swarm leave --force', async () => {
    await run('docker', ['swarm', 'leave', '--force']).catch(() => {});
  });
  await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  return leave;
}

export interface SwarmServiceOptions {
  name: string;
  replicas: number;
  image?: string;
  /** Routing mesh (ingress mode) on this port, or `host`: each task publishes a random host port. */
  publish?: { mode: 'ingress'; port: number } | { mode: 'host' };
  runLabel: string;
}

/**
 * The equivalent of
 *   docker service create --name NAME --replicas N --init --publish P:8080 \
 *     --health-cmd 'wget -qO- http://127.0.0.1:8080/healthz' --health-interval 1s \
 *     --health-timeout 1s --health-retries 3 berth-test/httpd:1
 * through the Engine API (no CLI process in the timing). `--init` as Berth runs its containers:
 * busybox httpd ignores SIGTERM as PID 1, which would make every stop wait 10 s.
 */
export async function createSwarmService(o: SwarmServiceOptions): Promise<Docker.Service> {
  const spec = {
    Name: o.name,
    Labels: { [BENCH_LABEL]: o.runLabel },
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image ?? IMAGE_1,
        Init: true,
        Labels: { [BENCH_LABEL]: o.runLabel },
        Healthcheck: {
          Test: ['CMD', 'wget', '-qO-', 'http://127.0.0.1:8080/healthz'],
          Interval: 1e9,
          Timeout: 1e9,
          Retries: 3,
        },
      },
    },
    Mode: { Replicated: { Replicas: o.replicas } },
    // What `docker service create` sends when no --update-* flag is given.
    UpdateConfig: {
      Parallelism: 1,
      Delay: 0,
      FailureAction: 'pause',
      Monitor: 5e9,
      MaxFailureRatio: 0,
      Order: 'stop-first',
    },
    ...(o.publish
      ? {
          EndpointSpec: {
            Ports: [
              o.publish.mode === 'ingress'
                ? { Protocol: 'tcp', TargetPort: 8080, PublishedPort: o.publish.port, PublishMode: 'ingress' }
                : { Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' },
            ],
          },
        }
      : {}),
  };
  const svc = await docker.createService(spec as never);
  onCleanup(`docker service rm ${o.name}`, () => removeSwarmService(o.name));
  return docker.getService((svc as { id?: string; ID?: string }).id ?? (svc as { ID: string }).ID);
}

export async function removeSwarmService(name: string): Promise<void> {
  await docker
    .getService(name)
    .remove()
    .catch(() => {});
}

/** Host ports of the service's healthy containers (host-mode publishing). */
export async function swarmHealthyPorts(name: string): Promise<number[]> {
  const list = await docker.listContainers({
    filters: { label: [`com.docker.swarm.service.name=${name}`], health: ['healthy'] },
  });
  // IPv4 only: the engine may publish the IPv6 side on a different port, which 127.0.0.1 never reaches.
  const ports = list.flatMap((c) =>
    c.Ports.filter((p) => p.PrivatePort === 8080 && p.PublicPort && p.IP === '0.0.0.0').map(
      (p) => p.PublicPort,
    ),
  );
  return [...new Set(ports)];
}

/** Running tasks as `docker service ls` counts them (N/N): with a healthcheck, healthy ones. */
export async function swarmRunning(name: string): Promise<{ running: number; desired: number }> {
  const list = (await docker.listServices({
    filters: { name: [name] },
    status: true,
  } as never)) as unknown as {
    Spec: { Name: string };
    ServiceStatus?: { RunningTasks: number; DesiredTasks: number };
  }[];
  const s = list.find((x) => x.Spec.Name === name);
  return { running: s?.ServiceStatus?.RunningTasks ?? 0, desired: s?.ServiceStatus?.DesiredTasks ?? 0 };
}

export async function waitSwarmRunning(name: string, n: number, timeoutMs = 180_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await swarmRunning(name);
    const at = performance.now();
    if (s.running === n && s.desired === n) return at;
    if (at > deadline) throw new Error(`swarm service ${name}: ${s.running}/${n} running`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function inspectService(name: string): Promise<any> {
  return docker.getService(name).inspect();
}

/** `docker service update --image IMAGE [--update-parallelism P]`, detached. */
export async function updateSwarmService(
  name: string,
  change: { image?: string; replicas?: number; parallelism?: number },
): Promise<void> {
  const current = await inspectService(name);
  const spec = structuredClone(current.Spec);
  if (change.image) spec.TaskTemplate.ContainerSpec.Image = change.image;
  if (change.replicas !== undefined) spec.Mode.Replicated.Replicas = change.replicas;
  if (change.parallelism !== undefined)
    spec.UpdateConfig = { ...(spec.UpdateConfig ?? {}), Parallelism: change.parallelism };
  await docker.getService(name).update({ _query: { version: current.Version.Index }, _body: spec } as never);
}

/** Until the update is `completed` (resolves with performance.now()); a paused update is an error. */
export async function waitSwarmUpdate(name: string, timeoutMs = 600_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await inspectService(name);
    const at = performance.now();
    const state = s.UpdateStatus?.State;
    if (state === 'completed') return at;
    if (state === 'paused' || state === 'rollback_completed')
      throw new Error(`swarm update of ${name} ${state}: ${s.UpdateStatus?.Message}`);
    if (at > deadline) throw new Error(`swarm update of ${name} still ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Images the benchmark runs; missing ones are built by test/setup/images.sh. */
export async function missingImages(): Promise<string[]> {
  const missing: string[] = [];
  for (const image of [IMAGE_1, IMAGE_2]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      missing.push(image);
    }
  }
  return missing;
}

export async function dockerdPid(): Promise<number | undefined> {
  try {
    const { stdout } = await run('pidof', ['dockerd']);
    const pid = Number(stdout.trim().split(/\s+/)[0]);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
