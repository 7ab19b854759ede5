/**
 * The scheduler: places replicas onto nodes. A pure function over plain data, like Kubernetes'
 * kube-scheduler reduced to what Berth needs: filters (node ready, schedulable, nodeSelector,
 * host ports free, resources fit), then a score (spread the replicas of a deployment, then least
 * allocated), then the node name as a stable tie-breaker. Requests are placed one after another in
 * the order given, each seeing the placements made before it.
 */

import { missingFeatures, outdatedAgentsReason } from '../../common/agent-features.ts';
import type { Scalars } from '../../common/extended-resources.ts';
import type { Taint } from '../../common/scheduling.ts';
import { ClaimPlacement, type ClaimView } from './claim-placement.ts';
import { type PlacedPod, type PlacementView, PodIndex, placeConstrained } from './constrained-placement.ts';
import { countsPods, formatTaint, hasRules, type PodScheduling } from './scheduling-rules.ts';

export interface SchedulerNode {
  id: string;
  name: string;
  /** Includes berth.dev/node=<name>. */
  labels: Record<string, string>;
  ready: boolean;
  unschedulable: boolean;
  allocatable: { cpuMillis: number; memoryBytes: number };
  /** Sum of the requests of the alive replicas already placed there. */
  allocated: { cpuMillis: number; memoryBytes: number };
  /**
   * Host ports ("8080/TCP") taken by replicas on the node, stopping ones included (their
   * containers hold the port until they are gone). Absent: none.
   */
  usedHostPorts?: readonly string[];
  /** Node taints (berth node taint). Absent: none. */
  taints?: readonly Taint[];
  /**
   * ephemeral-storage and extended resources (common/extended-resources.ts): what the node offers
   * and what its replicas hold. Absent: offers none.
   */
  scalars?: { allocatable: Scalars; allocated: Scalars };
}

export interface ReplicaRequest {
  replicaId: string;
  /** Deployment key "ns/name": replicas of one group are spread across nodes. */
  group: string;
  nodeSelector: Record<string, string>;
  requests: { cpuMillis: number; memoryBytes: number };
  /** Host ports ("8080/TCP") the replica publishes on its node. Absent: none. */
  hostPorts?: readonly string[];
  /** The pod's namespace and labels: what other pods' affinity terms and spread count. */
  namespace?: string;
  labels?: Record<string, string>;
  /** affinity, tolerations, topologySpreadConstraints: placed by constrained-placement.ts. */
  scheduling?: PodScheduling;
  /** ephemeral-storage and extended resources; placed by constrained-placement.ts too. Absent: none. */
  scalars?: Scalars;
  /** The PersistentVolumeClaims the pod mounts, by name (claim-placement.ts). Absent: none. */
  claims?: readonly string[];
}

export interface ScheduleInput {
  nodes: SchedulerNode[];
  requests: ReplicaRequest[];
  /** group -> nodeId -> number of alive replicas already there. */
  groupCounts: Map<string, Map<string, number>>;
  /** Running replicas with their labels, for pod affinity and spread; needed only when a request has them. */
  pods?: { nodeId: string; namespace: string; labels: Record<string, string> }[];
  /** The claims the requests mount, by "namespace/name"; needed only when a request has claims. */
  claims?: ReadonlyMap<string, ClaimView>;
}

export interface ScheduleResult {
  placements: { replicaId: string; nodeId: string }[];
  /** reason like "0/3 nodes available: 1 not ready, 2 insufficient memory". */
  unplaced: { replicaId: string; reason: string }[];
  /** Claims bound by these placements: claim id → node name. */
  bound?: Map<string, string>;
}

/** Nodes passing the filters that do not depend on resources, for one nodeSelector. */
interface SelectorFit {
  eligible: Int32Array;
  notReady: number;
  unschedulable: number;
  /** Nodes with an untolerated NoSchedule taint, by the first such taint as Kubernetes prints it. */
  tainted: Map<string, number>;
  mismatch: number;
  /** Nodes whose agent lacks a feature the pod uses (common/agent-features.ts), and which. */
  outdated: number;
  missing: Set<string>;
}

