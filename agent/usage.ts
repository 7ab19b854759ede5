/**
 * Usage as the kubelet reports it to metrics-server, from the counters the engine and the kernel
 * keep: CPU is a rate, so it takes two readings of a cumulative counter; memory is the working
 * set (what the kernel could not reclaim without swapping), read at one instant. Pure: the
 * sampler (usage-sampler.ts) does the reading.
 */

/** A cumulative CPU counter and when it was read, both in nanoseconds. */
export interface CpuReading {
  /** Nanoseconds since the epoch (a double: off by at most a microsecond, nothing over a window). */
  atNs: number;
  usageNs: number;
}

/** One container's counters as the engine's stats answer gives them. */
export interface ContainerSample {
  cpu: CpuReading;
  memoryBytes: number;
  /** The engine's own earlier reading (`precpu_stats`), when it took one (not `one-shot`). */
  previousCpu?: CpuReading;
}

/** An RFC 3339 time with up to nine fractional digits, in nanoseconds; undefined when unset or malformed. */
export function instantNs(text: string | undefined): number | undefined {
  const m = text?.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/);
  if (!m) return undefined;
  const wholeMs = Date.parse(`${m[1]}${m[3]}`);
  // The engine says "0001-01-01T00:00:00Z" for a reading it did not take.
  if (!Number.isFinite(wholeMs) || wholeMs <= 0) return undefined;
  return wholeMs * 1e6 + Number((m[2] ?? '').padEnd(9, '0'));
}

interface EngineCpu {
  cpu_usage?: { total_usage?: number };
}

/** The part of the engine's `GET /containers/{id}/stats` answer the sample needs. */
export interface EngineStats {
  read?: string;
  preread?: string;
  cpu_stats?: EngineCpu;
  precpu_stats?: EngineCpu;
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

function cpuReading(at: string | undefined, cpu: EngineCpu | undefined): CpuReading | undefined {
  const atNs = instantNs(at);
  const usageNs = cpu?.cpu_usage?.total_usage;
  return atNs !== undefined && typeof usageNs === 'number' ? { atNs, usageNs } : undefined;
}

/**
 * The working set as cAdvisor counts it: usage minus the inactive file cache. cgroup v1 names the
 * hierarchy's total `total_inactive_file`; v2 has no hierarchy totals and says `inactive_file`.
 */
export function workingSetBytes(memory: EngineStats['memory_stats']): number | undefined {
  if (typeof memory?.usage !== 'number') return undefined;
  const stats = memory.stats ?? {};
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  return Math.max(0, memory.usage - inactive);
}

/** A stats answer as a sample; undefined for a container that is not running (no counters). */
export function engineSample(stats: EngineStats): ContainerSample | undefined {
  const cpu = cpuReading(stats.read, stats.cpu_stats);
  const memoryBytes = workingSetBytes(stats.memory_stats);
  if (!cpu || memoryBytes === undefined) return undefined;
  const previousCpu = cpuReading(stats.preread, stats.precpu_stats);
  return {
    cpu,
    memoryBytes,
    ...(previousCpu && previousCpu.atNs < cpu.atNs ? { previousCpu } : {}),
  };
}

/** A rate between two readings: cores in billionths, and the window it covers in seconds. */
export interface CpuRate {
  nanoCores: number;
  windowSeconds: number;
}

/**
 * CPU used between two readings. Undefined when they do not make a window: the same instant,
 * out of order, or a counter that went backwards (the container was restarted in between, and
 * the counter is a new container's).
 */
export function cpuRate(before: CpuReading, after: CpuReading): CpuRate | undefined {
  const windowNs = after.atNs - before.atNs;
  const usedNs = after.usageNs - before.usageNs;
  if (windowNs <= 0 || usedNs < 0) return undefined;
  return { nanoCores: Math.round((usedNs / windowNs) * 1e9), windowSeconds: windowNs / 1e9 };
}

/** The machine's CPU time from `/proc/stat`'s first line, in the kernel's ticks. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** `cpu  user nice system idle iowait irq softirq steal ...`: idle and iowait are not busy. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 5 || fields.some((n) => !Number.isFinite(n))) return undefined;
  // guest and guest_nice (fields 9 and 10) are already counted in user and nice.
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * The node's CPU in use between two readings of `/proc/stat`: the busy share of the ticks that
 * passed, times the CPUs (so no tick length is assumed). Undefined when no tick passed.
 */
export function nodeNanoCores(before: CpuTimes, after: CpuTimes, cpus: number): number | undefined {
  const total = after.total - before.total;
  const busy = after.busy - before.busy;
  if (total <= 0 || busy < 0) return undefined;
  return Math.round((busy / total) * cpus * 1e9);
}

/** Memory in use on the node from `/proc/meminfo`: MemTotal minus MemAvailable (kB there). */
export function parseMeminfo(text: string): number | undefined {
  const kb = (key: string) => {
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (total === undefined || available === undefined) return undefined;
  return Math.max(0, total - available) * 1024;
}
