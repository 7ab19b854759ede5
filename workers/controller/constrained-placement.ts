import { missingFeatures, outdatedAgentsReason } from '../../common/agent-features.ts';
import type { Scalars } from '../../common/extended-resources.ts';
import type { Taint } from '../../common/scheduling.ts';
import {
  formatTaint,
  nodeAffinityMatches,
  nodeAffinityScore,
  type PodScheduling,
  type PodTerm,
  podSelectorMatches,
  podTermKey,
  podTermOf,
  untoleratedCount,
  untoleratedTaint,
} from './scheduling-rules.ts';

/**
 * Placement of a replica with scheduling rules (node affinity, pod affinity and anti-affinity,
 * topology spread, tolerations), or of any replica once some node has a PreferNoSchedule taint.
 * Kubernetes' filters and scores, reduced to Berth's: every node is looked at, so this costs a
 * pass over the nodes per replica, which the plain path (scheduler.ts) avoids for the pods that
 * have none of these fields.
 *
 * Topology: nodes with the same value of a pod term's topologyKey label form one domain, as in
 * Kubernetes (kubernetes.io/hostname: each node is its own). Pods are counted in the pod's own
 * namespace, among the running replicas and this call's earlier placements.
 *
 * Filters, in Kubernetes' order; a node is counted for the first it fails: not ready,
 * unschedulable, an untolerated NoSchedule taint, node selector or affinity, host ports,
 * resources, topology spread (DoNotSchedule), pod affinity, pod anti-affinity.
 * Score, highest first, each part scaled to 0..100 over the nodes that pass: preferred node
 * affinity, preferred pod affinity minus anti-affinity, fewer untolerated PreferNoSchedule
 * taints, ScheduleAnyway spread; then the plain path's order (fewer replicas of the deployment,
 * least allocated, node name).
 */

type Labels = Readonly<Record<string, string>>;

export interface ConstrainedNode {
  name: string;
  labels: Labels;
  ready: boolean;
  unschedulable: boolean;
  taints?: readonly Taint[];
}

/** A replica placed on a node (by its index), as pod terms count it. */
export interface PlacedPod {
  node: number;
  namespace: string;
  labels: Labels;
}

/** The scheduler's state that this path reads (scheduler.ts owns it). */
export interface PlacementView {
  /** Sorted by name: an index is also the tie-breaker. */
  nodes: readonly ConstrainedNode[];
  freeCpu: Float64Array;
  freeMem: Float64Array;
  fracOn(i: number, cpu: number, memory: number): number;
  portTaken(port: string, i: number): boolean;
  /** The ephemeral-storage and extended resources node i has too little of for `want`, or null. */
  scalarsShort(i: number, want: Scalars): string[] | null;
  /** Arrays this path reuses from one replica to the next of a call (set on first use). */
  scratch?: Scratch;
}

interface Scratch {
  candidates: Int32Array;
  rawNode: Float64Array;
  rawPod: Float64Array;
  rawTaint: Float64Array;
  rawSpread: Float64Array;
}

export interface ConstrainedRequest {
  namespace: string;
  labels: Labels;
  nodeSelector: Record<string, string>;
  scheduling: PodScheduling | undefined;
  /** ephemeral-storage and extended resources; absent: none. */
  scalars?: Scalars | undefined;
  cpu: number;
  memory: number;
  ports: readonly string[];
  /** The deployment's replicas on node i. */
  groupCount(i: number): number;
}

interface Counter {
  term: PodTerm;
  byDomain: Map<string, number>;
  /** Matching pods anywhere, on nodes with the key or not. */
  total: number;
}

/**
 * Running pods counted per pod term and topology domain. A counter is built the first time a
 * term is asked for and kept up to date as the call places replicas.
 *
 * Cost: most selectors name a label and its value (`matchLabels: {app: web}`), so pods are
 * filed under each of their `namespace/key=value` pairs and a counter under the first pair its
 * selector requires: building one reads only the pods with that pair, and a placement updates
 * only the counters filed under the new pod's pairs, plus the few whose selector requires no
 * value. With thousands of deployments each spreading its own replicas, both stay small.
 */
