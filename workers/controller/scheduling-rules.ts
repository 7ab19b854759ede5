import type {
  Affinity,
  NodeSelectorTerm,
  PodAffinityTerm,
  PodLabelSelector,
  Taint,
  Toleration,
  TopologySpreadConstraint,
} from '../../common/scheduling.ts';

/**
 * The matching rules of Kubernetes' scheduling fields, as pure predicates over plain labels:
 * node selector terms (nodeAffinity), pod label selectors (pod affinity, anti-affinity, spread)
 * and taints against tolerations. The scheduler (constrained-placement.ts) combines them.
 */

type Labels = Readonly<Record<string, string>>;

/** A node as the rules see it. */
export interface RuleNode {
  name: string;
  labels: Labels;
}

/** Integer values as Gt and Lt read them: a label that is no integer matches neither. */
function integerOf(value: string | undefined): number | null {
  if (value === undefined || !/^-?\d{1,15}$/.test(value)) return null;
  return Number(value);
}

/** One term: its expressions and fields ANDed; a term with neither matches no node (as in Kubernetes). */
export function nodeTermMatches(term: NodeSelectorTerm, node: RuleNode): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  for (const e of expressions) {
    const has = Object.hasOwn(node.labels, e.key);
    const v = node.labels[e.key];
    const values = e.values ?? [];
    let ok: boolean;
    switch (e.operator) {
      case 'In':
        ok = has && values.includes(v!);
        break;
      case 'NotIn':
        ok = !has || !values.includes(v!);
        break;
      case 'Exists':
        ok = has;
        break;
      case 'DoesNotExist':
        ok = !has;
        break;
      case 'Gt':
      case 'Lt': {
        const have = integerOf(v);
        const want = integerOf(values[0]);
        ok = have !== null && want !== null && (e.operator === 'Gt' ? have > want : have < want);
        break;
      }
    }
    if (!ok) return false;
  }
  for (const f of fields) {
    const inList = f.values.includes(node.name);
    if (f.operator === 'In' ? !inList : inList) return false;
  }
  return true;
}

/** requiredDuringScheduling: the terms are ORed. No required terms: every node. */
export function nodeAffinityMatches(affinity: Affinity | undefined, node: RuleNode): boolean {
  const terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => nodeTermMatches(t, node));
}

/** preferredDuringScheduling: the sum of the weights of the terms the node matches. */
export function nodeAffinityScore(affinity: Affinity | undefined, node: RuleNode): number {
  let score = 0;
  for (const p of affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    if (nodeTermMatches(p.preference, node)) score += p.weight;
  return score;
}

/** A pod label selector: absent matches nothing, empty matches every pod (Kubernetes' rule). */
export function podSelectorMatches(selector: PodLabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const v = labels[e.key];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In'
        ? has && values.includes(v!)
        : e.operator === 'NotIn'
          ? !has || !values.includes(v!)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

/** Whether a toleration tolerates a taint: Kubernetes' ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  // An empty key with Exists tolerates every taint (the schema allows an empty key only then).
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** The first taint of an effect that no toleration tolerates, or undefined. */
export function untoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effect: Taint['effect'],
): Taint | undefined {
  if (!taints) return undefined;
  for (const taint of taints) {
    if (taint.effect !== effect) continue;
    if (!tolerations?.some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

/** How many taints of an effect are not tolerated (PreferNoSchedule's score counts them). */
export function untoleratedCount(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effect: Taint['effect'],
): number {
  let count = 0;
  for (const taint of taints ?? [])
    if (taint.effect === effect && !tolerations?.some((t) => tolerates(t, taint))) count++;
  return count;
}

/** A taint as Kubernetes prints it in a scheduling failure: `{key: value}`. */
export function formatTaint(taint: Taint): string {
  return `{${taint.key}: ${taint.value ?? ''}}`;
}

/** The scheduling fields of one pod, as a request carries them to the scheduler. */
export interface PodScheduling {
  affinity?: Affinity;
  tolerations?: Toleration[];
  topologySpreadConstraints?: TopologySpreadConstraint[];
}

/** Whether a pod has any field that the plain (selector and resources) path cannot honour. */
export function hasRules(s: PodScheduling | undefined): s is PodScheduling {
  if (!s) return false;
  const a = s.affinity;
  return Boolean(
    a?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ||
      a?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ||
      a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ||
      a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ||
      a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ||
      a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ||
      s.tolerations?.length ||
      s.topologySpreadConstraints?.length,
  );
}

/** A term over pods: its selector, in a namespace, counted per value of a node label. */
export interface PodTerm {
  namespace: string;
  selector: PodLabelSelector | undefined;
  topologyKey: string;
}

export function podTermKey(t: PodTerm): string {
  return JSON.stringify([t.namespace, t.topologyKey, t.selector ?? null]);
}

export function podTermOf(namespace: string, term: PodAffinityTerm | TopologySpreadConstraint): PodTerm {
  return { namespace, selector: term.labelSelector, topologyKey: term.topologyKey };
}

/** Whether placing the pod counts other pods: pod affinity, anti-affinity or topology spread. */
export function countsPods(s: PodScheduling | undefined): boolean {
  const a = s?.affinity;
  return Boolean(a?.podAffinity || a?.podAntiAffinity || s?.topologySpreadConstraints?.length);
}
