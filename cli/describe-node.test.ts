import { describe, expect, it } from 'vitest';
import { describeNode } from './describe-node.ts';

const Gi = 1024 ** 3;
const node = {
  name: 'gpu-1',
  uid: 'u1',
  status: 'Ready' as const,
  condition: 'Ready' as const,
  lastHeartbeat: '2026-01-01T00:00:00.000Z',
  capacity: { cpu: 8, memoryBytes: 32 * Gi },
  allocatable: {
    cpu: 8,
    memoryBytes: 32 * Gi,
    ephemeralStorageBytes: 90 * Gi,
    extendedResources: { 'nvidia.com/gpu': 2 },
  },
  allocated: { cpu: 1, memoryBytes: Gi, extendedResources: { 'nvidia.com/gpu': 1 }, replicas: 1 },
  labels: {},
  address: '10.0.0.5',
  agentVersion: '0.1.0',
  unschedulable: false,
  taints: [],
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('berth describe node', () => {
  it('shows the extended resources and ephemeral storage a node offers and what its replicas hold', () => {
    const text = describeNode(node, new Date('2026-01-01T00:01:00Z'));
    expect(text).toMatch(/^Allocatable: +cpu 8, memory 32Gi, ephemeral-storage 90Gi, nvidia\.com\/gpu 2$/m);
    expect(text).toMatch(/^Allocated: +cpu 1, memory 1Gi, nvidia\.com\/gpu 1, 1 replicas$/m);
    expect(text).toMatch(/^Capacity: +cpu 8, memory 32Gi$/m);
  });
});
