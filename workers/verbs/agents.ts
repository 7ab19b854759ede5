import { and, asc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Assignment, AssignmentsResponse, StatusReport } from '../../common/agent-protocol.ts';
import type { PodTemplate } from '../../common/deployment.ts';
import { registryAuthsOf } from '../../common/docker-config.ts';
import { extendedLimits } from '../../common/extended-resources.ts';
import { splitInitContainers, withInitContainers } from '../../common/init-containers.ts';
import { COMPLETION_INDEX_ENV } from '../../common/job.ts';
import { parseCpu, parseMemory } from '../../common/quantity.ts';
import { assignedSecurity } from '../../common/security-context.ts';
import { DEFAULT_SERVICE_ACCOUNT } from '../../common/service-account.ts';
import type { Database } from '../../db/database.ts';
import { retryOnConflict } from '../../db/retry.ts';
import { rowsOf } from '../../db/rows.ts';
import { logRequests, nodes, replicas, revisions } from '../../db/schema/index.ts';
import { DomainError } from '../errors.ts';
import { withServiceEnv } from '../store/discovery.ts';
import { recordEvents } from '../store/events.ts';
import { wakeDeployments, wakeWaitingDeployments } from '../store/wakeups.ts';
import { resolveConfigMaps } from './config-maps.ts';
import { pendingStreamRequests } from './exec-sessions.ts';
import { storedContainers } from './init-statuses.ts';
import { claimRemovalsFor, type ResolvedClaim, resolveClaims } from './persistent-volume-claims.ts';
import { type ContainerResources, type PodEnvContext, resolveContainerEnv } from './pod-env.ts';
import {
  assignedMounts,
  resolvePodVolumes,
  resolveVolumeConfigMaps,
  type VolumeClaim,
  type VolumeConfigMap,
  volumeObjectNames,
} from './pod-volumes.ts';
import { configMapNamesOf, missingSecretRefs, secretNamesOf } from './secret-refs.ts';
import { resolveSecrets } from './secrets.ts';
import { findServiceAccounts } from './service-accounts.ts';

/**
 * Record that the node was heard from at `now`. Never moves the heartbeat back: writes that
 * run after their responses may land out of order.
 */
export async function recordHeartbeat(db: Database, nodeId: string, now: Date): Promise<void> {
  await db
    .update(nodes)
    .set({ lastHeartbeat: now })
    .where(and(eq(nodes.id, nodeId), lt(nodes.lastHeartbeat, now)));
}

/** What an agent's poll is answered from: its node's desired set and the cluster's service map. */
export interface PollVersion {
  assignments: number;
  network: number;
}

export const etagOf = (v: PollVersion) => `"a${v.assignments}.n${v.network}"`;

/**
 * The node's complete desired set: every replica placed on it, fully resolved. Only while
 * `credentialHash` is still the node's: a long-poll that began before an admin reset the node
 * (or deleted it) gets nothing.
 */
