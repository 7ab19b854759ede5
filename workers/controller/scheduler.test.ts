import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentFeatureLabels, featureLabel, placementSelector } from '../../common/agent-features.ts';
import { PodSpec } from '../../common/deployment.ts';
import {
  placeReplicas,
  type ReplicaRequest,
  type ScheduleInput,
  type ScheduleResult,
  type SchedulerNode,
} from './scheduler.ts';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function node(
  name: string,
  opts: Partial<Omit<SchedulerNode, 'name'>> & { cpu?: number; memory?: number } = {},
) {
  const { cpu = 4000, memory = 8 * Gi, ...rest } = opts;
  return {
    id: `id-${name}`,
    name,
    ready: true,
    unschedulable: false,
    allocatable: { cpuMillis: cpu, memoryBytes: memory },
    allocated: { cpuMillis: 0, memoryBytes: 0 },
    ...rest,
    labels: { 'berth.dev/node': name, ...rest.labels },
  } satisfies SchedulerNode;
}

let seq = 0;
function req(opts: Partial<ReplicaRequest> & { cpu?: number; memory?: number } = {}): ReplicaRequest {
  const { cpu = 100, memory = 128 * Mi, ...rest } = opts;
  return {
    replicaId: `rep-${seq++}`,
    group: 'default/web',
    nodeSelector: {},
    requests: { cpuMillis: cpu, memoryBytes: memory },
    ...rest,
  };
}

const schedule = (nodes: SchedulerNode[], requests: ReplicaRequest[], groupCounts = new Map()) =>
  placeReplicas({ nodes, requests, groupCounts });

/** Node names in placement order. */
const names = (result: ScheduleResult, nodes: SchedulerNode[]) =>
  result.placements.map((p) => nodes.find((n) => n.id === p.nodeId)!.name);

