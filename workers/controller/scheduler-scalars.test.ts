import { describe, expect, it } from 'vitest';
import { placeReplicas, type ReplicaRequest, type SchedulerNode } from './scheduler.ts';

/** Placement against ephemeral-storage and extended resources (common/extended-resources.ts). */

const Gi = 1024 ** 3;

function node(name: string, allocatable: Record<string, number>, allocated: Record<string, number> = {}) {
  return {
    id: `id-${name}`,
    name,
    labels: { 'berth.dev/node': name, 'kubernetes.io/hostname': name },
    ready: true,
    unschedulable: false,
    allocatable: { cpuMillis: 4000, memoryBytes: 8 * Gi },
    allocated: { cpuMillis: 0, memoryBytes: 0 },
    scalars: { allocatable, allocated },
  } satisfies SchedulerNode;
}

let seq = 0;
const req = (scalars?: Record<string, number>, over: Partial<ReplicaRequest> = {}): ReplicaRequest => ({
  replicaId: `rep-${seq++}`,
  group: 'default/train',
  nodeSelector: {},
  requests: { cpuMillis: 100, memoryBytes: 0 },
  ...(scalars ? { scalars } : {}),
  ...over,
});

const place = (nodes: SchedulerNode[], requests: ReplicaRequest[]) => {
  const result = placeReplicas({ nodes, requests, groupCounts: new Map() });
  const nameOf = (id: string) => nodes.find((n) => n.id === id)!.name;
  return {
    on: result.placements.map((p) => nameOf(p.nodeId)),
    waiting: result.unplaced.map((u) => u.reason),
  };
};

describe('placeReplicas: extended resources and ephemeral-storage', () => {
  it('places a replica only where enough is left, counting its own earlier placements, and says what is short', () => {
    const nodes = [
      node('a', { 'nvidia.com/gpu': 2 }, { 'nvidia.com/gpu': 1 }),
      node('b', { 'nvidia.com/gpu': 1 }),
      node('c', {}),
    ];
    const gpu = { 'nvidia.com/gpu': 1 };
    const out = place(nodes, [req(gpu), req(gpu), req(gpu)]);
    expect(out.on.sort()).toEqual(['a', 'b']);
    expect(out.waiting).toEqual(['0/3 nodes available: 3 Insufficient nvidia.com/gpu']);
  });

  it('needs every resource a replica names on one node, and counts each it is short of', () => {
    const nodes = [
      node('a', { 'nvidia.com/gpu': 4, 'ephemeral-storage': 1 * Gi }),
      node('b', { 'ephemeral-storage': 100 * Gi }),
      node('c', { 'nvidia.com/gpu': 2, 'ephemeral-storage': 20 * Gi }),
    ];
    const want = { 'nvidia.com/gpu': 2, 'ephemeral-storage': 10 * Gi };
    const out = place(nodes, [req(want), req(want)]);
    expect(out.on).toEqual(['c']);
    expect(out.waiting).toEqual([
      '0/3 nodes available: 1 Insufficient ephemeral-storage, 2 Insufficient nvidia.com/gpu',
    ]);
  });

  it('leaves replicas that ask for none where they always went, on nodes with or without devices', () => {
    const nodes = [node('a', { 'nvidia.com/gpu': 1 }), node('b', {})];
    expect(place(nodes, [req(), req()]).on).toEqual(['a', 'b']);
  });

  it('combines with required anti-affinity on the host name', () => {
    const nodes = [node('a', { 'nvidia.com/gpu': 4 }), node('b', { 'nvidia.com/gpu': 4 }), node('c', {})];
    const spread = {
      namespace: 'default',
      labels: { app: 'train' },
      scheduling: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: 'train' } }, topologyKey: 'kubernetes.io/hostname' },
            ],
          },
        },
      },
    };
    const gpu = { 'nvidia.com/gpu': 1 };
    const out = place(nodes, [req(gpu, spread), req(gpu, spread), req(gpu, spread)]);
    expect(out.on.sort()).toEqual(['a', 'b']);
    expect(out.waiting).toEqual([
      "0/3 nodes available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match pod anti-affinity rules",
    ]);
  });
});