export async function buildAssignments(
  db: Database,
  nodeId: string,
  credentialHash: string,
  secretKey: string | undefined,
  pollIntervalSeconds: number,
  now: Date,
): Promise<{ version: number; body: AssignmentsResponse }> {
  const [node] = await db
    .select({
      version: nodes.assignmentVersion,
      name: nodes.name,
      address: nodes.address,
      allocatableCpuMillis: nodes.allocatableCpuMillis,
      allocatableMemoryBytes: nodes.allocatableMemoryBytes,
    })
    .from(nodes)
    .where(and(eq(nodes.id, nodeId), eq(nodes.tokenHash, credentialHash)));
  if (!node)
    throw new DomainError('UNAUTHENTICATED', 'this node was deleted, or an admin reset its credential');
  const rows = await db
    .select({ replica: replicas, template: revisions.template })
    .from(replicas)
    .innerJoin(
      revisions,
      and(eq(revisions.deploymentId, replicas.deploymentId), eq(revisions.revision, replicas.revision)),
    )
    .where(eq(replicas.nodeId, nodeId));

  // Secrets and ConfigMaps are resolved per namespace, only for what this node's replicas
  // reference (ConfigMaps only for replicas that have not fixed theirs yet).
  const wanted = new Map<
    string,
    {
      secrets: Set<string>;
      configMaps: Set<string>;
      volumeConfigMaps: Set<string>;
      claims: Set<string>;
      serviceAccounts: Set<string>;
    }
  >();
  for (const { replica, template } of rows) {
    if (replica.desired !== 'running') continue;
    const names = wanted.get(replica.namespace) ?? {
      secrets: new Set(),
      configMaps: new Set(),
      volumeConfigMaps: new Set(),
      claims: new Set(),
      serviceAccounts: new Set(),
    };
    if (template.spec.serviceAccountName) names.serviceAccounts.add(template.spec.serviceAccountName);
    for (const name of secretNamesOf(withInitContainers(template.spec))) names.secrets.add(name);
    if (!replica.configMapData)
      for (const name of configMapNamesOf(withInitContainers(template.spec))) names.configMaps.add(name);
    // Volumes read their objects as they are now, started or not (pod-volumes.ts).
    const mounted = volumeObjectNames(template.spec);
    for (const name of mounted.secrets) names.secrets.add(name);
    for (const name of mounted.configMaps) names.volumeConfigMaps.add(name);
    for (const name of mounted.claims) names.claims.add(name);
    wanted.set(replica.namespace, names);
  }
  const resolved = new Map<string, Map<string, { type: string; data: Record<string, string> }>>();
  const liveConfigMaps = new Map<string, Map<string, Record<string, string>>>();
  const volumeConfigMaps = new Map<string, Map<string, VolumeConfigMap>>();
  const claims = new Map<string, Map<string, ResolvedClaim>>();
  const serviceAccounts = new Map<string, ReadonlySet<string>>();
  for (const [ns, names] of wanted) {
    claims.set(ns, await resolveClaims(db, ns, [...names.claims], node.name));
    const accounts = await findServiceAccounts(db, ns, [...names.serviceAccounts]);
    serviceAccounts.set(ns, new Set(accounts.keys()));
    resolved.set(ns, await resolveSecrets(db, secretKey, ns, [...names.secrets]));
    liveConfigMaps.set(ns, await resolveConfigMaps(db, ns, [...names.configMaps]));
    volumeConfigMaps.set(ns, await resolveVolumeConfigMaps(db, ns, [...names.volumeConfigMaps]));
  }
  const nodeOf = {
    name: node.name,
    address: node.address,
    allocatableCpuMillis: node.allocatableCpuMillis,
    allocatableMemoryBytes: node.allocatableMemoryBytes,
  };
  const build = (replica: ReplicaRow, template: PodTemplate) =>
    // Service variables were fixed when each replica was created (see replicas.serviceEnv).
    withServiceEnv(
      toAssignment(replica, template, resolved.get(replica.namespace) ?? new Map(), {
        node: nodeOf,
        configMaps: liveConfigMaps.get(replica.namespace) ?? new Map(),
        volumeConfigMaps: volumeConfigMaps.get(replica.namespace) ?? new Map(),
        claims: claims.get(replica.namespace) ?? new Map(),
        serviceAccounts: serviceAccounts.get(replica.namespace) ?? new Set(),
      }),
      replica.serviceEnv ?? [],
    );
  const assignments: Assignment[] = rows.map(({ replica, template }) => build(replica, template));
  await fixConfigMaps(db, rows, assignments, liveConfigMaps, build);
  const pendingLogs = await db
    .select()
    .from(logRequests)
    .where(
      and(
        eq(logRequests.nodeId, nodeId),
        isNull(logRequests.answeredAt),
        gt(logRequests.createdAt, new Date(now.getTime() - 60_000)),
      ),
    );
  // Volumes of deleted claims to remove: only ever on this word (agent/claim-volumes.ts).
  const released = await claimRemovalsFor(db, node.name);
  const { execs, attaches, portForwards } = await pendingStreamRequests(db, nodeId, now);
  return {
    version: node.version,
    body: {
      replicas: assignments,
      ...(released.length ? { releasedClaims: released } : {}),
      logRequests: pendingLogs.map((l) => ({
        id: l.id,
        replicaId: l.replicaId,
        tail: l.tail,
        ...l.options,
      })),
      ...(execs.length ? { execRequests: execs } : {}),
      ...(attaches.length ? { attachRequests: attaches } : {}),
      ...(portForwards.length ? { portForwardRequests: portForwards } : {}),
      pollIntervalSeconds,
    },
  };
}

