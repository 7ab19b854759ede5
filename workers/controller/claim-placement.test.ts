import { describe, expect, it } from 'vitest';
import { type ClaimView, claimKey } from './claim-placement.ts';
import { placeReplicas, type ReplicaRequest, type SchedulerNode } from './scheduler.ts';

const Gi = 1024 ** 3;

const node = (name: string, over: Partial<SchedulerNode> = {}): SchedulerNode => ({
  id: `id-${name}`,
  name,
  labels: { 'berth.dev/node': name },
  ready: true,
  unschedulable: false,
  allocatable: { cpuMillis: 4000, memoryBytes: 8 * Gi },
  allocated: { cpuMillis: 0, memoryBytes: 0 },
  ...over,
});

let seq = 0;
const req = (claims: string[], over: Partial<ReplicaRequest> = {}): ReplicaRequest => ({
  replicaId: `r-${seq++}`,
  group: 'shop/db',
  namespace: 'shop',
  nodeSelector: {},
  requests: { cpuMillis: 100, memoryBytes: Gi },
  claims,
  ...over,
});

const claim = (name: string, over: Partial<ClaimView> = {}): [string, ClaimView] => [
  claimKey('shop', name),
  {
    id: `c-${name}`,
    namespace: 'shop',
    name,
    nodeName: null,
    terminating: false,
    oncePod: false,
    held: false,
    ...over,
  },
];

describe('placement with PersistentVolumeClaims', () => {
  const nodes = [node('a'), node('b'), node('c')];

  it('binds an unbound claim where its first replica goes, and sends the rest of the batch there', () => {
    const claims = new Map([claim('data')]);
    const result = placeReplicas({
      nodes,
      requests: [req(['data']), req(['data']), req(['data'])],
      groupCounts: new Map(),
      claims,
    });
    const placedOn = new Set(result.placements.map((p) => p.nodeId));
    expect([result.placements.length, placedOn.size]).toEqual([3, 1]);
    const nodeName = [...placedOn][0]!.slice(3);
    expect(result.bound).toEqual(new Map([['c-data', nodeName]]));
    // The caller's view is not changed by the call.
    expect(claims.get(claimKey('shop', 'data'))!.nodeName).toBeNull();
  });

  it('pins to the bound node, and says why when it cannot go there', () => {
    const claims = new Map([claim('data', { nodeName: 'b' })]);
    const fits = placeReplicas({ nodes, requests: [req(['data'])], groupCounts: new Map(), claims });
    expect(fits.placements).toEqual([{ replicaId: expect.any(String), nodeId: 'id-b' }]);
    expect(fits.bound?.size).toBe(0);
    const full = placeReplicas({
      nodes: [node('a'), node('b', { allocated: { cpuMillis: 0, memoryBytes: 8 * Gi } }), node('c')],
      requests: [req(['data'])],
      groupCounts: new Map(),
      claims,
    });
    expect(full.unplaced[0]!.reason).toBe(
      'volume node affinity conflict: persistentvolumeclaim "data" is bound to node "b" (0/3 nodes available: 2 do not match nodeSelector, 1 insufficient memory)',
    );
  });

  it('keeps a replica waiting, with the reason, for a missing, deleting, lost-node or conflicting claim', () => {
    const claims = new Map([
      claim('gone-soon', { terminating: true }),
      claim('on-lost', { nodeName: 'c' }),
      claim('on-a', { nodeName: 'a' }),
      claim('on-b', { nodeName: 'b' }),
      claim('solo', { oncePod: true, held: true }),
    ]);
    const lost = [node('a'), node('b'), node('c', { ready: false })];
    const reasons = placeReplicas({
      nodes: lost,
      requests: [
        req(['missing']),
        req(['gone-soon']),
        req(['on-lost']),
        req(['on-a', 'on-b']),
        req(['solo']),
      ],
      groupCounts: new Map(),
      claims,
    }).unplaced.map((u) => u.reason);
    expect(reasons).toEqual([
      'persistentvolumeclaim "missing" not found',
      'persistentvolumeclaim "gone-soon" is being deleted',
      'persistentvolumeclaim "on-lost" is bound to node "c", which is not ready: the replica waits for it (its data is there)',
      'persistentvolumeclaims "on-a" and "on-b" are bound to different nodes ("a", "b")',
      'persistentvolumeclaim "solo" is ReadWriteOncePod and another replica uses it',
    ]);
  });

  it('leaves requests without claims as they were', () => {
    const result = placeReplicas({
      nodes,
      requests: [req([], { claims: undefined }), req(['data'])],
      groupCounts: new Map(),
      claims: new Map([claim('data', { nodeName: 'c' })]),
    });
    expect(result.placements.map((p) => p.nodeId)).toEqual(['id-a', 'id-c']);
  });
});
