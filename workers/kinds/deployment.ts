import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { canonicalJson } from '../../common/canonical-json.ts';
import type { DeploymentSpec } from '../../common/deployment.ts';
import { refusedHostPaths } from '../../common/host-path.ts';
import { podRequests } from '../../common/pod-requests.ts';
import type { NamespacePolicySpec } from '../../common/policy.ts';
import { quotaCpuMillis, quotaMemoryBytes } from '../../common/policy.ts';
import { formatCpu, formatMemory } from '../../common/quantity.ts';
import { refusedSecurity } from '../../common/security-context.ts';
import type { Database } from '../../db/database.ts';
import { type DeploymentStatus, deployments } from '../../db/schema/index.ts';
import { DomainError, type FieldError, invalid } from '../errors.ts';
import { type ObjectKind, objectMetadata } from '../store/objects.ts';
import { loadPolicy } from '../store/policies.ts';

export type DeploymentRow = typeof deployments.$inferSelect;

/**
 * Deployments in the object store. A write that changes the spec makes the deployment due for
 * the controller at once; a new template (or a resume) starts a new rollout, whose progress
 * deadline counts from now. A deleted deployment's row stays (not live) until the controller
 * has stopped its replicas.
 */
export const deploymentKind: ObjectKind<DeploymentRow, DeploymentSpec> = {
  noun: 'deployment',
  table: deployments,
  live: and(isNull(deployments.deletedAt), eq(deployments.kind, 'Deployment')),
  generation: true,
  stateOf: (row) => ({ spec: row.spec, labels: row.labels, annotations: row.annotations }),
  admit: async (tx, next, write) => {
    if (!write.specChanged) return;
    const policy = await loadPolicy(tx, write.namespace);
    // Host ports bind deployers only; what containers may do to the node binds admins too (policy.ts).
    const refused = [
      ...(write.admission.admin ? [] : refusedHostPorts(next.spec, policy, write.namespace)),
      ...refusedSecurity(next.spec.template.spec, policy, write.namespace),
      ...refusedHostPaths(next.spec.template.spec, policy.allowedHostPaths, write.namespace),
    ];
    if (refused.length) throw invalid(refused);
    await enforceQuota(tx, policy, next.spec, write);
  },
  columns: (next, { existing, specChanged, now }) => {
    if (!existing) return { spec: next.spec, reconcileAt: now, progressAt: now };
    const newRollout =
      canonicalJson(next.spec.template) !== canonicalJson(existing.spec.template) ||
      (existing.spec.paused && !next.spec.paused);
    return {
      spec: next.spec,
      ...(specChanged ? { reconcileAt: now } : {}),
      ...(newRollout ? { progressAt: now } : {}),
    };
  },
};

const EMPTY_STATUS: DeploymentStatus = {
  observedGeneration: 0,
  replicas: 0,
  updatedReplicas: 0,
  readyReplicas: 0,
  availableReplicas: 0,
  unavailableReplicas: 0,
  revision: null,
  conditions: [],
};

export function toDeploymentObject(row: DeploymentRow) {
  return {
    apiVersion: 'berth.dev/v1' as const,
    kind: 'Deployment' as const,
    metadata: objectMetadata(row),
    spec: row.spec,
    status: row.status ?? EMPTY_STATUS,
  };
}
export type DeploymentObject = ReturnType<typeof toDeploymentObject>;

/**
 * Host ports a deployer may not publish: a host port is a port of the node itself, so only the
 * range its namespace's policy allows (none by default; Kubernetes' baseline policy forbids them).
 */
export function refusedHostPorts(
  spec: { template: DeploymentSpec['template'] },
  policy: NamespacePolicySpec,
  namespace: string,
): FieldError[] {
  const errors: FieldError[] = [];
  const range = policy.hostPorts;
  const pod = spec.template.spec;
  // An init container's ports are published as a container's are.
  const listed = [
    ...(pod.initContainers ?? []).map((c, i) => ({ c, at: `initContainers[${i}]` })),
    ...pod.containers.map((c, i) => ({ c, at: `containers[${i}]` })),
  ];
  listed.forEach(({ c, at }) => {
    c.ports.forEach((p, j) => {
      if (!p.hostPort) return;
      if (range && p.hostPort >= range.min && p.hostPort <= range.max) return;
      errors.push({
        path: `spec.template.spec.${at}.ports[${j}].hostPort`,
        message: range
          ? `host port ${p.hostPort} is outside ${range.min}-${range.max}, the range the namespace policy of "${namespace}" allows`
          : `host ports are not allowed in namespace "${namespace}" (an admin sets hostPorts in its namespace policy)`,
      });
    });
  });
  return errors;
}