type ReplicaRow = typeof replicas.$inferSelect;

/**
 * A replica sent resolvable for the first time keeps the ConfigMaps it was sent
 * (replicas.configMapData), so one written later never changes the environment of a container
 * that may have started with it. Only the first snapshot is kept: when two builds race, the one
 * that lost rebuilds from the stored one, so every agent is sent the same values. Work is
 * proportional to change: a replica writes once, and only when its env reads a ConfigMap.
 */
async function fixConfigMaps(
  db: Database,
  rows: { replica: ReplicaRow; template: PodTemplate }[],
  assignments: Assignment[],
  live: Map<string, Map<string, Record<string, string>>>,
  build: (replica: ReplicaRow, template: PodTemplate) => Assignment,
): Promise<void> {
  const fresh = rows.flatMap(({ replica, template }, i) => {
    if (replica.configMapData || replica.desired !== 'running' || assignments[i]!.configError) return [];
    const names = configMapNamesOf(withInitContainers(template.spec));
    if (!names.length) return [];
    const data = Object.fromEntries(names.map((n) => [n, live.get(replica.namespace)?.get(n) ?? null]));
    return [{ i, id: replica.id, data }];
  });
  if (!fresh.length) return;
  const written = await db.execute(sql`
    update replicas set config_map_data = v.data
    from jsonb_to_recordset(${JSON.stringify(fresh.map(({ id, data }) => ({ id, data })))}::jsonb)
      as v(id text, data jsonb)
    where replicas.id = v.id and replicas.config_map_data is null
    returning replicas.id`);
  const won = new Set(rowsOf<{ id: string }>(written).map((r) => r.id));
  const lost = fresh.filter((f) => !won.has(f.id));
  if (!lost.length) return;
  const stored = await db
    .select({ id: replicas.id, configMapData: replicas.configMapData })
    .from(replicas)
    .where(
      inArray(
        replicas.id,
        lost.map((l) => l.id),
      ),
    );
  for (const { i } of lost) {
    const { replica, template } = rows[i]!;
    const data = stored.find((s) => s.id === replica.id)?.configMapData;
    if (data) assignments[i] = build({ ...replica, configMapData: data }, template);
  }
}

/** What a replica's env reads besides secrets: its node, and its namespace's ConfigMaps as they are now. */
export interface AssignmentContext {
  node: PodEnvContext['node'];
  configMaps: ReadonlyMap<string, Record<string, string>>;
  /** The ConfigMaps its volumes mount, as they are now. */
  volumeConfigMaps?: ReadonlyMap<string, VolumeConfigMap>;
  /** The claims its volumes mount that are bound to its node. */
  claims?: ReadonlyMap<string, VolumeClaim>;
  /** Of the ServiceAccounts its pod names, those that exist (`default` always does). */
  serviceAccounts?: ReadonlySet<string>;
}

const NO_CONTEXT: AssignmentContext = {
  node: { name: '', address: '', allocatableCpuMillis: 0, allocatableMemoryBytes: 0 },
  configMaps: new Map(),
};

/** A replica's snapshot of its ConfigMaps (replicas.configMapData), as a lookup. */
function snapshotOf(
  data: Record<string, Record<string, string> | null>,
): Map<string, Record<string, string>> {
  return new Map(Object.entries(data).flatMap(([name, d]) => (d ? [[name, d] as const] : [])));
}

