import { z } from 'zod';
import { LabelKey, Labels, LabelValue } from './names.ts';

/**
 * The pod spec's scheduling fields as Kubernetes writes them: `affinity` (node affinity, pod
 * affinity and anti-affinity), `tolerations` and `topologySpreadConstraints`, and node taints.
 * The scheduler (workers/controller/scheduling-rules.ts) honours every field these schemas accept;
 * what it could not honour is refused here with its path. All fields are optional without
 * defaults, so a stored template that has none of them keeps its hash.
 */

const issue = (
  ctx: { issues: z.core.$ZodRawIssue[]; value: unknown },
  path: (string | number)[],
  message: string,
) => ctx.issues.push({ code: 'custom', input: ctx.value, path, message });

export const NodeSelectorOperator = z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);

/** One requirement on a node's labels; Gt and Lt compare one integer value, as Kubernetes does. */
export const NodeSelectorRequirement = z
  .strictObject({
    key: LabelKey,
    operator: NodeSelectorOperator,
    values: z.array(z.string().max(63)).max(64).optional(),
  })
  .check((ctx) => {
    const { operator, values } = ctx.value;
    const count = values?.length ?? 0;
    if ((operator === 'In' || operator === 'NotIn') && count === 0)
      issue(ctx, ['values'], `must be non-empty when operator is ${operator}`);
    if ((operator === 'Exists' || operator === 'DoesNotExist') && count > 0)
      issue(ctx, ['values'], `must be empty when operator is ${operator}`);
    if (operator === 'Gt' || operator === 'Lt') {
      if (count !== 1) issue(ctx, ['values'], `must have a single element when operator is ${operator}`);
      else if (!/^-?\d{1,15}$/.test(values![0]!)) issue(ctx, ['values', 0], 'must be an integer');
    }
  });
export type NodeSelectorRequirement = z.infer<typeof NodeSelectorRequirement>;

/** matchFields: Kubernetes supports only metadata.name, with In or NotIn. */
export const NodeFieldRequirement = z.strictObject({
  key: z.literal('metadata.name', { error: 'only metadata.name is supported' }),
  operator: z.enum(['In', 'NotIn'], { error: 'must be In or NotIn for matchFields' }),
  values: z.array(z.string().max(253)).length(1, 'must have a single element for matchFields'),
});
export type NodeFieldRequirement = z.infer<typeof NodeFieldRequirement>;

/** Expressions and fields are ANDed; an empty term matches no node (as in Kubernetes). */
export const NodeSelectorTerm = z.strictObject({
  matchExpressions: z.array(NodeSelectorRequirement).max(32).optional(),
  matchFields: z.array(NodeFieldRequirement).max(8).optional(),
});
export type NodeSelectorTerm = z.infer<typeof NodeSelectorTerm>;

const Weight = z.int().min(1).max(100);

export const NodeAffinity = z.strictObject({
  /** Terms are ORed. */
  requiredDuringSchedulingIgnoredDuringExecution: z
    .strictObject({ nodeSelectorTerms: z.array(NodeSelectorTerm).min(1).max(16) })
    .optional(),
  preferredDuringSchedulingIgnoredDuringExecution: z
    .array(z.strictObject({ weight: Weight, preference: NodeSelectorTerm }))
    .max(16)
    .optional(),
});
export type NodeAffinity = z.infer<typeof NodeAffinity>;

export const LabelSelectorRequirement = z
  .strictObject({
    key: LabelKey,
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(LabelValue).max(64).optional(),
  })
  .check((ctx) => {
    const { operator, values } = ctx.value;
    const count = values?.length ?? 0;
    if ((operator === 'In' || operator === 'NotIn') && count === 0)
      issue(ctx, ['values'], `must be non-empty when operator is ${operator}`);
    if ((operator === 'Exists' || operator === 'DoesNotExist') && count > 0)
      issue(ctx, ['values'], `must be empty when operator is ${operator}`);
  });