export class PodIndex {
  private readonly counters = new Map<string, Counter>();
  /** `namespace/key=value` → the pods with that label, and the counters that require it. */
  private readonly podsByPair = new Map<string, PlacedPod[]>();
  private readonly countersByPair = new Map<string, Counter[]>();
  /** Counters whose selector requires no label value: they look at every pod. */
  private readonly open: Counter[] = [];
  private readonly pods: PlacedPod[] = [];

  constructor(
    private readonly nodes: readonly ConstrainedNode[],
    pods: readonly PlacedPod[],
  ) {
    for (const pod of pods) this.file(pod);
  }

  private file(pod: PlacedPod): void {
    this.pods.push(pod);
    for (const key in pod.labels) {
      const pair = `${pod.namespace}/${key}=${pod.labels[key]}`;
      const list = this.podsByPair.get(pair);
      if (list) list.push(pod);
      else this.podsByPair.set(pair, [pod]);
    }
  }

  /** The first `key=value` a selector requires (matchLabels, or an In with one value), if any. */
  private static pairOf(term: PodTerm): string | null {
    const labels = term.selector?.matchLabels;
    for (const key in labels) return `${term.namespace}/${key}=${labels[key]}`;
    for (const e of term.selector?.matchExpressions ?? [])
      if (e.operator === 'In' && e.values?.length === 1) return `${term.namespace}/${e.key}=${e.values[0]}`;
    return null;
  }

  private count(c: Counter, pod: PlacedPod): void {
    if (pod.namespace !== c.term.namespace || !podSelectorMatches(c.term.selector, pod.labels)) return;
    c.total++;
    const value = this.nodes[pod.node]?.labels[c.term.topologyKey];
    if (value !== undefined) c.byDomain.set(value, (c.byDomain.get(value) ?? 0) + 1);
  }

  counter(term: PodTerm): Counter {
    const key = podTermKey(term);
    let c = this.counters.get(key);
    if (!c) {
      c = { term, byDomain: new Map(), total: 0 };
      const pair = PodIndex.pairOf(term);
      for (const pod of pair === null ? this.pods : (this.podsByPair.get(pair) ?? [])) this.count(c, pod);
      if (pair === null) this.open.push(c);
      else {
        const list = this.countersByPair.get(pair);
        if (list) list.push(c);
        else this.countersByPair.set(pair, [c]);
      }
      this.counters.set(key, c);
    }
    return c;
  }

  /** A placement of this call: every counter whose selector may match it sees it. */
  add(pod: PlacedPod): void {
    this.file(pod);
    for (const c of this.open) this.count(c, pod);
    for (const key in pod.labels) {
      const list = this.countersByPair.get(`${pod.namespace}/${key}=${pod.labels[key]}`);
      if (list) for (const c of list) this.count(c, pod);
    }
  }
}

/** The reasons a node fails, counted as the Kubernetes scheduler words them. */
class Tally {
  notReady = 0;
  unschedulable = 0;
  taints = new Map<string, number>();
  mismatch = 0;
  /** Nodes whose agent lacks a feature the pod uses (common/agent-features.ts), and which. */
  outdated = 0;
  readonly missing = new Set<string>();
  portless = 0;
  readonly ports = new Set<string>();
  shortCpu = 0;
  shortMem = 0;
  /** Nodes short of an ephemeral-storage or extended resource, by its name. */
  readonly short = new Map<string, number>();
  spread = 0;
  spreadLabel = 0;
  affinity = 0;
  antiAffinity = 0;

