import { and, eq, gt, isNotNull, isNull, lt } from 'drizzle-orm';
import type { AttachRequest, ExecRequest, PortForwardRequest } from '../../common/agent-protocol.ts';
import type { Database } from '../../db/database.ts';
import { execSessions, nodes, replicas } from '../../db/schema/index.ts';
import { randomToken } from '../crypto.ts';
import { notFound } from '../errors.ts';
import { bumpAssignments } from '../store/assignments.ts';
import { recordEvents } from '../store/events.ts';

/**
 * How long a session waits for its agent. The request rides the node's assignments (its long-poll
 * is woken at once), so an agent that is there answers in well under a second; one that is not
 * (offline, too old to know exec) leaves kubectl told so after this, not hanging. On Workers agents
 * are answered at once and come back every BERTH_POLL_INTERVAL_SECONDS (5 in wrangler.toml), so
 * they take a session within that: keep the interval well under this there.
 */
export const EXEC_TAKE_MS = 15_000;

/** Rows older than this are left over from a stopped process. */
const STALE_MS = 24 * 3600_000;

/** The longest command shown in the pod's event (the whole command is the user's own business). */
const SHOWN_COMMAND = 200;

/**
 * Start a `kubectl exec`: a session row for the replica's node, an event on the pod saying who ran
 * what, and the node's assignments bumped so its agent hears of it now (as log reads do).
 */
export async function openExecSession(
  db: Database,
  args: {
    namespace: string;
    replicaId: string;
    container: string;
    command: string[];
    tty: boolean;
    stdin: boolean;
    who: string;
    /** The copy holding kubectl's socket (BERTH_PEER_URL), if other copies can reach it. */
    holderUrl: string | undefined;
    now: Date;
    wake: (nodeIds: string[]) => Promise<void>;
  },
): Promise<{ id: string; node: string }> {
  const placed = await placedReplica(db, args.namespace, args.replicaId);
  const id = `exec_${randomToken(12)}`;
  await insertSession(db, placed.nodeId, args.now, {
    id,
    replicaId: args.replicaId,
    container: args.container,
    command: args.command,
    tty: args.tty,
    stdin: args.stdin,
    who: args.who,
    holderUrl: args.holderUrl ?? null,
  });
  const shown = args.command.join(' ');
  await recordEvents(
    db,
    [
      {
        namespace: args.namespace,
        objectKind: 'pod',
        objectName: args.replicaId,
        type: 'Normal',
        reason: args.command.length ? 'Exec' : 'Attach',
        message: args.command.length
          ? `${args.who} ran in container ${args.container}: ${shown.length > SHOWN_COMMAND ? `${shown.slice(0, SHOWN_COMMAND)}…` : shown}`
          : `${args.who} attached to container ${args.container}`,
      },
    ],
    args.now,
  );
  await bumpAssignments(db, [placed.nodeId]);
  await args.wake([placed.nodeId]);
  return { id, node: placed.node };
}

/**
 * One connection of a `kubectl port-forward`: a session row like exec's, for the agent to connect
 * to the pod's `port`. No event: a browser through a port-forward opens connections by the dozen
 * (the port-forward itself is in the control plane's log).
 */
export async function openPortForwardSession(
  db: Database,
  args: {
    namespace: string;
    replicaId: string;
    port: number;
    who: string;
    holderUrl: string | undefined;
    now: Date;
    wake: (nodeIds: string[]) => Promise<void>;
    /** Names the meeting point too (Workers' object holding kubectl's socket): `{prefix}.{random}`. */
    idPrefix?: string;
  },
): Promise<{ id: string; node: string }> {
  const placed = await placedReplica(db, args.namespace, args.replicaId);
  const id = args.idPrefix ? `${args.idPrefix}.${randomToken(12)}` : `pf_${randomToken(12)}`;
  await insertSession(db, placed.nodeId, args.now, {
    id,
    replicaId: args.replicaId,
    container: '',
    command: [],
    tty: false,
    stdin: false,
    who: args.who,
    holderUrl: args.holderUrl ?? null,
    port: args.port,
  });
  await bumpAssignments(db, [placed.nodeId]);
  await args.wake([placed.nodeId]);
  return { id, node: placed.node };
}

