import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import type {
  AssignedContainer,
  Assignment,
  ReplicaStatus,
  StatusReport,
} from '../../../common/agent-protocol.ts';
import { Probe } from '../../../common/deployment.ts';
import { agentBundle } from '../../support/launch.ts';

/** Helpers for tests that run real berth-agent processes against the real Docker Engine. */

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const HTTPD_1 = 'berth-test/httpd:1';
export const HTTPD_2 = 'berth-test/httpd:2';
export const docker = new Docker();

/** Fails (never skips) when the engine or the test images are missing. */
export async function requireDocker(images: string[] = [HTTPD_1]): Promise<void> {
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `these tests need a Docker Engine (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'}): ${String(e)}`,
    );
  }
  for (const image of images) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`test image ${image} is missing: run test/setup/images.sh`);
    }
  }
}

export function uniqueNode(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}-`));
}

/** Removes every container an agent of `node` made (label-filtered: nothing else is touched). */
export async function removeNodeContainers(node: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`berth.dev/node=${node}`] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
}

export async function nodeContainers(node: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`berth.dev/node=${node}`] } });
}

export interface AgentProcess {
  proc: ChildProcess;
  output(): string;
  /** SIGTERM and wait: the agent stops, containers stay. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts `berth-agent` as machines run it: its bundle (launch.ts), or the `entry` given. */
export function startAgentProcess(o: {
  server: string;
  name: string;
  dataDir: string;
  joinToken?: string;
  entry?: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** The node's address (default 127.0.0.1): agents sharing a machine take one each for NodePorts. */
  address?: string;
  /** More command-line arguments. */
  args?: string[];
}): AgentProcess {
  const args = [
    ...(o.nodeArgs ?? []),
    o.entry ?? agentBundle() ?? join(ROOT, 'bin/berth-agent.mjs'),
    '--server',
    o.server,
    '--name',
    o.name,
    '--address',
    o.address ?? '127.0.0.1',
    '--data-dir',
    o.dataDir,
    '--labels',
    'test=e2e',
  ];
  if (o.joinToken) args.push('--join-token', o.joinToken);
  args.push(...(o.args ?? []));
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, BERTH_LOG: 'debug', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (b: Buffer) => {
    out += b.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    exited,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
    kill9: async () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

let seq = 0;

/** A replica of berth-test/httpd:1 serving on 8080 with an httpGet readiness probe. */
export function httpdReplica(
  over: Partial<Assignment> = {},
  container: Partial<AssignedContainer> = {},
): Assignment {
  return {
    id: `r-${Date.now().toString(36)}-${seq++}`,
    namespace: 'default',
    deployment: 'web',
    revision: 1,
    desired: 'running',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 2,
    drainDelaySeconds: 0,
    ...over,
    containers: over.containers ?? [httpdContainer(container)],
  };
}

export function httpdContainer(over: Partial<AssignedContainer> = {}): AssignedContainer {
  return {
    name: 'web',
    image: HTTPD_1,
    imagePullPolicy: 'IfNotPresent',
    env: [{ name: 'MODE', value: 'test' }],
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    resources: { cpuLimitMillis: 500, memoryLimitBytes: 64 * 1024 * 1024 },
    readinessProbe: Probe.parse({
      httpGet: { path: '/healthz', port: 8080 },
      periodSeconds: Number(process.env.PROBE_PERIOD ?? 2),
    }),
    ...over,
  };
}

export function replicaOf(report: StatusReport | undefined, id: string): ReplicaStatus | undefined {
  return report?.replicas.find((r) => r.id === id);
}

export function allReady(ids: string[]): (r: StatusReport) => boolean {
  return (r) => ids.every((id) => replicaOf(r, id)?.ready === true && replicaOf(r, id)?.phase === 'Running');
}

export function hostPortOf(r: ReplicaStatus | undefined, containerPort = 8080): number {
  const p = r?.containers[0]?.hostPorts.find((h) => h.containerPort === containerPort)?.hostPort;
  if (!p) throw new Error(`replica ${r?.id} publishes no port ${containerPort}: ${JSON.stringify(r)}`);
  return p;
}

export async function httpText(url: string, timeoutMs = 2000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return res.text();
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function cleanupDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
