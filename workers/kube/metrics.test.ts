import { describe, expect, it } from 'vitest';
import { goDuration, nodeMetricsList, podMetricsList } from './metrics.ts';
import type { KubeObject } from './objects.ts';
import { toTable } from './tables.ts';

const sampledAt = new Date('2026-12-06T00:00:15.250Z');

function object(kind: string, name: string, namespace?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      uid: `uid-${name}`,
      resourceVersion: '7',
      creationTimestamp: '2026-12-01T00:00:00Z',
      labels: { app: 'web' },
    },
  };
}

describe('metrics.k8s.io objects', () => {
  it('writes windows as Go durations, which kubectl parses', () => {
    expect(goDuration(15)).toBe('15s');
    expect(goDuration(1.0024)).toBe('1.002s');
    expect(goDuration(75.5)).toBe('1m15.5s');
    expect(goDuration(0)).toBe('0s');
  });

  it('makes PodMetrics of the pods with a sample, in their order, and leaves the rest out', () => {
    const pods = [object('Pod', 'web-b', 'default'), object('Pod', 'web-a', 'default')];
    const items = podMetricsList(pods, [
      {
        replicaId: 'web-a',
        sampledAt,
        windowSeconds: 15.004,
        containers: [
          { name: 'app', cpuNanoCores: 1_234_567, memoryBytes: 12_345 * 1024 },
          { name: 'sidecar', cpuNanoCores: 250_000_000, memoryBytes: 1000 },
        ],
      },
    ]);
    expect(items).toEqual([
      {
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'PodMetrics',
        metadata: {
          name: 'web-a',
          namespace: 'default',
          uid: 'uid-web-a',
          resourceVersion: '',
          creationTimestamp: '2026-12-06T00:00:15Z',
          labels: { app: 'web' },
        },
        timestamp: '2026-12-06T00:00:15Z',
        window: '15.004s',
        containers: [
          { name: 'app', usage: { cpu: '1234567n', memory: '12345Ki' } },
          { name: 'sidecar', usage: { cpu: '250m', memory: '1000' } },
        ],
      },
    ]);
    // `kubectl get podmetrics`: the containers added up (millicores rounded up, as kubectl top does).
    expect(toTable('PodMetrics', items, '1', sampledAt).rows[0]?.cells).toEqual([
      'web-a',
      '252m',
      '12642280',
      '15.004s',
    ]);
  });

  it('makes NodeMetrics with the node usage', () => {
    const [item] = nodeMetricsList(
      [object('Node', 'n1'), object('Node', 'n2')],
      [{ node: 'n2', sampledAt, windowSeconds: 15, cpuNanoCores: 1_500_000_000, memoryBytes: 2 * 1024 ** 3 }],
    );
    expect(item).toMatchObject({
      kind: 'NodeMetrics',
      metadata: { name: 'n2', labels: { app: 'web' } },
      window: '15s',
      usage: { cpu: '1500m', memory: '2Gi' },
    });
    expect(item?.metadata.namespace).toBeUndefined();
  });
});
