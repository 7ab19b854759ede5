import { and, asc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Assignment, AssignmentsResponse, StatusReport } from '../../common/agent-protocol.ts';
import type { PodTemplate } from '../../common/deployment.ts';
import { registryAuthsOf } from '../../common/docker-config.ts';
import { parseCpu, parseMemory } from '../../common/quantity.ts';
import type { Database } from '../../db/database.ts';
import { retryOnConflict } from '../../db/retry.ts';
import { logRequests, nodes, replicas, revisions } from '../../db/schema/index.ts';
import { DomainError } from '../errors.ts';
import { withServiceEnv } from '../store/discovery.ts';
import { recordEvents } from '../store/events.ts';
import { wakeDeployments, wakeWaitingDeployments } from '../store/wakeups.ts';
import { missingSecretRefs, secretNamesOf } from './secret-refs.ts';
import { resolveSecrets } from './secrets.ts';

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

export const etagOf = (version: number) => `"a${version}"`;

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
    .select({ version: nodes.assignmentVersion })
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

  // Secrets are resolved per namespace, only for what this node's replicas reference.
  const wanted = new Map<string, Set<string>>();
  for (const { replica, template } of rows) {
    if (replica.desired !== 'running') continue;
    const names = wanted.get(replica.namespace) ?? new Set<string>();
    for (const name of secretNamesOf(template.spec)) names.add(name);
    wanted.set(replica.namespace, names);
  }
  const resolved = new Map<string, Map<string, { type: string; data: Record<string, string> }>>();
  for (const [ns, names] of wanted) resolved.set(ns, await resolveSecrets(db, secretKey, ns, [...names]));

  // Service variables were fixed when each replica was created (see replicas.serviceEnv).
  const assignments: Assignment[] = rows.map(({ replica, template }) =>
    withServiceEnv(
      toAssignment(replica, template, resolved.get(replica.namespace) ?? new Map()),
      replica.serviceEnv ?? [],
    ),
  );
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
  return {
    version: node.version,
    body: {
      replicas: assignments,
      logRequests: pendingLogs.map((l) => ({ id: l.id, replicaId: l.replicaId, tail: l.tail })),
      pollIntervalSeconds,
    },
  };
}

/**
 * One replica as its agent must run it. A secret or key it names that does not exist is never
 * sent as an empty value: the assignment carries the reason instead (`configError`), and the
 * agent creates nothing until an assignment arrives without it.
 */
export function toAssignment(
  replica: typeof replicas.$inferSelect,
  template: PodTemplate,
  secrets: Map<string, { type: string; data: Record<string, string> }>,
): Assignment {
  const spec = template.spec;
  // Secrets are read for running replicas only: one told to stop needs none.
  const [configError] =
    replica.desired === 'running'
      ? missingSecretRefs(spec, (name) => {
          const found = secrets.get(name);
          return found ? Object.keys(found.data) : undefined;
        })
      : [];
  const secretValue = (ref: { name: string; key: string }) => secrets.get(ref.name)?.data[ref.key];
  // Berth's registry secrets and Kubernetes' dockerconfigjson ones alike (each of its auths).
  const pullAuth = spec.imagePullSecrets.flatMap((s) => {
    const secret = secrets.get(s.name);
    return secret ? registryAuthsOf(secret) : [];
  });
  return {
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
    containers: spec.containers.map((c) => ({
      name: c.name,
      image: c.image,
      imagePullPolicy:
        c.imagePullPolicy ??
        (/:latest$|^[^:]*$/.test(c.image.split('/').pop() ?? '') ? 'Always' : 'IfNotPresent'),
      ...(c.command ? { command: c.command } : {}),
      ...(c.args ? { args: c.args } : {}),
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      // A reference that does not resolve is left out (configError says why), never sent empty.
      env: c.env.flatMap((e) => {
        const value = e.valueFrom ? secretValue(e.valueFrom.secretKeyRef) : (e.value ?? '');
        return value === undefined ? [] : [{ name: e.name, value }];
      }),
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
    })),
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
  } = {};
  if (r.requests?.cpu !== undefined) out.cpuRequestMillis = parseCpu(r.requests.cpu);
  if (r.requests?.memory !== undefined) out.memoryRequestBytes = parseMemory(r.requests.memory);
  if (r.limits?.cpu !== undefined) out.cpuLimitMillis = parseCpu(r.limits.cpu);
  if (r.limits?.memory !== undefined) out.memoryLimitBytes = parseMemory(r.limits.memory);
  else if (r.requests?.memory === undefined && defaultMemoryLimit !== null)
    out.memoryLimitBytes = defaultMemoryLimit;
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
        // The column is a 32-bit integer; a report may add up more (each count is any safe integer).
        const restartCount = Math.min(
          r.containers.reduce((n, c) => n + c.restartCount, 0),
          2_147_483_647,
        );
        const hostPorts = r.containers.flatMap((c) => c.hostPorts);
        const message = r.message ?? null;
        const same =
          row.phase === phase &&
          row.ready === ready &&
          row.restartCount === restartCount &&
          row.message === message &&
          JSON.stringify(row.hostPorts) === JSON.stringify(hostPorts) &&
          JSON.stringify(row.containers) === JSON.stringify(r.containers);
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
          containers: r.containers,
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
