import { describe, expect, it } from 'vitest';
import {
  cpuRate,
  engineSample,
  instantNs,
  nodeNanoCores,
  parseMeminfo,
  parseProcStat,
  workingSetBytes,
} from './usage.ts';

describe('instantNs', () => {
  it('keeps the engine nanoseconds', () => {
    const a = instantNs('2026-12-06T00:00:01.000000001Z')!;
    const b = instantNs('2026-12-06T00:00:00.5Z')!;
    expect(a - b).toBeCloseTo(500_000_001, -3);
    expect(instantNs('2026-12-06T01:00:00+01:00')).toBe(instantNs('2026-12-06T00:00:00Z'));
  });

  it('takes the engine zero time and garbage as no reading', () => {
    expect(instantNs('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(instantNs('yesterday')).toBeUndefined();
    expect(instantNs(undefined)).toBeUndefined();
  });
});

describe('workingSetBytes', () => {
  it('subtracts the hierarchy total of inactive file cache on cgroup v1', () => {
    expect(
      workingSetBytes({ usage: 10_000_000, stats: { total_inactive_file: 3_000_000, inactive_file: 1_000 } }),
    ).toBe(7_000_000);
  });

  it('subtracts inactive_file on cgroup v2', () => {
    expect(workingSetBytes({ usage: 10_000_000, stats: { inactive_file: 4_000_000, anon: 5 } })).toBe(
      6_000_000,
    );
  });

  it('never goes below zero, and is unknown without a usage', () => {
    expect(workingSetBytes({ usage: 10, stats: { inactive_file: 20 } })).toBe(0);
    expect(workingSetBytes({ stats: {} })).toBeUndefined();
    expect(workingSetBytes(undefined)).toBeUndefined();
  });
});

describe('engineSample and cpuRate', () => {
  const stats = {
    read: '2026-12-06T00:00:02.000000000Z',
    preread: '2026-12-06T00:00:01.000000000Z',
    cpu_stats: { cpu_usage: { total_usage: 5_250_000_000 } },
    precpu_stats: { cpu_usage: { total_usage: 5_000_000_000 } },
    memory_stats: { usage: 8 * 1024 * 1024, stats: { inactive_file: 1024 * 1024 } },
  };

  it('turns an answer with the engine earlier reading into cores and bytes', () => {
    const s = engineSample(stats)!;
    expect(s.memoryBytes).toBe(7 * 1024 * 1024);
    // 0.25 s of CPU in 1 s: a quarter of a core.
    expect(cpuRate(s.previousCpu!, s.cpu)).toEqual({ nanoCores: 250_000_000, windowSeconds: 1 });
  });

  it('has no earlier reading from a one-shot answer', () => {
    const s = engineSample({
      ...stats,
      preread: '0001-01-01T00:00:00Z',
      precpu_stats: { cpu_usage: { total_usage: 0 } },
    })!;
    expect(s.previousCpu).toBeUndefined();
  });

  it('differences two samples of its own: 3 cores over 15 s', () => {
    const before = { atNs: 1e18, usageNs: 1e12 };
    const after = { atNs: 1e18 + 15e9, usageNs: 1e12 + 45e9 };
    expect(cpuRate(before, after)).toEqual({ nanoCores: 3e9, windowSeconds: 15 });
  });

  it('makes no rate across a restart (the counter went back) or without time between', () => {
    expect(cpuRate({ atNs: 1e18, usageNs: 9e9 }, { atNs: 1e18 + 1e9, usageNs: 1e6 })).toBeUndefined();
    expect(cpuRate({ atNs: 1e18, usageNs: 1 }, { atNs: 1e18, usageNs: 2 })).toBeUndefined();
  });

  it('is no sample for a stopped container (the engine sends no counters)', () => {
    expect(engineSample({ read: stats.read, cpu_stats: {}, memory_stats: {} })).toBeUndefined();
  });
});

describe('the node', () => {
  const stat = (user: number, idle: number) =>
    `cpu  ${user} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${user} 0 0 ${idle} 0 0 0 0 0 0\nintr 1 2 3\n`;

  it('counts the busy share of the ticks that passed, times the CPUs', () => {
    const before = parseProcStat(stat(100, 900))!;
    const after = parseProcStat(stat(150, 1_000))!;
    expect(before).toEqual({ busy: 100, total: 1_000 });
    // 50 busy of 150 ticks on 3 CPUs: one core.
    expect(nodeNanoCores(before, after, 3)).toBe(1e9);
    expect(nodeNanoCores(after, after, 3)).toBeUndefined();
  });

  it('counts iowait as idle', () => {
    expect(parseProcStat('cpu  10 0 5 80 5 0 0 0\n')).toEqual({ busy: 15, total: 100 });
    expect(parseProcStat('intr 1\n')).toBeUndefined();
  });

  it('takes memory in use as MemTotal minus MemAvailable', () => {
    const meminfo = 'MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    6000000 kB\n';
    expect(parseMeminfo(meminfo)).toBe(2_000_000 * 1024);
    expect(parseMeminfo('MemTotal: 1 kB\n')).toBeUndefined();
  });
});