/** A pod label selector. Absent matches no pod; empty ({}) matches every pod, as in Kubernetes. */
export const PodLabelSelector = z.strictObject({
  matchLabels: Labels.optional(),
  matchExpressions: z.array(LabelSelectorRequirement).max(32).optional(),
});
export type PodLabelSelector = z.infer<typeof PodLabelSelector>;

/**
 * Pods matched in the pod's own namespace only: `namespaces: []` is that namespace in Kubernetes;
 * other namespaces and a namespaceSelector would reach into namespaces the deployer may not read.
 */
export const PodAffinityTerm = z.strictObject({
  labelSelector: PodLabelSelector.optional(),
  topologyKey: LabelKey,
  namespaces: z
    .array(z.string())
    .max(0, {
      error: "only the pod's own namespace is supported by Berth: leave namespaces out",
    })
    .optional(),
});
export type PodAffinityTerm = z.infer<typeof PodAffinityTerm>;

export const PodAffinityRules = z.strictObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.array(PodAffinityTerm).max(16).optional(),
  preferredDuringSchedulingIgnoredDuringExecution: z
    .array(z.strictObject({ weight: Weight, podAffinityTerm: PodAffinityTerm }))
    .max(16)
    .optional(),
});
export type PodAffinityRules = z.infer<typeof PodAffinityRules>;

export const Affinity = z.strictObject({
  nodeAffinity: NodeAffinity.optional(),
  podAffinity: PodAffinityRules.optional(),
  podAntiAffinity: PodAffinityRules.optional(),
});
export type Affinity = z.infer<typeof Affinity>;

export const TaintEffect = z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
export type TaintEffect = z.infer<typeof TaintEffect>;

/**
 * A toleration. NoExecute ones are accepted: Berth nodes carry no NoExecute taint (nodes that
 * stop answering are replaced by the node sweep), so they tolerate nothing that exists.
 */
export const Toleration = z
  .strictObject({
    key: z.union([LabelKey, z.literal('')]).optional(),
    operator: z.enum(['Equal', 'Exists']).optional(),
    value: LabelValue.optional(),
    effect: z.union([TaintEffect, z.literal('')]).optional(),
    tolerationSeconds: z.int().optional(),
  })
  .check((ctx) => {
    const t = ctx.value;
    if (!t.key && t.operator !== 'Exists')
      issue(ctx, ['operator'], 'must be Exists when key is empty (a toleration of every taint)');
    if (t.operator === 'Exists' && t.value) issue(ctx, ['value'], 'must be empty when operator is Exists');
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
      issue(ctx, ['effect'], 'must be NoExecute when tolerationSeconds is set');
  });
export type Toleration = z.infer<typeof Toleration>;

export const TopologySpreadConstraint = z.strictObject({
  maxSkew: z.int().min(1).max(10000),
  topologyKey: LabelKey,
  whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']),
  labelSelector: PodLabelSelector.optional(),
});
export type TopologySpreadConstraint = z.infer<typeof TopologySpreadConstraint>;

/** The pod spec fields of this module, as PodSpec holds them. */
export const schedulingFields = {
  affinity: Affinity.optional(),
  tolerations: z.array(Toleration).max(32).optional(),
  topologySpreadConstraints: z.array(TopologySpreadConstraint).max(8).optional(),
};

/** A node taint. NoExecute would evict running replicas, which Berth does not do: refused. */
export const Taint = z.strictObject({
  key: LabelKey,
  value: z.union([LabelValue, z.literal('')]).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule'], {
    error:
      'must be NoSchedule or PreferNoSchedule (Berth does not evict running replicas: NoExecute is not supported)',
  }),
});
export type Taint = z.infer<typeof Taint>;

/** The node labels Kubernetes' kubelet sets, which selectors written for Kubernetes match on. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** What an agent reports of its platform (agent/node-info.ts); a label the operator set wins. */
export const PLATFORM_LABELS = [
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
] as const;

/** A taint as `kubectl taint` and `berth node taint` write it: `key=value:Effect`. */
export function taintText(t: { key?: string; value?: string | undefined; effect?: string }): string {
  return `${t.key ?? ''}${t.value ? `=${t.value}` : ''}:${t.effect ?? ''}`;
}