/**
 * One replica as its agent must run it, its env fully resolved (pod-env.ts). A secret, ConfigMap
 * or key it needs that does not exist is never sent as an empty value: the assignment carries the
 * reason instead (`configError`), and the agent creates nothing until an assignment arrives
 * without it. A replica already sent resolvable reads its ConfigMaps as they were then.
 */
export function toAssignment(
  replica: typeof replicas.$inferSelect,
  template: PodTemplate,
  secrets: Map<string, { type: string; data: Record<string, string> }>,
  context: AssignmentContext = NO_CONTEXT,
): Assignment {
  // Init containers first, read as containers are (env, the secrets and ConfigMaps they name, their
  // mounts), and moved to initContainers at the end (common/init-containers.ts).
  const spec = withInitContainers(template.spec);
  const configMaps = replica.configMapData ? snapshotOf(replica.configMapData) : context.configMaps;
  const keysOf = (data: Record<string, string> | undefined) => (data ? Object.keys(data) : undefined);
  // Secrets are read for running replicas only: one told to stop needs none.
  const running = replica.desired === 'running';
  const volumes = running
    ? resolvePodVolumes(spec, secrets, context.volumeConfigMaps ?? new Map(), context.claims)
    : undefined;
  const [configError] = running
    ? [
        ...missingSecretRefs(
          spec,
          (name) => keysOf(secrets.get(name)?.data),
          (name) => keysOf(configMaps.get(name)),
        ),
        ...(volumes?.missing ?? []),
        // Kubernetes creates no pod for an account that does not exist; Berth's replica waits.
        ...(spec.serviceAccountName &&
        spec.serviceAccountName !== DEFAULT_SERVICE_ACCOUNT &&
        !context.serviceAccounts?.has(spec.serviceAccountName)
          ? [`serviceaccount "${spec.serviceAccountName}" not found`]
          : []),
      ]
    : [];
  const resources = new Map(
    spec.containers.map((c) => [c.name, containerResources(c.resources, replica.defaultMemoryLimitBytes)]),
  );
  const env: PodEnvContext = {
    podName: replica.id,
    namespace: replica.namespace,
    labels: template.metadata.labels,
    node: context.node,
    secrets,
    configMaps,
    serviceEnv: replica.serviceEnv ?? [],
    resources: (name) => resources.get(name),
    serviceAccountName: spec.serviceAccountName,
    ...(typeof replica.completionIndex === 'number'
      ? { podEnv: [{ name: COMPLETION_INDEX_ENV, value: String(replica.completionIndex) }] }
      : {}),
  };
  // Berth's registry secrets and Kubernetes' dockerconfigjson ones alike (each of its auths).
  const pullAuth = spec.imagePullSecrets.flatMap((s) => {
    const secret = secrets.get(s.name);
    return secret ? registryAuthsOf(secret) : [];
  });
  return splitInitContainers(template.spec, {
    id: replica.id,
    namespace: replica.namespace,
    deployment: replica.deploymentName,
    revision: replica.revision,
    desired: replica.desired,
    restartPolicy: spec.restartPolicy,
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    drainDelaySeconds: spec.drainDelaySeconds,
    ...(pullAuth.length ? { imagePullAuth: pullAuth } : {}),
    ...(configError ? { configError } : {}),
    ...(volumes?.volumes.length ? { volumes: volumes.volumes } : {}),
    containers: spec.containers.map((c) => ({
      name: c.name,
      image: c.image,
      imagePullPolicy:
        c.imagePullPolicy ??
        (/:latest$|^[^:]*$/.test(c.image.split('/').pop() ?? '') ? 'Always' : 'IfNotPresent'),
      // env, and command and args with their $(VAR) expanded; a reference that does not resolve
      // is left out (configError says why when it was required), never sent empty.
      ...resolveContainerEnv(c, env),
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      ports: c.ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        containerPort: p.containerPort,
        ...(p.hostPort ? { hostPort: p.hostPort } : {}),
        protocol: p.protocol,
      })),
      resources: quantities(c.resources, replica.defaultMemoryLimitBytes),
      ...(c.readinessProbe ? { readinessProbe: c.readinessProbe } : {}),
      ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
      ...(c.startupProbe ? { startupProbe: c.startupProbe } : {}),
      ...(c.lifecycle ? { lifecycle: c.lifecycle } : {}),
      ...(c.volumeMounts?.length ? { volumeMounts: assignedMounts(c.volumeMounts) } : {}),
      ...assignedSecurity(spec.securityContext, c.securityContext),
    })),
  });
}