describe('placeReplicas: filtering and reasons', () => {
  it('places a pod that uses a newer feature only where the agent honours it, and says which agents are too old', () => {
    const spec = PodSpec.parse({
      containers: [{ name: 'web', image: 'web:1', securityContext: { runAsNonRoot: true } }],
      volumes: [{ name: 'scratch', emptyDir: {} }],
    });
    const current = { ...agentFeatureLabels(), zone: 'eu' };
    const nodes = [
      node('old-1', { labels: { zone: 'eu' } }),
      node('old-2', { labels: { zone: 'eu', [featureLabel('volumes')]: 'true' } }),
      node('other', { labels: { ...current, zone: 'us' } }),
      node('new', { labels: current }),
    ];
    const selector = placementSelector({ ...spec, nodeSelector: { zone: 'eu' } });
    const placed = schedule(nodes, [req({ nodeSelector: selector })]);
    expect(names(placed, nodes)).toEqual(['new']);
    const waiting = schedule(nodes.slice(0, 3), [req({ nodeSelector: selector })]);
    expect(waiting.unplaced[0]?.reason).toBe(
      '0/3 nodes available: 1 does not match nodeSelector, 2 node(s) run a berth-agent without security-context, volumes (upgrade berth-agent)',
    );
    // A plain pod keeps its own selector object (the scheduler groups requests by it).
    const plain = PodSpec.parse({ containers: [{ name: 'web', image: 'web:1' }] });
    expect(placementSelector(plain)).toBe(plain.nodeSelector);
    expect(
      names(schedule(nodes.slice(0, 2), [req({ nodeSelector: placementSelector(plain) })]), nodes),
    ).toEqual(['old-1']);
  });

  it('says so when there are no nodes at all', () => {
    const r = req();
    expect(schedule([], [r])).toEqual({
      placements: [],
      unplaced: [{ replicaId: r.replicaId, reason: '0/0 nodes available: no nodes registered' }],
    });
  });

  it('counts not ready nodes and nodes short of memory', () => {
    const nodes = [
      node('a', { ready: false }),
      node('b', { memory: 64 * Mi }),
      node('c', { allocated: { cpuMillis: 0, memoryBytes: 8 * Gi - 100 * Mi } }),
    ];
    expect(schedule(nodes, [req()]).unplaced[0]?.reason).toBe(
      '0/3 nodes available: 1 not ready, 2 insufficient memory',
    );
  });

  it('counts nodeSelector mismatches', () => {
    const nodes = [node('a', { labels: { zone: 'eu' } }), node('b'), node('c', { labels: { zone: 'us' } })];
    const result = schedule(nodes, [
      req({ nodeSelector: { zone: 'ap' } }),
      req({ nodeSelector: { zone: 'eu' } }),
      req({ nodeSelector: { zone: 'eu' }, memory: 9 * Gi }),
    ]);
    expect(result.unplaced.map((u) => u.reason)).toEqual([
      '0/3 nodes available: 3 do not match nodeSelector',
      '0/3 nodes available: 2 do not match nodeSelector, 1 insufficient memory',
    ]);
    expect(result.placements).toEqual([{ replicaId: expect.any(String), nodeId: 'id-a' }]);
  });

  it('lists each filter in a stable order; a node short of both resources counts for each', () => {
    const nodes = [
      node('e', { cpu: 50, memory: Mi }),
      node('d', { cpu: 50 }),
      node('c', { labels: { zone: 'us' } }),
      node('b', { unschedulable: true }),
      node('a', { ready: false, unschedulable: true }),
    ];
    const [u] = schedule(nodes, [req({ nodeSelector: { zone: 'eu' } }), req()]).unplaced;
    // A node that is both not ready and cordoned counts as not ready only.
    expect(u?.reason).toBe('0/5 nodes available: 1 not ready, 1 unschedulable, 3 do not match nodeSelector');
    const other = schedule(nodes, [req()]);
    expect(other.placements.map((p) => p.nodeId)).toEqual(['id-c']);
    const big = schedule(nodes, [req({ cpu: 8000 })]);
    expect(big.unplaced[0]?.reason).toBe(
      '0/5 nodes available: 1 not ready, 1 unschedulable, 3 insufficient cpu, 1 insufficient memory',
    );
  });

  it('never places on a node that is not ready or is cordoned, however empty it is', () => {
    const nodes = [node('a', { ready: false }), node('b', { unschedulable: true })];
    const result = schedule(nodes, [req(), req()]);
    expect(result.placements).toEqual([]);
    expect(result.unplaced[1]?.reason).toBe('0/2 nodes available: 1 not ready, 1 unschedulable');
  });

  it('pins a replica to one node with berth.dev/node', () => {
    const nodes = [node('a'), node('b', { allocated: { cpuMillis: 3900, memoryBytes: 0 } }), node('c')];
    const requests = [1, 2, 3].map(() => req({ nodeSelector: { 'berth.dev/node': 'b' } }));
    const result = schedule(nodes, requests);
    expect(result.placements.map((p) => p.nodeId)).toEqual(['id-b']);
    expect(result.unplaced.map((u) => u.reason)).toEqual([
      '0/3 nodes available: 2 do not match nodeSelector, 1 insufficient cpu',
      '0/3 nodes available: 2 do not match nodeSelector, 1 insufficient cpu',
    ]);
  });

  it('lets a request of zero through on a node that is already full', () => {
    const nodes = [node('a', { allocated: { cpuMillis: 5000, memoryBytes: 9 * Gi } })];
    expect(schedule(nodes, [req({ cpu: 0, memory: 0 })]).placements).toHaveLength(1);
    expect(schedule(nodes, [req({ cpu: 1, memory: 0 })]).unplaced[0]?.reason).toBe(
      '0/1 nodes available: 1 insufficient cpu',
    );
  });
});