async function placedReplica(db: Database, namespace: string, replicaId: string) {
  const [placed] = await db
    .select({ nodeId: replicas.nodeId, node: nodes.name })
    .from(replicas)
    .innerJoin(nodes, eq(nodes.id, replicas.nodeId))
    .where(and(eq(replicas.namespace, namespace), eq(replicas.id, replicaId), isNotNull(replicas.nodeId)));
  if (!placed?.nodeId) throw notFound(`replica "${namespace}/${replicaId}" (placed on a node)`);
  return { nodeId: placed.nodeId, node: placed.node };
}

async function insertSession(
  db: Database,
  nodeId: string,
  now: Date,
  row: Omit<typeof execSessions.$inferInsert, 'nodeId' | 'createdAt'>,
): Promise<void> {
  // Rows of a control plane that stopped mid-stream are never ended: each new session clears
  // those a day old (only the meeting point; a stream still open does not need its row).
  await db.delete(execSessions).where(lt(execSessions.createdAt, new Date(now.getTime() - STALE_MS)));
  await db.insert(execSessions).values({ ...row, nodeId, createdAt: now });
}

/** The sessions a node's agent has yet to take, for its assignments. */
export async function pendingStreamRequests(
  db: Database,
  nodeId: string,
  now: Date,
): Promise<{ execs: ExecRequest[]; attaches: AttachRequest[]; portForwards: PortForwardRequest[] }> {
  const rows = await db
    .select()
    .from(execSessions)
    .where(
      and(
        eq(execSessions.nodeId, nodeId),
        isNull(execSessions.takenAt),
        gt(execSessions.createdAt, new Date(now.getTime() - EXEC_TAKE_MS)),
      ),
    );
  return {
    // An attach is an exec session without a command (the container's own output is the stream).
    execs: rows
      .filter((r) => r.port === null && r.command.length > 0)
      .map((r) => ({
        id: r.id,
        replicaId: r.replicaId,
        container: r.container,
        command: r.command,
        tty: r.tty,
        stdin: r.stdin,
      })),
    attaches: rows
      .filter((r) => r.port === null && r.command.length === 0)
      .map((r) => ({ id: r.id, replicaId: r.replicaId, container: r.container })),
    portForwards: rows
      .filter((r) => r.port !== null)
      .map((r) => ({ id: r.id, replicaId: r.replicaId, port: r.port! })),
  };
}

/**
 * Where an agent's socket for session `id` must go when it reached a copy other than the one
 * holding kubectl's (`self`, this copy's BERTH_PEER_URL): that copy's URL; undefined when it is
 * this one, or unknown (then this copy takes it, as with a single copy).
 */
export async function execHolderElsewhere(
  db: Database,
  nodeId: string,
  id: string,
  self: string | undefined,
): Promise<string | undefined> {
  const [row] = await db
    .select({ holderUrl: execSessions.holderUrl })
    .from(execSessions)
    .where(and(eq(execSessions.id, id), eq(execSessions.nodeId, nodeId), isNull(execSessions.takenAt)));
  return row?.holderUrl && row.holderUrl !== self ? row.holderUrl : undefined;
}

/**
 * The agent's claim on a session: only its own node's, only once, only while kubectl still
 * waits. Undefined otherwise (another node's, taken already, expired, ended).
 */
export async function takeExecSession(db: Database, nodeId: string, id: string, now: Date) {
  const [row] = await db
    .update(execSessions)
    .set({ takenAt: now })
    .where(
      and(
        eq(execSessions.id, id),
        eq(execSessions.nodeId, nodeId),
        isNull(execSessions.takenAt),
        gt(execSessions.createdAt, new Date(now.getTime() - EXEC_TAKE_MS)),
      ),
    )
    .returning({ id: execSessions.id });
  return row;
}

/** The stream ended (or nobody came): the row has nothing more to say. */
export async function endExecSession(db: Database, id: string): Promise<void> {
  await db.delete(execSessions).where(eq(execSessions.id, id));
}
