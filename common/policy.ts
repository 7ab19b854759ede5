import { z } from 'zod';
import { CpuQuantity, MemoryQuantity, ObjectMetaInput } from './deployment.ts';
import { AllowedHostPath } from './host-path.ts';
import { Name } from './names.ts';
import { parseCpu, parseMemory } from './quantity.ts';
import { Capability } from './security-context.ts';

/**
 * A namespace's policy: what deployers may claim in it and what its workloads may use, set by an
 * admin. One per namespace, named after it. Defaults (no policy written) are safe for a cluster
 * shared by tenants who do not trust each other: no public host names, no host ports, a default
 * memory limit; admins themselves are not held to the allowances (hosts, host ports), but quotas
 * and default limits apply to every workload of the namespace, as Kubernetes' ResourceQuota and
 * LimitRange do. So do the security allowances (capabilities, privileged, Unconfined seccomp):
 * what a namespace's containers may do to the node is read from its policy alone, and an admin
 * who wants more for a workload writes it there first.
 */

const HOST_SUFFIX = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const HostSuffix = z
  .string()
  .max(253)
  .regex(HOST_SUFFIX, 'must be a lowercase domain such as example.com (it covers every name under it)');

const Port = z.int().min(1).max(65535);

export const PortRange = z
  .strictObject({ min: Port, max: Port })
  .refine((r) => r.min <= r.max, { message: 'min must not be above max', path: ['max'] });
export type PortRange = z.infer<typeof PortRange>;

export const NamespacePolicySpec = z.strictObject({
  /** Host names a deployer's Services may claim: these domains and every name under them. */
  allowedHostSuffixes: z.array(HostSuffix).max(64).default([]),
  /** Whether a deployer may claim `*.name` hosts (within the allowed suffixes). */
  allowWildcardHosts: z.boolean().default(false),
  /** Host ports a deployer's containers may publish; none when absent. */
  hostPorts: PortRange.optional(),
  /** Totals over the namespace's deployments (spec.replicas × each pod's requests), refused past them. */
  quota: z
    .strictObject({
      replicas: z.int().min(0).max(1_000_000).optional(),
      cpu: CpuQuantity.optional(),
      memory: MemoryQuantity.optional(),
    })
    .default({}),
  /**
   * Capabilities containers may add (securityContext.capabilities.add); absent: NET_BIND_SERVICE.
   * Optional without a default, as the two below: policies stored before them read the same.
   */
  allowedCapabilities: z.array(Capability).max(64).optional(),
  /** Whether containers may run privileged (every capability, every device of the node). */
  allowPrivileged: z.boolean().optional(),
  /** Whether a pod or container may set seccompProfile.type Unconfined (no system-call filter). */
  allowUnconfinedSeccomp: z.boolean().optional(),
  /** Node paths hostPath volumes may bind, by prefix (common/host-path.ts); absent: none. */
  allowedHostPaths: z.array(AllowedHostPath).max(64).optional(),
  /**
   * Namespaces whose replicas may reach this namespace's services by name and address (`*`: every
   * namespace); its own namespace always may. Absent: `["*"]`, so policies stored before it read the same.
   */
  acceptServiceTrafficFrom: z
    .array(z.union([z.literal('*'), Name], 'must be a namespace name or "*"'))
    .max(256)
    .optional(),
  /**
   * Whether a deployer's services may take node ports (type NodePort; a LoadBalancer's), which
   * listen on every node. Absent: no; a deployer's LoadBalancer then gets none
   * (allocateLoadBalancerNodePorts: false) and is served by its hosts at the ingress.
   */
  allowNodePorts: z.boolean().optional(),
  /** Limits for containers that set neither a limit nor a request. */
  defaultLimits: z
    .strictObject({
      memory: z.union([MemoryQuantity, z.null()]).optional(),
    })
    .default({}),
});
export type NamespacePolicySpec = z.infer<typeof NamespacePolicySpec>;

export const NamespacePolicyInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('NamespacePolicy').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: NamespacePolicySpec,
});
export type NamespacePolicyInput = z.infer<typeof NamespacePolicyInput>;

/** What a namespace without a written policy gets. */
export const DEFAULT_POLICY: NamespacePolicySpec = NamespacePolicySpec.parse({
  defaultLimits: { memory: '1Gi' },
});

/** The memory limit of containers that set neither a limit nor a request, in bytes; none when unset. */
export function defaultMemoryLimit(policy: NamespacePolicySpec): number | undefined {
  const fallback = policy.defaultLimits.memory;
  return fallback === null || fallback === undefined ? undefined : parseMemory(fallback);
}

export const quotaCpuMillis = (p: NamespacePolicySpec) =>
  p.quota.cpu === undefined ? undefined : parseCpu(p.quota.cpu);
export const quotaMemoryBytes = (p: NamespacePolicySpec) =>
  p.quota.memory === undefined ? undefined : parseMemory(p.quota.memory);

/**
 * The namespaces besides its own whose replicas may reach a namespace's services; undefined:
 * every namespace (the map's `reachableFrom` is then left out).
 */
export function serviceTrafficFrom(policy: NamespacePolicySpec, namespace: string): string[] | undefined {
  const list = policy.acceptServiceTrafficFrom ?? ['*'];
  if (list.includes('*')) return undefined;
  return [...new Set(list)].filter((ns) => ns !== namespace).sort();
}