  explain(n: number, affinityNamed: boolean): string {
    if (n === 0) return '0/0 nodes available: no nodes registered';
    const parts: string[] = [];
    if (this.notReady) parts.push(`${this.notReady} not ready`);
    if (this.unschedulable) parts.push(`${this.unschedulable} unschedulable`);
    for (const [taint, count] of this.taints) parts.push(`${count} node(s) had untolerated taint ${taint}`);
    if (this.mismatch)
      parts.push(
        affinityNamed
          ? `${this.mismatch} node(s) didn't match Pod's node affinity/selector`
          : `${this.mismatch} ${this.mismatch === 1 ? 'does' : 'do'} not match nodeSelector`,
      );
    if (this.outdated) parts.push(outdatedAgentsReason(this.outdated, this.missing));
    if (this.portless)
      parts.push(
        `${this.portless} node(s) didn't have free ports for the requested pod ports (${[...this.ports].join(', ')})`,
      );
    if (this.shortCpu) parts.push(`${this.shortCpu} insufficient cpu`);
    if (this.shortMem) parts.push(`${this.shortMem} insufficient memory`);
    // Kubernetes' NodeResourcesFit words it so for every resource beyond cpu and memory.
    for (const [name, count] of this.short) parts.push(`${count} Insufficient ${name}`);
    if (this.spreadLabel)
      parts.push(
        `${this.spreadLabel} node(s) didn't match pod topology spread constraints (missing required label)`,
      );
    if (this.spread) parts.push(`${this.spread} node(s) didn't match pod topology spread constraints`);
    if (this.affinity) parts.push(`${this.affinity} node(s) didn't match pod affinity rules`);
    if (this.antiAffinity) parts.push(`${this.antiAffinity} node(s) didn't match pod anti-affinity rules`);
    return `0/${n} nodes available: ${parts.join(', ')}`;
  }
}

/** Scales raw scores to 0..100 over the candidates, higher raw being better unless `lowerWins`. */
function scaled(raw: Float64Array, count: number, lowerWins: boolean): Float64Array | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const v = raw[k]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return null; // all equal: the part decides nothing
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = (100 * (lowerWins ? max - raw[k]! : raw[k]! - min)) / (max - min);
  return out;
}