/** Arbitrary constant, with the namespace's hash: writes to one namespace's quota take turns. */
const QUOTA_LOCK = 727_274_010;

interface Usage {
  replicas: number;
  cpuMillis: number;
  memoryBytes: number;
}

type WorkloadSpec = DeploymentSpec | { parallelism: number; template: DeploymentSpec['template'] };

/** A workload's size: a Deployment's replicas, a Job's parallelism (the pods it runs at once). */
function usageOf(spec: WorkloadSpec): Usage {
  const pod = podRequests(spec.template);
  const count = 'replicas' in spec ? spec.replicas : spec.parallelism;
  return {
    replicas: count,
    cpuMillis: pod.cpuMillis * count,
    memoryBytes: pod.memoryBytes * count,
  };
}

/**
 * The namespace's quota (Kubernetes' ResourceQuota): the total over its deployments of
 * spec.replicas and of each pod's requests times its replicas. A write that takes a total past
 * its quota is refused (403, naming the quota), unless it takes that total down (a namespace
 * over a quota lowered since may still shrink). Binds admins too: a quota is the admin's own rule.
 */
export async function enforceQuota(
  tx: Database,
  policy: NamespacePolicySpec,
  spec: WorkloadSpec,
  write: { namespace: string; existing: { id: string; spec: WorkloadSpec } | undefined },
): Promise<void> {
  const limits: [keyof Usage, number | undefined, (n: number) => string, string][] = [
    ['replicas', policy.quota.replicas, String, 'spec.replicas'],
    [
      'cpuMillis',
      quotaCpuMillis(policy),
      formatCpu,
      'spec.template.spec.containers[].resources.requests.cpu',
    ],
    [
      'memoryBytes',
      quotaMemoryBytes(policy),
      formatMemory,
      'spec.template.spec.containers[].resources.requests.memory',
    ],
  ];
  if (limits.every(([, limit]) => limit === undefined)) return;
  // Concurrent writes would each see the other's deployment at its old size.
  await tx.execute(sql`select pg_advisory_xact_lock(${QUOTA_LOCK}, hashtext(${write.namespace}))`);
  // Deployments and Jobs alike: the rows of both kinds.
  const others = await tx
    .select({ spec: deployments.spec })
    .from(deployments)
    .where(
      and(
        eq(deployments.namespace, write.namespace),
        isNull(deployments.deletedAt),
        write.existing ? ne(deployments.id, write.existing.id) : undefined,
      ),
    );
  const rest: Usage = { replicas: 0, cpuMillis: 0, memoryBytes: 0 };
  for (const o of others) {
    const u = usageOf(o.spec);
    rest.replicas += u.replicas;
    rest.cpuMillis += u.cpuMillis;
    rest.memoryBytes += u.memoryBytes;
  }
  const mine = usageOf(spec);
  const before = write.existing
    ? usageOf(write.existing.spec)
    : { replicas: 0, cpuMillis: 0, memoryBytes: 0 };
  const errors: FieldError[] = [];
  for (const [key, limit, format, path] of limits) {
    if (limit === undefined) continue;
    const total = rest[key] + mine[key];
    if (total > limit && mine[key] > before[key])
      errors.push({
        path,
        message: `would make the namespace's ${QUOTA_NAMES[key]} ${format(total)}, over its quota of ${format(limit)}`,
      });
  }
  if (errors.length)
    throw new DomainError(
      'FORBIDDEN',
      `exceeded the quota of namespace "${write.namespace}" (its namespace policy): ${errors.map((e) => e.message).join('; ')}`,
      { errors },
    );
}

const QUOTA_NAMES: Record<keyof Usage, string> = {
  replicas: 'replicas',
  cpuMillis: 'CPU requests',
  memoryBytes: 'memory requests',
};
