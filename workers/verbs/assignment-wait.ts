import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { networkVersions, nodes } from '../../db/schema/index.ts';
import { DomainError } from '../errors.ts';
import type { NodeSignals } from '../signals.ts';
import { etagOf, type PollVersion } from './agents.ts';
import { readNetworkVersion } from './service-map.ts';

/**
 * The long-poll of an agent's assignments: wait until the node's assignment version or the
 * cluster's service map version moves past the ETag the agent holds, or `waitSeconds` pass, or
 * the client or the process goes away. Returns the versions last seen. Refuses (401) a node deleted, or whose credential an admin
 * reset, while its poll was held.
 */
export async function awaitAssignmentChange(
  deps: { db: Database; signals: NodeSignals; shuttingDown?: (() => boolean) | undefined },
  node: { nodeId: string; credentialHash: string; assignmentVersion: number },
  known: string | undefined,
  waitSeconds: number,
  clientGone: AbortSignal,
): Promise<PollVersion> {
  let version: PollVersion = {
    assignments: node.assignmentVersion,
    network: await readNetworkVersion(deps.db),
  };
  if (known !== etagOf(version) || waitSeconds <= 0) return version;
  const deadline = Date.now() + waitSeconds * 1000;
  // Undefined once the node is deleted or its credential reset.
  const readVersion = async (): Promise<PollVersion | undefined> =>
    (
      await deps.db
        .select({
          assignments: nodes.assignmentVersion,
          network:
            sql<number>`(select ${networkVersions.version} from ${networkVersions} where ${networkVersions.id} = 1)`.mapWith(
              Number,
            ),
        })
        .from(nodes)
        .where(and(eq(nodes.id, node.nodeId), eq(nodes.tokenHash, node.credentialHash)))
    )[0];
  // Register for the wake-up first, then read the version: a change that lands in between is
  // seen by the read, one after it wakes the wait. The signal (in-process, or NOTIFY from
  // another copy) is a hint; the version in the database is the truth.
  while (Date.now() < deadline && !deps.shuttingDown?.() && !clientGone.aborted) {
    const stop = new AbortController();
    const onClientGone = () => stop.abort();
    clientGone.addEventListener('abort', onClientGone, { once: true });
    const woken = deps.signals.wait(node.nodeId, deadline - Date.now(), stop.signal);
    const fresh = await readVersion();
    if (fresh === undefined) stop.abort();
    else {
      version = fresh;
      if (known !== etagOf(version)) stop.abort();
    }
    await woken;
    clientGone.removeEventListener('abort', onClientGone);
    if (fresh === undefined)
      throw new DomainError('UNAUTHENTICATED', 'this node was deleted, or an admin reset its credential');
    if (known !== etagOf(version)) break;
  }
  return version;
}