/** The best node's index, or why no node fits. */
export function placeConstrained(
  req: ConstrainedRequest,
  view: PlacementView,
  index: PodIndex,
): number | string {
  const { nodes, freeCpu, freeMem } = view;
  const n = nodes.length;
  const s = req.scheduling;
  const affinity = s?.affinity;
  const tolerations = s?.tolerations;
  const selector = Object.entries(req.nodeSelector);
  const selects = (node: ConstrainedNode) =>
    selector.every(([k, v]) => node.labels[k] === v) && nodeAffinityMatches(affinity, node);

  const spreads = s?.topologySpreadConstraints ?? [];
  const hard = spreads
    .filter((c) => c.whenUnsatisfiable === 'DoNotSchedule')
    .map((c) => {
      const counter = index.counter(podTermOf(req.namespace, c));
      // The domains: those of the nodes a replica could go to, as Kubernetes' nodeAffinityPolicy
      // Honor counts them; a domain with no matching pod makes the minimum 0.
      let min = Number.POSITIVE_INFINITY;
      for (const node of nodes) {
        if (!node.ready || node.unschedulable || !selects(node)) continue;
        const value = node.labels[c.topologyKey];
        if (value !== undefined) min = Math.min(min, counter.byDomain.get(value) ?? 0);
      }
      const self = podSelectorMatches(c.labelSelector, req.labels) ? 1 : 0;
      return { key: c.topologyKey, maxSkew: c.maxSkew, counter, min, self };
    });
  const soft = spreads
    .filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway')
    .map((c) => ({ key: c.topologyKey, counter: index.counter(podTermOf(req.namespace, c)) }));

  const required = (kind: 'podAffinity' | 'podAntiAffinity') =>
    (affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => ({
      key: t.topologyKey,
      counter: index.counter(podTermOf(req.namespace, t)),
      self: podSelectorMatches(t.labelSelector, req.labels),
    }));
  const preferred = (kind: 'podAffinity' | 'podAntiAffinity', sign: number) =>
    (affinity?.[kind]?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => ({
      key: t.podAffinityTerm.topologyKey,
      weight: sign * t.weight,
      counter: index.counter(podTermOf(req.namespace, t.podAffinityTerm)),
    }));
  const together = required('podAffinity');
  const apart = required('podAntiAffinity');
  // Kubernetes' rule for the first of a group: when no pod anywhere matches any required
  // affinity term and the pod matches them all itself, the terms are taken as met.
  const firstOfItsKind = together.length > 0 && together.every((t) => t.counter.total === 0 && t.self);
  const leanings = [...preferred('podAffinity', 1), ...preferred('podAntiAffinity', -1)];

  const tally = new Tally();
  view.scratch ??= {
    candidates: new Int32Array(n),
    rawNode: new Float64Array(n),
    rawPod: new Float64Array(n),
    rawTaint: new Float64Array(n),
    rawSpread: new Float64Array(n),
  };
  const { candidates, rawNode, rawPod, rawTaint, rawSpread } = view.scratch;
  let count = 0;
  scan: for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    if (!node.ready) {
      tally.notReady++;
      continue;
    }
    if (node.unschedulable) {
      tally.unschedulable++;
      continue;
    }
    const taint = untoleratedTaint(node.taints, tolerations, 'NoSchedule');
    if (taint) {
      const text = formatTaint(taint);
      tally.taints.set(text, (tally.taints.get(text) ?? 0) + 1);
      continue;
    }
    if (!selects(node)) {
      const lacking = missingFeatures(selector, node.labels);
      if (lacking.length === 0) tally.mismatch++;
      else {
        tally.outdated++;
        for (const f of lacking) tally.missing.add(f);
      }
      continue;
    }
    let clash = false;
    for (const port of req.ports) {
      if (view.portTaken(port, i)) {
        tally.ports.add(port);
        clash = true;
      }
    }
    if (clash) {
      tally.portless++;
      continue;
    }
    const shortCpu = req.cpu > 0 && freeCpu[i]! < req.cpu;
    const shortMem = req.memory > 0 && freeMem[i]! < req.memory;
    const shortOf = req.scalars ? view.scalarsShort(i, req.scalars) : null;
    if (shortCpu || shortMem || shortOf) {
      if (shortCpu) tally.shortCpu++;
      if (shortMem) tally.shortMem++;
      for (const name of shortOf ?? []) tally.short.set(name, (tally.short.get(name) ?? 0) + 1);
      continue;
    }
    for (const c of hard) {
      const value = node.labels[c.key];
      if (value === undefined) {
        tally.spreadLabel++;
        continue scan;
      }
      if ((c.counter.byDomain.get(value) ?? 0) + c.self - (Number.isFinite(c.min) ? c.min : 0) > c.maxSkew) {
        tally.spread++;
        continue scan;
      }
    }
    if (!firstOfItsKind) {
      for (const t of together) {
        const value = node.labels[t.key];
        if (value === undefined || !(t.counter.byDomain.get(value) ?? 0)) {
          tally.affinity++;
          continue scan;
        }
      }
    }
    for (const t of apart) {
      const value = node.labels[t.key];
      if (value !== undefined && (t.counter.byDomain.get(value) ?? 0) > 0) {
        tally.antiAffinity++;
        continue scan;
      }
    }
    rawNode[count] = nodeAffinityScore(affinity, node);
    let pod = 0;
    for (const l of leanings) {
      const value = node.labels[l.key];
      if (value !== undefined) pod += l.weight * (l.counter.byDomain.get(value) ?? 0);
    }
    rawPod[count] = pod;
    rawTaint[count] = untoleratedCount(node.taints, tolerations, 'PreferNoSchedule');
    let spread = 0;
    for (const c of soft) {
      const value = node.labels[c.key];
      // A node without the key is in no domain: the worst place to spread to.
      spread += value === undefined ? 1e9 : (c.counter.byDomain.get(value) ?? 0);
    }
    rawSpread[count] = spread;
    candidates[count++] = i;
  }
  if (count === 0) {
    const named = Boolean(affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    return tally.explain(n, named);
  }

  const parts = [
    scaled(rawNode, count, false),
    scaled(rawPod, count, false),
    scaled(rawTaint, count, true),
    scaled(rawSpread, count, true),
  ].filter((p): p is Float64Array => p !== null);
  let best = -1;
  let bestScore = 0;
  let bestCount = 0;
  let bestFrac = 0;
  for (let k = 0; k < count; k++) {
    const i = candidates[k]!;
    let score = 0;
    for (const p of parts) score += p[k]!;
    const groupCount = req.groupCount(i);
    const frac = view.fracOn(i, req.cpu, req.memory);
    // Candidates are in name order, so keeping the first of equals breaks ties by name.
    if (
      best < 0 ||
      score > bestScore ||
      (score === bestScore && (groupCount < bestCount || (groupCount === bestCount && frac < bestFrac)))
    ) {
      best = i;
      bestScore = score;
      bestCount = groupCount;
      bestFrac = frac;
    }
  }
  return best;
}