/**
 * A binary min-heap of node indexes keyed by (group count, fraction, index), with lazy keys.
 * Every key only grows during a call (counts and allocations only go up), so a stored key is a
 * lower bound of the true one: the top is refreshed until its stored key is exact, and then it is
 * the true minimum.
 */
class NodeHeap {
  size = 0;
  readonly node: Int32Array;
  readonly count: Int32Array;
  readonly frac: Float64Array;

  constructor(capacity: number) {
    this.node = new Int32Array(capacity);
    this.count = new Int32Array(capacity);
    this.frac = new Float64Array(capacity);
  }

  private less(a: number, b: number): boolean {
    const ca = this.count[a]!;
    const cb = this.count[b]!;
    if (ca !== cb) return ca < cb;
    const fa = this.frac[a]!;
    const fb = this.frac[b]!;
    if (fa !== fb) return fa < fb;
    return this.node[a]! < this.node[b]!;
  }

  private swap(a: number, b: number): void {
    const n = this.node[a]!;
    const c = this.count[a]!;
    const f = this.frac[a]!;
    this.node[a] = this.node[b]!;
    this.count[a] = this.count[b]!;
    this.frac[a] = this.frac[b]!;
    this.node[b] = n;
    this.count[b] = c;
    this.frac[b] = f;
  }

  private down(p: number): void {
    for (;;) {
      const l = 2 * p + 1;
      if (l >= this.size) return;
      const r = l + 1;
      const m = r < this.size && this.less(r, l) ? r : l;
      if (!this.less(m, p)) return;
      this.swap(m, p);
      p = m;
    }
  }

  private up(p: number): void {
    while (p > 0) {
      const parent = (p - 1) >> 1;
      if (!this.less(p, parent)) return;
      this.swap(p, parent);
      p = parent;
    }
  }

  /** Adds without ordering; heapify() once all are in. */
  append(node: number, count: number, frac: number): void {
    const p = this.size++;
    this.node[p] = node;
    this.count[p] = count;
    this.frac[p] = frac;
  }

  heapify(): void {
    for (let p = (this.size >> 1) - 1; p >= 0; p--) this.down(p);
  }

  push(node: number, count: number, frac: number): void {
    this.append(node, count, frac);
    this.up(this.size - 1);
  }

  pop(): void {
    const last = --this.size;
    if (last > 0) {
      this.node[0] = this.node[last]!;
      this.count[0] = this.count[last]!;
      this.frac[0] = this.frac[last]!;
      this.down(0);
    }
  }

  rekeyTop(count: number, frac: number): void {
    this.count[0] = count;
    this.frac[0] = frac;
    this.down(0);
  }
}

/** Everything about one kind of request: its nodeSelector and its resource requests. */
interface Shape {
  fit: SelectorFit;
  cpu: number;
  memory: number;
  /** Nodes that pass the filters and still have room, by (fraction, name), for groups with few nodes. */
  shared: NodeHeap;
  /** Per group spread over many nodes: nodes with room by (group count, fraction, name); null: scan instead. */
  own: Map<string, NodeHeap | null>;
  /** Why nothing fits, and the number of placements when that was written. */
  misfit: { reason: string; atPlacement: number } | null;
}

/** Where the scheduler switches between its search strategies; they all give the same answer. */
export interface SchedulerTuning {
  /** A group on at most this many nodes uses the shared heap (default 16). */
  smallGroup?: number;
  /** Stale keys refreshed in one search before a group falls back to scanning (default 24). */
  maxRefresh?: number;
}

interface Group {
  name: string;
  counts: Map<number, number>;
  dense: Int32Array | null;
}

// A group on at most this many nodes searches the shared heap and sets its own nodes aside;
// beyond it, the group gets a heap of its own (built once, in time linear in the nodes).
const SMALL_GROUP = 16;
// Refreshing more stale keys than this for one request means other groups keep changing the
// nodes this group wants: a plain scan of the nodes is cheaper from then on.
const MAX_REFRESH = 24;

