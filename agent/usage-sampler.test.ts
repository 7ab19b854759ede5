import { describe, expect, it } from 'vitest';
import type { ReplicaStatus } from '../common/agent-protocol.ts';
import { createLogger } from './log.ts';
import type { ContainerSample } from './usage.ts';
import { type NodeReading, UsageSampler } from './usage-sampler.ts';

const log = createLogger('error');
const T0 = Date.parse('2026-12-06T00:00:00Z') * 1e6;

function pod(
  id: string,
  containers: [string, string | undefined, 'running' | 'terminated'][],
): ReplicaStatus {
  return {
    id,
    phase: 'Running',
    ready: true,
    containers: containers.map(([name, containerId, state]) => ({
      name,
      ...(containerId ? { containerId } : {}),
      state,
      restartCount: 0,
      hostPorts: [],
    })),
  };
}

describe('UsageSampler', () => {
  it('reports a pod whole, from the engine reading first and its own previous one after', async () => {
    let round = 0;
    const asked: [string, boolean][] = [];
    // Container a uses half a core, b a tenth; b answers nothing in the first round.
    const stats = async (id: string, withPrevious: boolean): Promise<ContainerSample | undefined> => {
      asked.push([id, withPrevious]);
      if (id === 'b' && round === 0) return undefined;
      const share = id === 'a' ? 0.5 : 0.1;
      const atNs = T0 + (round + 1) * 15e9;
      return {
        cpu: { atNs, usageNs: share * (round + 1) * 15e9 },
        memoryBytes: id === 'a' ? 1024 : 2048,
        ...(withPrevious
          ? { previousCpu: { atNs: atNs - 1e9, usageNs: share * ((round + 1) * 15e9 - 1e9) } }
          : {}),
      };
    };
    const nodes: NodeReading[] = [
      { atMs: T0 / 1e6, cpu: { busy: 0, total: 0 }, memoryBytes: 5e9, cpus: 2 },
      { atMs: T0 / 1e6 + 15_000, cpu: { busy: 300, total: 3000 }, memoryBytes: 6e9, cpus: 2 },
    ];
    const sampler = new UsageSampler({
      stats,
      replicas: () => [
        pod('p1', [
          ['a', 'a', 'running'],
          ['b', 'b', 'running'],
        ]),
        pod('p2', [['done', 'c', 'terminated']]),
      ],
      readNode: async () => nodes[round],
      log,
    });

    await sampler.tick();
    // No node figures without two readings, and p1 is not whole: nothing to send.
    expect(sampler.pending()).toBeUndefined();
    round = 1;
    await sampler.tick();
    const usage = sampler.pending()!;
    expect(usage.node).toEqual({
      timestamp: '2026-12-06T00:00:15.000Z',
      windowSeconds: 15,
      cpuNanoCores: 0.2e9,
      memoryBytes: 6e9,
    });
    expect(usage.replicas).toEqual([
      {
        id: 'p1',
        timestamp: '2026-12-06T00:00:30.000Z',
        // a's rate is over its own 15 s window; b's first one over the engine's second.
        windowSeconds: 15,
        containers: [
          { name: 'a', cpuNanoCores: 0.5e9, memoryBytes: 1024 },
          { name: 'b', cpuNanoCores: 0.1e9, memoryBytes: 2048 },
        ],
      },
    ]);
    // The stopped container is never asked about; a is asked for the engine's reading only once.
    expect(asked).toEqual([
      ['a', true],
      ['b', true],
      ['a', false],
      ['b', true],
    ]);
    sampler.sent(usage);
    expect(sampler.pending()).toBeUndefined();
    sampler.stop();
  });
});