/** A container's resources for resourceFieldRef: requests not written default to limits written. */
function containerResources(
  r: PodTemplate['spec']['containers'][number]['resources'],
  defaultMemoryLimit: number | null,
): ContainerResources {
  const q = quantities(r, defaultMemoryLimit);
  return {
    requests: {
      cpu: q.cpuRequestMillis ?? q.cpuLimitMillis,
      memory: q.memoryRequestBytes ?? (r.limits?.memory !== undefined ? q.memoryLimitBytes : undefined),
    },
    limits: { cpu: q.cpuLimitMillis, memory: q.memoryLimitBytes },
  };
}

/**
 * A container's resources in numbers. One that sets neither a memory limit nor a request gets
 * the default its replica was created with (the namespace policy's); with either, the agent
 * limits it to the limit, else the request.
 */
function quantities(
  r: PodTemplate['spec']['containers'][number]['resources'],
  defaultMemoryLimit: number | null,
) {
  const out: {
    cpuRequestMillis?: number;
    memoryRequestBytes?: number;
    cpuLimitMillis?: number;
    memoryLimitBytes?: number;
    extended?: Record<string, number>;
  } = {};
  if (r.requests?.cpu !== undefined) out.cpuRequestMillis = parseCpu(r.requests.cpu);
  if (r.requests?.memory !== undefined) out.memoryRequestBytes = parseMemory(r.requests.memory);
  if (r.limits?.cpu !== undefined) out.cpuLimitMillis = parseCpu(r.limits.cpu);
  if (r.limits?.memory !== undefined) out.memoryLimitBytes = parseMemory(r.limits.memory);
  else if (r.requests?.memory === undefined && defaultMemoryLimit !== null)
    out.memoryLimitBytes = defaultMemoryLimit;
  const extended = extendedLimits(r);
  if (extended) out.extended = extended;
  return out;
}

/**
 * Record what an agent observed. Only replicas placed on the reporting node are touched
 * (an agent's word about anything else is ignored). A replica told to stop and no longer
 * reported is gone: its row is deleted. Returns the deployments woken: their observed state
 * changed, or room appeared for their waiting replicas.
 */