function selectorKey(selector: Record<string, string>): string {
  const keys = Object.keys(selector);
  if (keys.length === 0) return '';
  keys.sort();
  return JSON.stringify(keys.map((k) => [k, selector[k]]));
}

/**
 * Filtering: a node that fails an earlier filter (not ready, unschedulable, nodeSelector, a
 * wanted host port/protocol already taken there) is counted for that filter only; one that fails
 * on resources counts once for each resource it is short of, as Kubernetes' NodeResourcesFit
 * reports. So the counts may add up to more than the nodes. A request of zero for a resource
 * always fits (Kubernetes checks only what is requested). A host port is taken by the node's
 * replicas and by this call's earlier placements.
 *
 * Scoring, lowest first: replicas of the same group on the node (counting this call's own
 * placements), then the larger of the cpu and memory fractions allocated once the replica is
 * there (a resource the node has none of does not count), then the node name.
 *
 * Cost: per request shape, one pass over the nodes to build a heap; per placement, a few heap
 * operations. A request that fits nowhere costs a pass over the nodes to explain why, unless the
 * same shape already failed and nothing was placed since. A request with host ports is rare and
 * at most one per node can have each port, so it skips the heaps: one scan over the eligible
 * nodes finds its node, or the reason it has none.
 */
export function placeReplicas(input: ScheduleInput, tuning: SchedulerTuning = {}): ScheduleResult {
  const smallGroup = tuning.smallGroup ?? SMALL_GROUP;
  const maxRefresh = tuning.maxRefresh ?? MAX_REFRESH;
  const nodes = [...input.nodes].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  const n = nodes.length;
  const index = new Map<string, number>();
  const freeCpu = new Float64Array(n);
  const freeMem = new Float64Array(n);
  const allocCpu = new Float64Array(n);
  const allocMem = new Float64Array(n);
  const invCpu = new Float64Array(n);
  const invMem = new Float64Array(n);
  // Host port -> a byte per node, set where it is taken. Few ports are ever in use, and a request
  // with host ports tests them on every eligible node: an array is several times faster than a set.
  const taken = new Map<string, Uint8Array>();
  const take = (port: string, i: number) => {
    let on = taken.get(port);
    if (!on) {
      on = new Uint8Array(n);
      taken.set(port, on);
    }
    on[i] = 1;
  };
  nodes.forEach((node, i) => {
    index.set(node.id, i);
    allocCpu[i] = node.allocated.cpuMillis;
    allocMem[i] = node.allocated.memoryBytes;
    freeCpu[i] = node.allocatable.cpuMillis - node.allocated.cpuMillis;
    freeMem[i] = node.allocatable.memoryBytes - node.allocated.memoryBytes;
    invCpu[i] = node.allocatable.cpuMillis > 0 ? 1 / node.allocatable.cpuMillis : 0;
    invMem[i] = node.allocatable.memoryBytes > 0 ? 1 / node.allocatable.memoryBytes : 0;
    if (node.usedHostPorts) for (const port of node.usedHostPorts) take(port, i);
  });
  const fitsOn = (i: number, cpu: number, memory: number) =>
    (cpu <= 0 || freeCpu[i]! >= cpu) && (memory <= 0 || freeMem[i]! >= memory);
  const fracOn = (i: number, cpu: number, memory: number) =>
    Math.max((allocCpu[i]! + cpu) * invCpu[i]!, (allocMem[i]! + memory) * invMem[i]!);

  const fits = new Map<string, SelectorFit>();
  const selectorFit = (selector: Record<string, string>, key: string): SelectorFit => {
    let fit = fits.get(key);
    if (fit) return fit;
    const entries = Object.entries(selector);
    const eligible: number[] = [];
    let notReady = 0;
    let unschedulable = 0;
    let mismatch = 0;
    let outdated = 0;
    const missing = new Set<string>();
    const tainted = new Map<string, number>();
    nodes.forEach((node, i) => {
      const taint = node.taints?.find((t) => t.effect === 'NoSchedule');
      if (!node.ready) notReady++;
      else if (node.unschedulable) unschedulable++;
      else if (taint) tainted.set(formatTaint(taint), (tainted.get(formatTaint(taint)) ?? 0) + 1);
      else if (entries.some(([k, v]) => node.labels[k] !== v)) {
        const lacking = missingFeatures(entries, node.labels);
        if (lacking.length === 0) mismatch++;
        else {
          outdated++;
          for (const f of lacking) missing.add(f);
        }
      } else eligible.push(i);
    });
    fit = {
      eligible: Int32Array.from(eligible),
      notReady,
      unschedulable,
      tainted,
      mismatch,
      outdated,
      missing,
    };
    fits.set(key, fit);
    return fit;
  };

  // Group counts by node index, sparse (most groups are on few nodes), plus a dense copy for a
  // group that is searched by scanning.
  const groups = new Map<string, Group>();
  const groupOf = (name: string): Group => {
    let group = groups.get(name);
    if (!group) {
      group = { name, counts: new Map(), dense: null };
      for (const [nodeId, count] of input.groupCounts.get(name) ?? []) {
        const i = index.get(nodeId);
        if (i !== undefined && count > 0) group.counts.set(i, count);
      }
      groups.set(name, group);
    }
    return group;
  };
  const denseOf = (group: Group): Int32Array => {
    if (!group.dense) {
      group.dense = new Int32Array(n);
      for (const [i, c] of group.counts) group.dense[i] = c;
    }
    return group.dense;
  };

  const heapOf = (shape: Shape, counts: Map<number, number> | null): NodeHeap => {
    const heap = new NodeHeap(shape.fit.eligible.length);
    for (const i of shape.fit.eligible) {
      if (fitsOn(i, shape.cpu, shape.memory))
        heap.append(i, counts?.get(i) ?? 0, fracOn(i, shape.cpu, shape.memory));
    }
    heap.heapify();
    return heap;
  };

  const shapes = new Map<string, Shape>();
  const shapeOf = (req: ReplicaRequest): Shape => {
    const sel = selectorKey(req.nodeSelector);
    const key = `${req.requests.cpuMillis}|${req.requests.memoryBytes}|${sel}`;
    let shape = shapes.get(key);
    if (!shape) {
      const fit = selectorFit(req.nodeSelector, sel);
      shape = {
        fit,
        cpu: req.requests.cpuMillis,
        memory: req.requests.memoryBytes,
        shared: new NodeHeap(0),
        own: new Map(),
        misfit: null,
      };
      shape.shared = heapOf(shape, null);
      shapes.set(key, shape);
    }
    return shape;
  };

  /** Whether any node has room for the shape: the shared heap holds every one that might. */
  const hasRoom = (shape: Shape): boolean => {
    const heap = shape.shared;
    while (heap.size > 0 && !fitsOn(heap.node[0]!, shape.cpu, shape.memory)) heap.pop();
    return heap.size > 0;
  };

  /**
   * The best node from a group's own heap, or -1; null when the heap had to refresh too many keys,
   * which happens when many groups take turns on the same nodes: then scanning is cheaper.
   */
  const fromOwn = (shape: Shape, heap: NodeHeap, counts: Map<number, number>): number | null => {
    let refreshed = 0;
    while (heap.size > 0) {
      const i = heap.node[0]!;
      if (!fitsOn(i, shape.cpu, shape.memory)) {
        heap.pop(); // room only shrinks: it will not fit this shape again
        continue;
      }
      const count = counts.get(i) ?? 0;
      const frac = fracOn(i, shape.cpu, shape.memory);
      if (count === heap.count[0] && frac === heap.frac[0]) return i;
      if (++refreshed > maxRefresh) return null;
      heap.rekeyTop(count, frac);
    }
    return -1;
  };

  /** The best node by looking at every eligible one: the plain loop, in typed arrays. */
  const byScan = (shape: Shape, dense: Int32Array): number => {
    const { cpu, memory } = shape;
    const eligible = shape.fit.eligible;
    let best = -1;
    let bestCount = 0;
    let bestFrac = 0;
    for (let k = 0; k < eligible.length; k++) {
      const i = eligible[k]!;
      if ((cpu > 0 && freeCpu[i]! < cpu) || (memory > 0 && freeMem[i]! < memory)) continue;
      const count = dense[i]!;
      if (best >= 0 && count > bestCount) continue;
      const frac = fracOn(i, cpu, memory);
      // Eligible nodes are in name order, so keeping the first of equals breaks ties by name.
      if (best < 0 || count < bestCount || frac < bestFrac) {
        best = i;
        bestCount = count;
        bestFrac = frac;
      }
    }
    return best;
  };

  /**
   * The best node from the shared heap: the first with none of the group (spread beats any
   * fraction); failing that, the best of the group's own nodes, which were all set aside on the way.
   */
  const asideNode: number[] = [];
  const asideFrac: number[] = [];
  const fromShared = (shape: Shape, counts: Map<number, number>): number => {
    const heap = shape.shared;
    let best = -1;
    while (heap.size > 0) {
      const i = heap.node[0]!;
      if (!fitsOn(i, shape.cpu, shape.memory)) {
        heap.pop();
        continue;
      }
      const frac = fracOn(i, shape.cpu, shape.memory);
      if (frac !== heap.frac[0]) {
        heap.rekeyTop(0, frac);
        continue;
      }
      if ((counts.get(i) ?? 0) === 0) {
        best = i;
        break;
      }
      asideNode.push(i);
      asideFrac.push(frac);
      heap.pop();
    }
    if (best < 0) {
      let bestCount = 0;
      let bestFrac = 0;
      for (let k = 0; k < asideNode.length; k++) {
        const i = asideNode[k]!;
        const count = counts.get(i) ?? 0;
        const frac = asideFrac[k]!;
        if (
          best < 0 ||
          count < bestCount ||
          (count === bestCount && (frac < bestFrac || (frac === bestFrac && i < best)))
        ) {
          best = i;
          bestCount = count;
          bestFrac = frac;
        }
      }
    }
    for (let k = 0; k < asideNode.length; k++) heap.push(asideNode[k]!, 0, asideFrac[k]!);
    asideNode.length = 0;
    asideFrac.length = 0;
    return best;
  };

  /** Why nothing fits, filter by filter in the order they run, as Kubernetes words it. */
  const explain = (
    fit: SelectorFit,
    portless: number,
    ports: readonly string[],
    shortCpu: number,
    shortMem: number,
  ): string => {
    if (n === 0) return '0/0 nodes available: no nodes registered';
    const parts: string[] = [];
    if (fit.notReady) parts.push(`${fit.notReady} not ready`);
    if (fit.unschedulable) parts.push(`${fit.unschedulable} unschedulable`);
    for (const [taint, count] of fit.tainted) parts.push(`${count} node(s) had untolerated taint ${taint}`);
    if (fit.mismatch)
      parts.push(`${fit.mismatch} ${fit.mismatch === 1 ? 'does' : 'do'} not match nodeSelector`);
    if (fit.outdated) parts.push(outdatedAgentsReason(fit.outdated, fit.missing));
    if (portless)
      parts.push(
        `${portless} node(s) didn't have free ports for the requested pod ports (${ports.join(', ')})`,
      );
    if (shortCpu) parts.push(`${shortCpu} insufficient cpu`);
    if (shortMem) parts.push(`${shortMem} insufficient memory`);
    return `0/${n} nodes available: ${parts.join(', ')}`;
  };

  let placed = 0;
  const reasonFor = (shape: Shape): string => {
    if (shape.misfit?.atPlacement === placed) return shape.misfit.reason;
    const { fit, cpu, memory } = shape;
    let shortCpu = 0;
    let shortMem = 0;
    for (const i of fit.eligible) {
      if (cpu > 0 && freeCpu[i]! < cpu) shortCpu++;
      if (memory > 0 && freeMem[i]! < memory) shortMem++;
    }
    const reason = explain(fit, 0, [], shortCpu, shortMem);
    shape.misfit = { reason, atPlacement: placed };
    return reason;
  };

  /**
   * A request with host ports: the best eligible node with room where none of its ports is taken,
   * by the plain loop of byScan; or, when there is none, why. The reason names the ports that were
   * taken on the nodes it counts.
   */
  const withPorts = (req: ReplicaRequest, ports: readonly string[], group: Group) => {
    const fit = selectorFit(req.nodeSelector, selectorKey(req.nodeSelector));
    const { cpuMillis: cpu, memoryBytes: memory } = req.requests;
    const holders: Uint8Array[] = [];
    for (const port of ports) {
      const on = taken.get(port);
      if (on) holders.push(on);
    }
    // A group on many nodes is counted from its dense copy, as byScan does.
    const counts = group.counts;
    const dense = counts.size > smallGroup ? denseOf(group) : null;
    const eligible = fit.eligible;
    let best = -1;
    let bestCount = 0;
    let bestFrac = 0;
    scan: for (let k = 0; k < eligible.length; k++) {
      const i = eligible[k]!;
      if ((cpu > 0 && freeCpu[i]! < cpu) || (memory > 0 && freeMem[i]! < memory)) continue;
      for (let h = 0; h < holders.length; h++) if (holders[h]![i]) continue scan;
      const count = dense ? dense[i]! : counts.size ? (counts.get(i) ?? 0) : 0;
      if (best >= 0 && count > bestCount) continue;
      const frac = fracOn(i, cpu, memory);
      if (best < 0 || count < bestCount || frac < bestFrac) {
        best = i;
        bestCount = count;
        bestFrac = frac;
      }
    }
    if (best >= 0) return best;
    let portless = 0;
    let shortCpu = 0;
    let shortMem = 0;
    const named = new Set<string>();
    for (const i of eligible) {
      let clash = false;
      for (const port of ports) {
        if (taken.get(port)?.[i]) {
          named.add(port);
          clash = true;
        }
      }
      if (clash) portless++;
      else {
        if (cpu > 0 && freeCpu[i]! < cpu) shortCpu++;
        if (memory > 0 && freeMem[i]! < memory) shortMem++;
      }
    }
    return explain(
      fit,
      portless,
      ports.filter((port) => named.has(port)),
      shortCpu,
      shortMem,
    );
  };

  // A PreferNoSchedule taint anywhere is something every pod should avoid when it can: then
  // every request takes the path that scores each node (constrained-placement.ts).
  const avoidSome = nodes.some((node) => node.taints?.some((t) => t.effect === 'PreferNoSchedule'));
  // What each node has left of each scalar resource, read only when a request asks for one.
  const scalarFree = new Map<string, Float64Array>();
  const freeOf = (name: string): Float64Array => {
    let free = scalarFree.get(name);
    if (!free) {
      free = new Float64Array(n);
      nodes.forEach((node, i) => {
        const s = node.scalars;
        free![i] = (s?.allocatable[name] ?? 0) - (s?.allocated[name] ?? 0);
      });
      scalarFree.set(name, free);
    }
    return free;
  };
  const view: PlacementView = {
    nodes,
    freeCpu,
    freeMem,
    fracOn,
    portTaken: (port: string, i: number) => taken.get(port)?.[i] === 1,
    scalarsShort: (i: number, want: Scalars) => {
      const short: string[] = [];
      for (const name in want) if (freeOf(name)[i]! < want[name]!) short.push(name);
      return short.length ? short : null;
    },
  };
  // Pods are indexed only when a request counts them; placements made before that wait here.
  const counting = input.requests.some((r) => countsPods(r.scheduling));
  const placedPods: PlacedPod[] = [];
  const built: { podIndex: PodIndex | null } = { podIndex: null };
  const podIndexOf = (): PodIndex => {
    if (!built.podIndex) {
      const pods: PlacedPod[] = [];
      for (const pod of input.pods ?? []) {
        const i = index.get(pod.nodeId);
        if (i !== undefined) pods.push({ node: i, namespace: pod.namespace, labels: pod.labels });
      }
      built.podIndex = new PodIndex(nodes, [...pods, ...placedPods]);
    }
    return built.podIndex;
  };
  const namespaceOf = (req: ReplicaRequest) => req.namespace ?? req.group.slice(0, req.group.indexOf('/'));
  // Kept out of the loop below, so the plain path's loop stays small for the compiler.
  const constrained = (req: ReplicaRequest, counts: Map<number, number>): number | string => {
    const ports = [...new Set(req.hostPorts ?? [])];
    const found = placeConstrained(
      {
        namespace: namespaceOf(req),
        labels: req.labels ?? {},
        nodeSelector: req.nodeSelector,
        scheduling: req.scheduling,
        scalars: req.scalars,
        cpu: req.requests.cpuMillis,
        memory: req.requests.memoryBytes,
        ports,
        groupCount: (i) => counts.get(i) ?? 0,
      },
      view,
      podIndexOf(),
    );
    if (typeof found === 'number') for (const port of ports) take(port, found);
    return found;
  };

  const result: ScheduleResult = { placements: [], unplaced: [] };
  const claims = input.claims ? new ClaimPlacement(input.claims, nodes) : null;
  if (claims) result.bound = claims.bound;
  // A pinned request's reason names its claim and node.
  const wait = (asked: ReplicaRequest, req: ReplicaRequest, reason: string) =>
    result.unplaced.push({
      replicaId: asked.replicaId,
      reason: claims && req !== asked ? claims.explain(asked, req, reason) : reason,
    });
  for (const asked of input.requests) {
    // A request with claims is pinned to their node, or waits (claim-placement.ts).
    const req = claims ? claims.pin(asked) : asked;
    if (typeof req === 'string') {
      result.unplaced.push({ replicaId: asked.replicaId, reason: req });
      continue;
    }
    const group = groupOf(req.group);
    const counts = group.counts;
    let best: number;
    if (avoidSome || hasRules(req.scheduling) || req.scalars) {
      const found = constrained(req, counts);
      if (typeof found === 'string') {
        wait(asked, req, found);
        continue;
      }
      best = found;
    } else if (req.hostPorts?.length) {
      const ports = [...new Set(req.hostPorts)];
      const found = withPorts(req, ports, group);
      if (typeof found === 'string') {
        wait(asked, req, found);
        continue;
      }
      best = found;
      for (const port of ports) take(port, best);
    } else {
      const shape = shapeOf(req);
      if (!hasRoom(shape)) {
        best = -1;
      } else if (counts.size <= smallGroup) {
        best = fromShared(shape, counts);
      } else {
        let own = shape.own.get(req.group);
        if (own === undefined) {
          own = heapOf(shape, counts);
          shape.own.set(req.group, own);
        }
        const found = own === null ? null : fromOwn(shape, own, counts);
        if (found === null) {
          shape.own.set(req.group, null);
          best = byScan(shape, denseOf(group));
        } else {
          best = found;
        }
      }
      if (best < 0) {
        wait(asked, req, reasonFor(shape));
        continue;
      }
    }
    // The heaps now hold keys lower than the truth for this node; they refresh it when it surfaces.
    const { cpuMillis: cpu, memoryBytes: memory } = req.requests;
    allocCpu[best] = allocCpu[best]! + cpu;
    allocMem[best] = allocMem[best]! + memory;
    freeCpu[best] = freeCpu[best]! - cpu;
    freeMem[best] = freeMem[best]! - memory;
    if (req.scalars) for (const name in req.scalars) freeOf(name)[best]! -= req.scalars[name]!;
    counts.set(best, (counts.get(best) ?? 0) + 1);
    if (group.dense) group.dense[best] = group.dense[best]! + 1;
    if (counting && req.labels) {
      const pod = { node: best, namespace: namespaceOf(req), labels: req.labels };
      if (built.podIndex) built.podIndex.add(pod);
      else placedPods.push(pod);
    }
    placed++;
    result.placements.push({ replicaId: req.replicaId, nodeId: nodes[best]!.id });
    claims?.placed(asked, nodes[best]!);
  }
  return result;
}
