import { and, asc, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { deployments, logRequests, nodes, replicas } from '../../db/schema/index.ts';
import { randomToken } from '../crypto.ts';
import { DomainError, notFound } from '../errors.ts';
import { bumpAssignments } from '../store/assignments.ts';
import { shownContainers } from './init-statuses.ts';
import { type LogOptions, logRequestOptions } from './log-options.ts';

/** A namespace's replicas, or one workload's: `{ deployment }` or `{ job }` by name. */
export async function listReplicas(
  db: Database,
  namespace: string,
  owner: { deployment?: string | undefined; job?: string | undefined } = {},
) {
  const where = [eq(replicas.namespace, namespace)];
  if (owner.deployment)
    where.push(eq(replicas.deploymentName, owner.deployment), eq(deployments.kind, 'Deployment'));
  if (owner.job) where.push(eq(replicas.deploymentName, owner.job), eq(deployments.kind, 'Job'));
  const rows = await db
    .select({ replica: replicas, node: nodes.name, address: nodes.address, kind: deployments.kind })
    .from(replicas)
    .innerJoin(deployments, eq(deployments.id, replicas.deploymentId))
    .leftJoin(nodes, eq(nodes.id, replicas.nodeId))
    .where(and(...where))
    .orderBy(asc(replicas.deploymentName), asc(replicas.createdAt), asc(replicas.id));
  return rows.map(({ replica: r, node, address, kind }) => ({
    id: r.id,
    namespace: r.namespace,
    deployment: r.deploymentName,
    ...(kind === 'Job' ? { job: r.deploymentName } : {}),
    ...(r.completionIndex !== null ? { completionIndex: r.completionIndex } : {}),
    revision: r.revision,
    node: node ?? null,
    nodeAddress: address ?? null,
    desired: r.desired,
    phase: r.phase,
    ready: r.ready,
    restartCount: r.restartCount,
    hostPorts: r.hostPorts,
    message: r.message,
    ...shownContainers(r.containers),
    draining: r.draining,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  }));
}

/**
 * Ask the replica's agent for its recent log lines: the request rides along with the node's
 * assignments (waking its long-poll), the agent answers through /v1/agent/logs, and this
 * waits a few seconds for that answer.
 */
export async function requestLogs(
  db: Database,
  args: {
    namespace: string;
    replicaId: string;
    tail: number;
    /** One container, lines since an instant, timestamps (log-options.ts). */
    options?: LogOptions;
    now: Date;
    wake: (nodeIds: string[]) => Promise<void>;
    timeoutMs?: number;
  },
) {
  const [replica] = await db
    .select()
    .from(replicas)
    .where(
      and(
        eq(replicas.namespace, args.namespace),
        eq(replicas.id, args.replicaId),
        isNotNull(replicas.nodeId),
      ),
    );
  if (!replica) throw notFound(`replica "${args.namespace}/${args.replicaId}" (placed on a node)`);
  const id = `log_${randomToken(9)}`;
  await db.insert(logRequests).values({
    id,
    nodeId: replica.nodeId!,
    replicaId: replica.id,
    tail: args.tail,
    options: logRequestOptions(args.options ?? {}),
    createdAt: args.now,
  });
  await bumpAssignments(db, [replica.nodeId!]);
  await args.wake([replica.nodeId!]);
  const deadline = Date.now() + (args.timeoutMs ?? 8000);
  try {
    while (Date.now() < deadline) {
      const [row] = await db.select().from(logRequests).where(eq(logRequests.id, id));
      if (row?.answeredAt) {
        if (row.error)
          throw new DomainError('UNAVAILABLE', `the agent could not read the logs: ${row.error}`);
        return { replica: replica.id, lines: row.lines ?? [] };
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    await db.delete(logRequests).where(eq(logRequests.id, id));
  }
  throw new DomainError('UNAVAILABLE', `the agent of replica ${replica.id} did not answer in time`, {
    retryAfterSeconds: 2,
  });
}