export async function recordStatus(
  db: Database,
  nodeId: string,
  report: StatusReport,
  now: Date,
): Promise<string[]> {
  // Lock order everywhere is deployments → replicas → nodes. This transaction touches only
  // replicas then nodes; it wakes the deployments by appending, which locks nothing.
  return retryOnConflict(() =>
    db.transaction(async (tx) => {
      // Row locks in id order, first: two reports of one node (a heartbeat beside a report, a
      // retry beside its timed-out original) then queue here instead of deadlocking on the rows.
      const own = await tx
        .select()
        .from(replicas)
        .where(eq(replicas.nodeId, nodeId))
        .orderBy(asc(replicas.id))
        .for('update');
      const reported = new Map(report.replicas.map((r) => [r.id, r]));
      const changed = new Set<string>();
      const updates: Record<string, unknown>[] = [];
      const gone: string[] = [];
      for (const row of own) {
        const r = reported.get(row.id);
        if (!r) {
          if (row.desired === 'stopped') {
            gone.push(row.id);
            changed.add(row.deploymentId);
          }
          continue;
        }
        // A replica told to stop stays Terminating until it is gone, whatever the agent last saw.
        const phase =
          row.desired === 'stopped' && r.phase !== 'Succeeded' && r.phase !== 'Failed'
            ? 'Terminating'
            : r.phase;
        const ready = row.desired === 'running' && r.ready;
        // Init containers' too: restarts, host ports (a sidecar's), statuses (init-statuses.ts).
        const statuses = storedContainers(r);
        // The column is a 32-bit integer; a report may add up more (each count is any safe integer).
        const restartCount = Math.min(
          statuses.reduce((n, c) => n + c.restartCount, 0),
          2_147_483_647,
        );
        const hostPorts = statuses.flatMap((c) => c.hostPorts);
        const message = r.message ?? null;
        const same =
          row.phase === phase &&
          row.ready === ready &&
          row.restartCount === restartCount &&
          row.message === message &&
          JSON.stringify(row.hostPorts) === JSON.stringify(hostPorts) &&
          JSON.stringify(row.containers) === JSON.stringify(statuses);
        if (same) continue;
        changed.add(row.deploymentId);
        updates.push({
          id: row.id,
          phase,
          ready,
          ready_since: ready
            ? row.ready && row.readySince
              ? row.readySince.toISOString()
              : now.toISOString()
            : null,
          message,
          restart_count: restartCount,
          host_ports: hostPorts,
          containers: statuses,
        });
      }
      if (updates.length) {
        await tx.execute(sql`
        update replicas set phase = v.phase, ready = v.ready, ready_since = v.ready_since, message = v.message,
          restart_count = v.restart_count, host_ports = v.host_ports, containers = v.containers, updated_at = ${now}
        from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as v(id text, phase text, ready boolean,
          ready_since timestamptz, message text, restart_count int, host_ports jsonb, containers jsonb)
        where replicas.id = v.id and replicas.node_id = ${nodeId}`);
      }
      if (gone.length)
        await tx.delete(replicas).where(and(inArray(replicas.id, gone), eq(replicas.nodeId, nodeId)));
      if (report.capacity || report.allocatable || report.agentVersion) {
        await tx
          .update(nodes)
          .set({
            ...(report.capacity
              ? {
                  capacityCpuMillis: Math.round(report.capacity.cpu * 1000),
                  capacityMemoryBytes: report.capacity.memoryBytes,
                }
              : {}),
            ...(report.allocatable
              ? {
                  allocatableCpuMillis: Math.round(report.allocatable.cpu * 1000),
                  allocatableMemoryBytes: report.allocatable.memoryBytes,
                }
              : {}),
            ...(report.agentVersion ? { agentVersion: report.agentVersion } : {}),
          })
          .where(eq(nodes.id, nodeId));
      }
      // A report is proof of life: a node marked NotReady or Lost is Ready again at once.
      const revived = await tx
        .update(nodes)
        .set({ status: 'Ready', statusChangedAt: now })
        .where(and(eq(nodes.id, nodeId), sql`${nodes.status} <> 'Ready'`))
        .returning({ name: nodes.name });
      if (revived.length) {
        await recordEvents(
          tx,
          [
            {
              namespace: '',
              objectKind: 'node',
              objectName: revived[0]!.name,
              type: 'Normal',
              reason: 'NodeReady',
              message: 'agent reported again',
            },
          ],
          now,
        );
        for (const row of own) changed.add(row.deploymentId);
      }
      // Woken in this transaction, so the wake-up commits with what it announces.
      await wakeDeployments(tx, changed);
      if (gone.length) for (const id of await wakeWaitingDeployments(tx)) changed.add(id);
      return [...changed];
    }),
  );
}

export async function answerLogRequest(
  db: Database,
  nodeId: string,
  answer: { id: string; lines: string[]; error?: string | undefined },
  now: Date,
): Promise<void> {
  await db
    .update(logRequests)
    .set({ answeredAt: now, lines: answer.lines, error: answer.error ?? null })
    .where(
      and(eq(logRequests.id, answer.id), eq(logRequests.nodeId, nodeId), isNull(logRequests.answeredAt)),
    );
}
