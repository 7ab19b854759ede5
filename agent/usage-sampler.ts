import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { ContainerUsage, ReplicaStatus, ReplicaUsage, UsageReport } from '../common/agent-protocol.ts';
import { errorMessage, type Logger } from './log.ts';
import {
  type ContainerSample,
  type CpuReading,
  type CpuTimes,
  cpuRate,
  nodeNanoCores,
  parseMeminfo,
  parseProcStat,
} from './usage.ts';

/** The node's own counters at one instant. */
export interface NodeReading {
  atMs: number;
  cpu: CpuTimes;
  memoryBytes: number;
  cpus: number;
}

export interface UsageSamplerOptions {
  /** The runtime's counters for one container (Driver.containerStats); absent: nodes only. */
  stats?: (id: string, withPrevious: boolean) => Promise<ContainerSample | undefined>;
  /** What runs now (PodManager.statuses): the running containers are sampled. */
  replicas: () => ReplicaStatus[];
  /** The node's counters; absent: `/proc`. Undefined where they cannot be read. */
  readNode?: () => Promise<NodeReading | undefined>;
  log: Logger;
  /** Containers asked at once: a few, so sampling never crowds the engine out of pod work. */
  concurrency?: number;
}

/** `/proc/stat` and `/proc/meminfo` (Linux, where the agent runs). */
export async function readProcNode(): Promise<NodeReading | undefined> {
  try {
    const [stat, meminfo] = await Promise.all([
      readFile('/proc/stat', 'utf8'),
      readFile('/proc/meminfo', 'utf8'),
    ]);
    const cpu = parseProcStat(stat);
    const memoryBytes = parseMeminfo(meminfo);
    if (!cpu || memoryBytes === undefined) return undefined;
    return { atMs: Date.now(), cpu, memoryBytes, cpus: Math.max(1, cpus().length) };
  } catch {
    return undefined;
  }
}

/**
 * Samples the usage of the node and of every running container on a fixed cadence, keeping only
 * the previous counters (CPU is their difference) and the latest result, which rides with the next
 * status report (usually the heartbeat) and is then dropped: the control plane keeps no history
 * either. A container's first sample asks the engine for its own earlier reading, so a new pod has
 * CPU figures after one round instead of two.
 */
export class UsageSampler {
  private previous = new Map<string, CpuReading>();
  private previousNode: NodeReading | undefined;
  private latest: UsageReport | undefined;
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 0;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: UsageSamplerOptions) {}

  /** Samples every `intervalMs` from now on (again with a new interval; the same one is a no-op). */
  start(intervalMs: number): void {
    if (this.stopped || intervalMs === this.intervalMs) return;
    this.intervalMs = intervalMs;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
    // A baseline at once: the first figures then come one interval after start, not two.
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The latest sample not yet sent, if any. */
  pending(): UsageReport | undefined {
    return this.latest;
  }

  /** The report carrying `usage` went through: it is not sent again. */
  sent(usage: UsageReport): void {
    if (this.latest === usage) this.latest = undefined;
  }

  /** One round; a round still running when the next is due makes that one skip. */
  tick(): Promise<void> {
    this.running ??= this.sample()
      .catch((e: unknown) => this.opts.log.warn('sampling usage failed', { error: errorMessage(e) }))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async sample(): Promise<void> {
    const [node, replicas] = await Promise.all([this.sampleNode(), this.sampleReplicas()]);
    if (this.stopped || (!node && replicas.length === 0)) return;
    this.latest = { ...(node ? { node } : {}), replicas };
  }

  private async sampleNode(): Promise<UsageReport['node']> {
    const now = await (this.opts.readNode ?? readProcNode)();
    const before = this.previousNode;
    if (!now) return undefined;
    this.previousNode = now;
    const nanoCores = before && nodeNanoCores(before.cpu, now.cpu, now.cpus);
    if (!before || nanoCores === undefined || now.atMs <= before.atMs) return undefined;
    return {
      timestamp: new Date(now.atMs).toISOString(),
      windowSeconds: (now.atMs - before.atMs) / 1000,
      cpuNanoCores: nanoCores,
      memoryBytes: now.memoryBytes,
    };
  }

  private async sampleReplicas(): Promise<ReplicaUsage[]> {
    const stats = this.opts.stats;
    if (!stats) return [];
    const pods = this.opts
      .replicas()
      .map((r) => ({
        id: r.id,
        containers: [...(r.initContainers ?? []), ...r.containers].filter(
          (c): c is typeof c & { containerId: string } => c.state === 'running' && !!c.containerId,
        ),
      }))
      .filter((p) => p.containers.length > 0);
    const jobs = pods.flatMap((p) => p.containers.map((c) => c.containerId));
    const samples = new Map<string, { usage: Omit<ContainerUsage, 'name'>; atNs: number; window: number }>();
    const next = new Map<string, CpuReading>();
    await eachLimited(jobs, this.opts.concurrency ?? 4, async (id) => {
      const before = this.previous.get(id);
      const s = await stats(id, before === undefined).catch(() => undefined);
      if (!s) return;
      next.set(id, s.cpu);
      const base = before ?? s.previousCpu;
      const rate = base && cpuRate(base, s.cpu);
      if (!rate) return;
      samples.set(id, {
        usage: { cpuNanoCores: rate.nanoCores, memoryBytes: s.memoryBytes },
        atNs: s.cpu.atNs,
        window: rate.windowSeconds,
      });
    });
    // Only the containers seen this round are kept: those gone take their counters with them.
    this.previous = next;
    const out: ReplicaUsage[] = [];
    for (const p of pods) {
      const measured = p.containers.map((c) => ({ name: c.name, s: samples.get(c.containerId) }));
      // As metrics-server does, a pod is reported whole or not at all.
      if (measured.some((m) => !m.s)) continue;
      const all = measured as { name: string; s: NonNullable<(typeof measured)[number]['s']> }[];
      out.push({
        id: p.id,
        timestamp: new Date(Math.max(...all.map((m) => m.s.atNs)) / 1e6).toISOString(),
        windowSeconds: Math.max(...all.map((m) => m.s.window)),
        containers: all.map((m) => ({ name: m.name, ...m.s.usage })),
      });
    }
    return out;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < items.length) await fn(items[i++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