describe('placeReplicas: host ports', () => {
  const web = (hostPorts: string[], opts: Parameters<typeof req>[0] = {}) => req({ hostPorts, ...opts });

  it("never puts two replicas wanting one host port on a node, counting this call's own placements", () => {
    const nodes = [node('a'), node('b')];
    const requests = [web(['8080/TCP']), web(['8080/TCP']), web(['8080/TCP'])];
    const result = schedule(nodes, requests);
    expect(names(result, nodes)).toEqual(['a', 'b']);
    expect(result.unplaced).toEqual([
      {
        replicaId: requests[2]!.replicaId,
        reason:
          "0/2 nodes available: 2 node(s) didn't have free ports for the requested pod ports (8080/TCP)",
      },
    ]);
  });

  it('counts the ports already in use on each node; another protocol or port is free', () => {
    const nodes = [
      node('a', { usedHostPorts: ['8080/TCP'] }),
      node('b', { usedHostPorts: ['8080/UDP', '9090/TCP'] }),
    ];
    expect(names(schedule(nodes, [web(['8080/TCP'])]), nodes)).toEqual(['b']);
    expect(names(schedule(nodes, [web(['8080/UDP'])]), nodes)).toEqual(['a']);
    // A replica without host ports does not care which are taken.
    expect(names(schedule(nodes, [req(), req({ hostPorts: [] })]), nodes)).toEqual(['a', 'b']);
  });

  it.each([
    {
      why: 'ports, then resources, as Kubernetes words it',
      nodes: [
        node('a', { usedHostPorts: ['8080/TCP'] }),
        node('b', { usedHostPorts: ['8080/TCP'], memory: 64 * Mi }),
        node('c', { memory: 64 * Mi }),
      ],
      ports: ['8080/TCP'],
      reason:
        "0/3 nodes available: 2 node(s) didn't have free ports for the requested pod ports (8080/TCP), 1 insufficient memory",
    },
    {
      why: 'only the ports that were taken, in the order the replica asks for them, each once',
      nodes: [
        node('a', { usedHostPorts: ['8080/TCP'] }),
        node('b', { usedHostPorts: ['8080/TCP', '53/UDP'] }),
      ],
      ports: ['9000/TCP', '53/UDP', '8080/TCP', '53/UDP'],
      reason:
        "0/2 nodes available: 2 node(s) didn't have free ports for the requested pod ports (53/UDP, 8080/TCP)",
    },
    {
      why: 'a node failing an earlier filter counts for that filter only',
      nodes: [
        node('a', { ready: false, usedHostPorts: ['80/TCP'] }),
        node('b', { unschedulable: true, usedHostPorts: ['80/TCP'] }),
        node('c', { labels: { zone: 'us' }, usedHostPorts: ['80/TCP'] }),
        node('d', { labels: { zone: 'eu' }, usedHostPorts: ['80/TCP'], cpu: 10 }),
        node('e', { labels: { zone: 'eu' }, cpu: 10, memory: Mi }),
      ],
      ports: ['80/TCP'],
      selector: { zone: 'eu' },
      reason:
        "0/5 nodes available: 1 not ready, 1 unschedulable, 1 does not match nodeSelector, 1 node(s) didn't have free ports for the requested pod ports (80/TCP), 1 insufficient cpu, 1 insufficient memory",
    },
    {
      why: 'no nodes at all',
      nodes: [],
      ports: ['80/TCP'],
      reason: '0/0 nodes available: no nodes registered',
    },
  ])('explains a replica that has no node: $why', ({ nodes, ports, selector, reason }) => {
    const r = web(ports, { nodeSelector: selector ?? {} });
    expect(schedule(nodes, [r])).toEqual({ placements: [], unplaced: [{ replicaId: r.replicaId, reason }] });
  });

  it('spreads and scores replicas with host ports like any other', () => {
    const nodes = [
      node('a', { allocated: { cpuMillis: 1000, memoryBytes: 0 } }),
      node('b', { allocated: { cpuMillis: 2000, memoryBytes: 0 } }),
      node('c'),
    ];
    const counts = new Map([['default/web', new Map([['id-c', 1]])]]);
    // c is emptiest but holds one of the group already; a is less allocated than b.
    expect(names(schedule(nodes, [web(['80/TCP'])], counts), nodes)).toEqual(['a']);
    // Replicas with and without ports share one count per node for spreading.
    const mixed = schedule(nodes, [req(), web(['80/TCP']), req(), web(['81/TCP'])], counts);
    expect(names(mixed, nodes)).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('placeReplicas: scoring', () => {
  it('spreads a group first, counting replicas already there and those placed in this call', () => {
    const nodes = [
      node('n1', { allocated: { cpuMillis: 200, memoryBytes: 256 * Mi } }),
      node('n2'),
      node('n3'),
    ];
    const counts = new Map([['default/web', new Map([['id-n1', 2]])]]);
    const result = schedule(
      nodes,
      [1, 2, 3, 4, 5].map(() => req()),
      counts,
    );
    expect(names(result, nodes)).toEqual(['n2', 'n3', 'n2', 'n3', 'n1']);
  });

  it('spreads even onto a busier node when that one has none of the group', () => {
    const nodes = [node('a'), node('b', { allocated: { cpuMillis: 3000, memoryBytes: 0 } })];
    const counts = new Map([['default/web', new Map([['id-a', 1]])]]);
    expect(names(schedule(nodes, [req()], counts), nodes)).toEqual(['b']);
  });

  it('keeps groups apart: another group does not count for spreading', () => {
    const nodes = [node('a'), node('b')];
    const result = schedule(nodes, [
      req({ group: 'x' }),
      req({ group: 'y' }),
      req({ group: 'x' }),
      req({ group: 'y' }),
    ]);
    // x→a; y also starts at b (a is busier now); x→b (spread); y→a (spread).
    expect(names(result, nodes)).toEqual(['a', 'b', 'b', 'a']);
  });

  it('prefers the least allocated node by the larger of its cpu and memory fractions', () => {
    const nodes = [
      // cpu 10%, memory 80%: its worse resource is at 80%.
      node('a', { allocated: { cpuMillis: 400, memoryBytes: 6.4 * Gi } }),
      // 50% of both: less allocated overall.
      node('b', { allocated: { cpuMillis: 2000, memoryBytes: 4 * Gi } }),
      node('c', { allocated: { cpuMillis: 3000, memoryBytes: 1 * Gi } }),
    ];
    expect(names(schedule(nodes, [req({ cpu: 0, memory: 0 })]), nodes)).toEqual(['b']);
  });

  it('scores by the fraction after placing, so a big node beats an equally loaded small one', () => {
    const nodes = [
      node('small', { cpu: 1000, memory: 2 * Gi, allocated: { cpuMillis: 500, memoryBytes: Gi } }),
      node('big', { cpu: 8000, memory: 16 * Gi, allocated: { cpuMillis: 4000, memoryBytes: 8 * Gi } }),
    ];
    expect(names(schedule(nodes, [req({ cpu: 250 })]), nodes)).toEqual(['big']);
  });

  it('breaks ties by node name, whatever order the nodes come in', () => {
    const nodes = [node('c'), node('a'), node('b')];
    expect(names(schedule(nodes, [req()]), nodes)).toEqual(['a']);
  });

  it('fills nodes up to capacity, then reports the rest', () => {
    const nodes = [node('a', { cpu: 1000 }), node('b', { cpu: 1000 })];
    const requests = [1, 2, 3, 4, 5].map(() => req({ cpu: 500 }));
    const result = schedule(nodes, requests);
    expect(names(result, nodes)).toEqual(['a', 'b', 'a', 'b']);
    expect(result.unplaced).toEqual([
      { replicaId: requests[4]!.replicaId, reason: '0/2 nodes available: 2 insufficient cpu' },
    ]);
  });

  it('still places a smaller request after a bigger one found no room', () => {
    const nodes = [node('a', { cpu: 1000 })];
    const result = schedule(nodes, [req({ cpu: 2000 }), req({ cpu: 3000 }), req({ cpu: 500 })]);
    expect(result.unplaced).toHaveLength(2);
    expect(result.placements).toHaveLength(1);
  });

  it('updates a remembered reason once later placements change it', () => {
    const nodes = [node('a', { cpu: 1000, memory: Gi })];
    const big = () => req({ cpu: 2000, memory: 512 * Mi });
    const result = schedule(nodes, [big(), req({ cpu: 100, memory: 900 * Mi }), big()]);
    expect(result.unplaced.map((u) => u.reason)).toEqual([
      '0/1 nodes available: 1 insufficient cpu',
      '0/1 nodes available: 1 insufficient cpu, 1 insufficient memory',
    ]);
  });

  it('leaves its input untouched', () => {
    const nodes = [node('a')];
    const counts = new Map([['default/web', new Map([['id-a', 1]])]]);
    const before = JSON.stringify([nodes, [...counts.get('default/web')!]]);
    schedule(nodes, [req(), req()], counts);
    expect(JSON.stringify([nodes, [...counts.get('default/web')!]])).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties. Capacities are powers of two so that every fraction is exact, which makes the
// reference below agree with the real scheduler to the last bit.

/** The obvious implementation: filter every node, sort the survivors, take the first. */
function referenceSchedule(input: ScheduleInput): ScheduleResult {
  const state = input.nodes.map((n) => ({
    node: n,
    cpu: n.allocated.cpuMillis,
    memory: n.allocated.memoryBytes,
  }));
  const counts = new Map<string, Map<string, number>>();
  for (const [g, m] of input.groupCounts) counts.set(g, new Map(m));
  const portsOn = new Map(input.nodes.map((n) => [n.id, new Set(n.usedHostPorts ?? [])]));
  const result: ScheduleResult = { placements: [], unplaced: [] };
  for (const r of input.requests) {
    const { cpuMillis: cpu, memoryBytes: memory } = r.requests;
    const wanted = [...new Set(r.hostPorts ?? [])];
    const taken = new Set<string>();
    const tally = { notReady: 0, unschedulable: 0, mismatch: 0, ports: 0, cpu: 0, memory: 0 };
    const candidates = state.filter((s) => {
      const n = s.node;
      if (!n.ready) {
        tally.notReady++;
        return false;
      }
      if (n.unschedulable) {
        tally.unschedulable++;
        return false;
      }
      if (Object.entries(r.nodeSelector).some(([k, v]) => n.labels[k] !== v)) {
        tally.mismatch++;
        return false;
      }
      const clashes = wanted.filter((p) => portsOn.get(n.id)!.has(p));
      if (clashes.length) {
        tally.ports++;
        for (const p of clashes) taken.add(p);
        return false;
      }
      const shortCpu = cpu > 0 && n.allocatable.cpuMillis - s.cpu < cpu;
      const shortMemory = memory > 0 && n.allocatable.memoryBytes - s.memory < memory;
      if (shortCpu) tally.cpu++;
      if (shortMemory) tally.memory++;
      return !shortCpu && !shortMemory;
    });
    const groupCounts = counts.get(r.group) ?? new Map<string, number>();
    counts.set(r.group, groupCounts);
    const fraction = (used: number, cap: number) => (cap > 0 ? used / cap : 0);
    const score = (s: (typeof state)[number]) =>
      [
        groupCounts.get(s.node.id) ?? 0,
        Math.max(
          fraction(s.cpu + cpu, s.node.allocatable.cpuMillis),
          fraction(s.memory + memory, s.node.allocatable.memoryBytes),
        ),
      ] as const;
    candidates.sort((a, b) => {
      const [ca, fa] = score(a);
      const [cb, fb] = score(b);
      return (
        ca - cb ||
        fa - fb ||
        (a.node.name < b.node.name ? -1 : a.node.name > b.node.name ? 1 : a.node.id < b.node.id ? -1 : 1)
      );
    });
    const best = candidates[0];
    if (!best) {
      const parts = [
        tally.notReady && `${tally.notReady} not ready`,
        tally.unschedulable && `${tally.unschedulable} unschedulable`,
        tally.mismatch && `${tally.mismatch} ${tally.mismatch === 1 ? 'does' : 'do'} not match nodeSelector`,
        tally.ports &&
          `${tally.ports} node(s) didn't have free ports for the requested pod ports (${wanted.filter((p) => taken.has(p)).join(', ')})`,
        tally.cpu && `${tally.cpu} insufficient cpu`,
        tally.memory && `${tally.memory} insufficient memory`,
      ].filter(Boolean);
      const reason =
        state.length === 0
          ? '0/0 nodes available: no nodes registered'
          : `0/${state.length} nodes available: ${parts.join(', ')}`;
      result.unplaced.push({ replicaId: r.replicaId, reason });
      continue;
    }
    best.cpu += cpu;
    best.memory += memory;
    for (const p of wanted) portsOn.get(best.node.id)!.add(p);
    groupCounts.set(best.node.id, (groupCounts.get(best.node.id) ?? 0) + 1);
    result.placements.push({ replicaId: r.replicaId, nodeId: best.node.id });
  }
  return result;
}

const zones = ['eu', 'us'];
const hostPortsArb = fc.subarray(['80/TCP', '80/UDP', '53/UDP', '8080/TCP']);
const nodesArb = fc
  .array(
    fc.record({
      ready: fc.oneof(
        { weight: 5, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      unschedulable: fc.oneof(
        { weight: 5, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      zone: fc.constantFrom(...zones),
      cpu: fc.constantFrom(0, 512, 1024, 2048, 4096),
      memory: fc.constantFrom(0, 256 * Mi, Gi, 4 * Gi),
      usedCpu: fc.constantFrom(0, 0, 128, 512, 1024, 5000),
      usedMemory: fc.constantFrom(0, 0, 64 * Mi, 512 * Mi, 5 * Gi),
      usedHostPorts: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, hostPortsArb),
    }),
    { maxLength: 8 },
  )
  .map((specs) =>
    // Names deliberately out of order, so sorting by name matters.
    specs.map((s, i) =>
      node(`node-${(i * 7) % 10}${i}`, {
        ready: s.ready,
        unschedulable: s.unschedulable,
        labels: { zone: s.zone },
        cpu: s.cpu,
        memory: s.memory,
        allocated: { cpuMillis: s.usedCpu, memoryBytes: s.usedMemory },
        ...(s.usedHostPorts ? { usedHostPorts: s.usedHostPorts } : {}),
      }),
    ),
  );

const scheduleInputArb: fc.Arbitrary<ScheduleInput> = nodesArb.chain((nodes) =>
  fc
    .record({
      requests: fc.array(
        fc.record({
          group: fc.constantFrom('ns/a', 'ns/b', 'other/a'),
          selector: fc.oneof(
            { weight: 4, arbitrary: fc.constant({}) },
            { weight: 2, arbitrary: fc.constantFrom(...zones).map((z) => ({ zone: z })) },
            {
              weight: 1,
              arbitrary: fc.nat({ max: 9 }).map((i) => ({ 'berth.dev/node': nodes[i]?.name ?? 'gone' })),
            },
          ),
          cpu: fc.constantFrom(0, 64, 128, 256, 512),
          memory: fc.constantFrom(0, 32 * Mi, 128 * Mi, 512 * Mi),
          // Mostly none, as in real clusters; a port twice is one container's port asked again.
          hostPorts: fc.oneof(
            { weight: 4, arbitrary: fc.constant(undefined) },
            { weight: 2, arbitrary: hostPortsArb },
            { weight: 1, arbitrary: fc.constantFrom(['80/TCP', '80/TCP'], ['8080/TCP', '53/UDP']) },
          ),
        }),
        { maxLength: 40 },
      ),
      counts: fc.array(fc.tuple(fc.constantFrom('ns/a', 'ns/b'), fc.nat({ max: 9 }), fc.nat({ max: 3 })), {
        maxLength: 6,
      }),
    })
    .map(({ requests, counts }) => {
      const groupCounts = new Map<string, Map<string, number>>();
      for (const [g, i, c] of counts) {
        const n = nodes[i];
        if (!n) continue;
        const m = groupCounts.get(g) ?? new Map<string, number>();
        m.set(n.id, c);
        groupCounts.set(g, m);
      }
      return {
        nodes,
        groupCounts,
        requests: requests.map((r, i) => ({
          replicaId: `r${i}`,
          group: r.group,
          nodeSelector: r.selector,
          requests: { cpuMillis: r.cpu, memoryBytes: r.memory },
          ...(r.hostPorts ? { hostPorts: r.hostPorts } : {}),
        })),
      };
    }),
);

describe('placeReplicas: properties', () => {
  // The scheduler switches between a shared heap, per-group heaps and scanning; small thresholds
  // send these small inputs down every one of those paths, which must all give the same answer.
  const tuningArb = fc.record({
    smallGroup: fc.constantFrom(undefined, 0, 1, 2, 16),
    maxRefresh: fc.constantFrom(undefined, -1, 0, 1, 3),
  });

  it('agrees exactly with the obvious implementation, whichever search it uses', () => {
    fc.assert(
      fc.property(scheduleInputArb, tuningArb, (input, tuning) => {
        expect(placeReplicas(input, tuning)).toEqual(referenceSchedule(input));
      }),
      { numRuns: 1500 },
    );
  });

  it('places or reports every request exactly once, only on nodes that pass every filter, within capacity', () => {
    fc.assert(
      fc.property(scheduleInputArb, (input) => {
        const result = placeReplicas(input);
        const seen = [
          ...result.placements.map((p) => p.replicaId),
          ...result.unplaced.map((u) => u.replicaId),
        ];
        expect(seen.sort()).toEqual(input.requests.map((r) => r.replicaId).sort());

        const byId = new Map(input.nodes.map((n) => [n.id, n]));
        const requestOf = new Map(input.requests.map((r) => [r.replicaId, r]));
        const added = new Map<string, { cpu: number; memory: number }>();
        for (const p of result.placements) {
          const n = byId.get(p.nodeId)!;
          const r = requestOf.get(p.replicaId)!;
          expect(n.ready && !n.unschedulable).toBe(true);
          for (const [k, v] of Object.entries(r.nodeSelector)) expect(n.labels[k]).toBe(v);
          const sum = added.get(n.id) ?? { cpu: 0, memory: 0 };
          sum.cpu += r.requests.cpuMillis;
          sum.memory += r.requests.memoryBytes;
          added.set(n.id, sum);
        }
        // Never over capacity: what was added fits in what was free (a zero request takes nothing).
        for (const [id, sum] of added) {
          const n = byId.get(id)!;
          if (sum.cpu > 0)
            expect(sum.cpu).toBeLessThanOrEqual(n.allocatable.cpuMillis - n.allocated.cpuMillis);
          if (sum.memory > 0)
            expect(sum.memory).toBeLessThanOrEqual(n.allocatable.memoryBytes - n.allocated.memoryBytes);
        }
        // Unplaced means no eligible node had room and free ports, and free room and free ports
        // only shrink during a call.
        const portsAtEnd = new Map(input.nodes.map((n) => [n.id, new Set(n.usedHostPorts ?? [])]));
        for (const p of result.placements)
          for (const port of requestOf.get(p.replicaId)!.hostPorts ?? []) portsAtEnd.get(p.nodeId)!.add(port);
        for (const u of result.unplaced) {
          const r = requestOf.get(u.replicaId)!;
          expect(u.reason).toMatch(/^0\/\d+ nodes available: .+/);
          for (const n of input.nodes) {
            const eligible =
              n.ready &&
              !n.unschedulable &&
              Object.entries(r.nodeSelector).every(([k, v]) => n.labels[k] === v);
            if (!eligible) continue;
            const sum = added.get(n.id) ?? { cpu: 0, memory: 0 };
            const cpuFits =
              r.requests.cpuMillis === 0 ||
              n.allocatable.cpuMillis - n.allocated.cpuMillis - sum.cpu >= r.requests.cpuMillis;
            const memoryFits =
              r.requests.memoryBytes === 0 ||
              n.allocatable.memoryBytes - n.allocated.memoryBytes - sum.memory >= r.requests.memoryBytes;
            const portsFree = (r.hostPorts ?? []).every((port) => !portsAtEnd.get(n.id)!.has(port));
            expect(cpuFits && memoryFits && portsFree).toBe(false);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('never leaves a node holding two replicas with the same host port and protocol', () => {
    const portsArb = fc.subarray(['80/TCP', '80/UDP', '443/TCP', '53/UDP'], { minLength: 1 });
    fc.assert(
      fc.property(
        fc.array(fc.option(portsArb, { nil: undefined }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ group: fc.constantFrom('a', 'b'), ports: fc.option(portsArb) }), {
          maxLength: 40,
        }),
        fc.constantFrom(undefined, 0, 1),
        (used, wanted, smallGroup) => {
          const nodes = used.map((ports, i) =>
            node(`n${i}`, ports ? { usedHostPorts: ports, cpu: 64_000 } : { cpu: 64_000 }),
          );
          const requests = wanted.map(({ group, ports }) =>
            req({ group, ...(ports ? { hostPorts: ports } : {}) }),
          );
          const result = placeReplicas({ nodes, requests, groupCounts: new Map() }, { smallGroup });
          const held = new Map(nodes.map((n) => [n.id, new Set(n.usedHostPorts ?? [])]));
          const requestOf = new Map(requests.map((r) => [r.replicaId, r]));
          for (const p of result.placements) {
            for (const port of requestOf.get(p.replicaId)!.hostPorts ?? []) {
              expect(held.get(p.nodeId)!.has(port), `${port} twice on ${p.nodeId}`).toBe(false);
              held.get(p.nodeId)!.add(port);
            }
          }
          // Nothing else keeps a replica off these roomy nodes: one without ports is always placed.
          for (const u of result.unplaced) {
            expect(requestOf.get(u.replicaId)!.hostPorts).toBeDefined();
            expect(u.reason).toContain("didn't have free ports for the requested pod ports (");
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('balances each group across equal nodes (max − min ≤ 1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 120 }),
        fc.array(fc.constantFrom(0, 50, 100), { minLength: 1, maxLength: 3 }),
        (nodeCount, groups, sizes) => {
          const nodes = Array.from({ length: nodeCount }, (_, i) =>
            node(`n${i}`, { cpu: 1_000_000, memory: 1024 * Gi }),
          );
          const requests = groups.map((group, i) => req({ group, cpu: sizes[i % sizes.length]!, memory: 0 }));
          const result = placeReplicas({ nodes, requests, groupCounts: new Map() });
          expect(result.unplaced).toEqual([]);
          const groupOf = new Map(requests.map((r) => [r.replicaId, r.group]));
          for (const g of ['a', 'b', 'c']) {
            const perNode = new Map(nodes.map((n) => [n.id, 0]));
            for (const p of result.placements)
              if (groupOf.get(p.replicaId) === g) perNode.set(p.nodeId, perNode.get(p.nodeId)! + 1);
            const values = [...perNode.values()];
            expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('placeReplicas: scale', () => {
  // Performance belongs in benchmarks; this only guards against an accidental blow-up and
  // prints the time so that a regression is visible.
  const cluster = () =>
    Array.from({ length: 1000 }, (_, i) =>
      node(`node-${String(i).padStart(4, '0')}`, {
        cpu: 16_000,
        memory: 64 * Gi,
        labels: { zone: i % 2 === 0 ? 'eu' : 'us' },
        allocated: { cpuMillis: (i % 7) * 500, memoryBytes: (i % 5) * Gi },
      }),
    );

  it('places 100,000 replicas of 100 deployments over 1,000 nodes in one call', () => {
    const nodes = cluster();
    const requests = Array.from({ length: 100_000 }, (_, i) =>
      req({
        group: `ns/app-${Math.floor(i / 1000)}`,
        nodeSelector: i % 10 === 0 ? { zone: 'eu' } : {},
        cpu: 100,
        memory: 256 * Mi,
      }),
    );
    const started = performance.now();
    const result = placeReplicas({ nodes, requests, groupCounts: new Map() });
    const ms = performance.now() - started;
    console.log(`scheduler: 100,000 requests over 1,000 nodes in ${ms.toFixed(0)} ms`);
    expect(result.placements).toHaveLength(100_000);
    expect(ms).toBeLessThan(10_000);
  });

  it('stays fast when groups take turns, when the cluster runs out of room, and with one replica per group', () => {
    const nodes = cluster();
    const cases: [string, ReplicaRequest[]][] = [
      [
        '100 deployments taking turns',
        Array.from({ length: 100_000 }, (_, i) => req({ group: `ns/app-${i % 100}` })),
      ],
      [
        '100,000 one-replica deployments',
        Array.from({ length: 100_000 }, (_, i) => req({ group: `ns/app-${i}` })),
      ],
      [
        'more than fits',
        Array.from({ length: 100_000 }, (_, i) => req({ group: `ns/app-${i % 50}`, cpu: 1000, memory: Gi })),
      ],
    ];
    for (const [name, requests] of cases) {
      const started = performance.now();
      const result = placeReplicas({ nodes, requests, groupCounts: new Map() });
      const ms = performance.now() - started;
      console.log(
        `scheduler: ${name}: ${result.placements.length} placed over 1,000 nodes in ${ms.toFixed(0)} ms`,
      );
      expect(result.placements.length + result.unplaced.length).toBe(100_000);
      expect(ms).toBeLessThan(10_000);
    }
  });

  it('fills every node with host-port replicas, among others, and reports the ones left over', () => {
    const nodes = cluster();
    // Every 8th asks for one of 10 ports, in turn: 10 ports × 1,000 nodes, so 10,000 of these
    // 12,500 fit and the last 2,500 find their port taken everywhere.
    const requests = Array.from({ length: 100_000 }, (_, i) => {
      const port = (i / 8) % 10;
      return i % 8 === 0
        ? req({ group: `ns/port-${port}`, hostPorts: [`${8000 + port}/TCP`] })
        : req({ group: `ns/app-${i % 100}` });
    });
    const started = performance.now();
    const result = placeReplicas({ nodes, requests, groupCounts: new Map() });
    const ms = performance.now() - started;
    console.log(
      `scheduler: 12,500 of 100,000 with host ports: ${result.placements.length} placed over 1,000 nodes in ${ms.toFixed(0)} ms`,
    );
    expect(result.placements).toHaveLength(97_500);
    expect(result.unplaced[0]?.reason).toBe(
      "0/1000 nodes available: 1000 node(s) didn't have free ports for the requested pod ports (8000/TCP)",
    );
    expect(ms).toBeLessThan(10_000);
  });
});
