import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { RegisterRequest } from '../../common/agent-protocol.ts';
import type { Cidr } from '../../common/ip-address.ts';
import { HOSTNAME_LABEL, PLATFORM_LABELS } from '../../common/scheduling.ts';
import type { Database } from '../../db/database.ts';
import { joinTokens, nodes } from '../../db/schema/index.ts';
import { checkNodeAddress } from '../auth/node-address.ts';
import { TOKEN_PREFIX } from '../auth/principal.ts';
import { randomToken, sha256Hex } from '../crypto.ts';
import { conflict, DomainError, forbidden, invalid, notFound } from '../errors.ts';
import { recordEvents } from '../store/events.ts';
import { wakeWaitingDeployments } from '../store/wakeups.ts';

/**
 * Who holds a node's name. A join token proves only that an admin let *a* machine in; it never
 * makes its holder a node that already has a credential (that would hand over the node's
 * assignments, and the secrets in them, and lock the real agent out).
 *
 *              join token                      admin reset
 *     Free ───────────────▶ Registered ───────────────────▶ Reset
 *      ▲                     │  ▲    ▲                         │
 *      │   DELETE /v1/nodes  │  │    └─────── join token ───────┘
 *      └─────────────────────┘  │
 *                               └── own credential: labels, address, capacity (same credential)
 *
 *     Registered + join token alone: 409, nothing changes.
 *
 * Free is no row; Reset is a row whose credential hash is null; Registered holds one.
 */

export interface RegisterOptions {
  /** The bearer token the request carried, if any: the node's own credential. */
  credential: string | undefined;
  now: Date;
  pollIntervalSeconds: number;
  /** BERTH_NODE_ADDRESS_CIDRS (empty: any address outside the refused ranges). */
  addressCidrs: readonly Cidr[];
}

/**
 * Register a node. With its credential: update what the agent reports (labels, address,
 * capacity, version) and answer with the same credential. With a join token: take a free or
 * reset name and issue a new credential; the token's use is counted in the statement that
 * checks it, so `maxUses` holds under concurrent registrations, and a refused registration
 * (bound to another name or labels, name taken) rolls the use back.
 */
export async function registerNode(db: Database, input: RegisterRequest, o: RegisterOptions) {
  const checked = checkNodeAddress(input.address, o.addressCidrs);
  if (!checked.ok) throw invalid([{ path: 'address', message: checked.message }]);
  const reported = reportedOf(input, checked.address, o.now);
  let answer: { nodeId: string; nodeToken: string };
  if (o.credential !== undefined) answer = await renew(db, input, o, reported);
  else if (input.joinToken !== undefined) answer = await join(db, input, input.joinToken, o, reported);
  else
    throw new DomainError(
      'UNAUTHENTICATED',
      'give a join token ("joinToken") to register a new node, or the node\'s credential ("Authorization: Bearer <node token>") to update it',
    );
  // Room appeared: deployments with replicas waiting for a place look again.
  const woken = await wakeWaitingDeployments(db);
  return { answer: { ...answer, pollIntervalSeconds: o.pollIntervalSeconds }, woken };
}

/** What a registration writes of the node, whichever way it proves itself. */
function reportedOf(input: RegisterRequest, address: string, now: Date) {
  const cpuMillis = Math.round(input.capacity.cpu * 1000);
  return {
    // The node's name is its host name for selectors written for Kubernetes; like berth.dev/node it
    // is the server's, so a node cannot take another's place in hostname affinity or spread.
    labels: { ...input.labels, [HOSTNAME_LABEL]: input.name, 'berth.dev/node': input.name },
    address,
    agentVersion: input.agentVersion,
    capacityCpuMillis: cpuMillis,
    capacityMemoryBytes: input.capacity.memoryBytes,
    allocatableCpuMillis: cpuMillis,
    allocatableMemoryBytes: input.capacity.memoryBytes,
    // An agent that sends none (or predates them) offers none: what it offered before is gone.
    extendedResources: input.extendedResources ?? {},
    allocatableEphemeralStorageBytes: input.ephemeralStorageBytes ?? 0,
    lastHeartbeat: now,
    // A new assignments ETag: the agent behind this registration starts from a full answer.
    assignmentVersion: sql`${nodes.assignmentVersion} + 1`,
  };
}
type Reported = ReturnType<typeof reportedOf>;

async function renew(db: Database, input: RegisterRequest, o: RegisterOptions, reported: Reported) {
  const credential = o.credential!;
  const hash = await sha256Hex(credential);
  const [row] = await db
    .update(nodes)
    .set(reported)
    .where(and(eq(nodes.tokenHash, hash), eq(nodes.name, input.name)))
    .returning({ id: nodes.id });
  if (!row) {
    const [other] = await db.select({ name: nodes.name }).from(nodes).where(eq(nodes.tokenHash, hash));
    if (other) throw forbidden(`this credential is node "${other.name}"'s, not "${input.name}"'s`);
    throw new DomainError(
      'UNAUTHENTICATED',
      'the node credential is unknown: the node was deleted, or an admin reset it; re-join it with a new join token',
    );
  }
  await recordEvents(
    db,
    [
      {
        namespace: '',
        objectKind: 'node',
        objectName: input.name,
        type: 'Normal',
        reason: 'Updated',
        message: `agent ${input.agentVersion} registered again with its credential from ${reported.address}`,
      },
    ],
    o.now,
  );
  return { nodeId: row.id, nodeToken: credential };
}

async function join(
  db: Database,
  input: RegisterRequest,
  joinToken: string,
  o: RegisterOptions,
  reported: Reported,
) {
  const joinHash = await sha256Hex(joinToken);
  const nodeToken = `${TOKEN_PREFIX.node}${randomToken(24)}`;
  const tokenHash = await sha256Hex(nodeToken);
  const nodeId = await db.transaction(async (tx) => {
    const [used] = await tx
      .update(joinTokens)
      .set({ uses: sql`${joinTokens.uses} + 1` })
      .where(
        and(
          eq(joinTokens.secretHash, joinHash),
          gt(joinTokens.expiresAt, o.now),
          sql`(${joinTokens.maxUses} is null or ${joinTokens.uses} < ${joinTokens.maxUses})`,
        ),
      )
      .returning({ nodeName: joinTokens.nodeName, labels: joinTokens.labels });
    if (!used) throw new DomainError('UNAUTHENTICATED', 'the join token is unknown, expired or used up');
    if (used.nodeName !== null && used.nodeName !== input.name)
      throw forbidden(`this join token registers only node "${used.nodeName}"`);
    if (used.labels !== null && !sameLabels(used.labels, input.labels))
      throw forbidden(`this join token registers only with the labels ${formatLabels(used.labels)}`);

    // Row locks settle two registrations racing for one name: the second finds the name
    // registered (the reset row now has a credential, or the insert meets the first's row).
    const values = { ...reported, tokenHash };
    const [reclaimed] = await tx
      .update(nodes)
      .set(values)
      .where(and(eq(nodes.name, input.name), isNull(nodes.tokenHash)))
      .returning({ id: nodes.id });
    const [inserted] = reclaimed
      ? [reclaimed]
      : await tx
          .insert(nodes)
          .values({
            id: crypto.randomUUID(),
            name: input.name,
            ...values,
            assignmentVersion: 1,
            createdAt: o.now,
          })
          .onConflictDoNothing({ target: nodes.name })
          .returning({ id: nodes.id });
    if (!inserted)
      throw conflict(
        `node "${input.name}" is registered and holds a credential; a join token cannot take its name. ` +
          `Its agent updates it with its own credential (Authorization: Bearer <node token>); to give the name to ` +
          `another machine, an admin resets it first: berth node reset ${input.name} (POST /v1/nodes/${input.name}/reset)`,
      );
    await recordEvents(
      tx,
      [
        {
          namespace: '',
          objectKind: 'node',
          objectName: input.name,
          type: 'Normal',
          reason: 'Registered',
          message: reclaimed
            ? `agent ${input.agentVersion} took the reset node's name with a join token, from ${reported.address}`
            : `agent ${input.agentVersion} registered from ${reported.address}`,
        },
      ],
      o.now,
    );
    return inserted.id;
  });
  return { nodeId, nodeToken };
}

/**
 * The labels an agent sends, against a token's: exactly the same set (berth.dev/node and the
 * host name are the server's). The platform labels an agent detects are compared only when the
 * token names them: a token made before agents reported them still registers a new agent.
 */
function sameLabels(bound: Record<string, string>, sent: Record<string, string>): boolean {
  const platform: readonly string[] = PLATFORM_LABELS;
  const strip = (l: Record<string, string>) =>
    Object.entries(l)
      .filter(
        ([k]) =>
          k !== 'berth.dev/node' &&
          k !== HOSTNAME_LABEL &&
          !(platform.includes(k) && !Object.hasOwn(bound, k)),
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(strip(bound)) === JSON.stringify(strip(sent));
}

function formatLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? pairs.join(',') : '(none)';
}

/**
 * An admin's explicit "this name may be taken again": the node's credential stops working at
 * once and the next registration with a valid join token takes the name, keeping the node's
 * identity (its replicas, which a reinstalled machine's agent adopts). Nothing else changes:
 * the node goes NotReady on its own when its agent falls silent.
 */
export async function resetNode(db: Database, name: string, now: Date): Promise<{ nodeId: string }> {
  const [row] = await db
    .update(nodes)
    // The version moves so that a long-poll held with the old credential wakes and is refused.
    .set({ tokenHash: null, assignmentVersion: sql`${nodes.assignmentVersion} + 1` })
    .where(eq(nodes.name, name))
    .returning({ id: nodes.id });
  if (!row) throw notFound(`node "${name}"`);
  await recordEvents(
    db,
    [
      {
        namespace: '',
        objectKind: 'node',
        objectName: name,
        type: 'Warning',
        reason: 'CredentialReset',
        message:
          'an admin revoked the node credential; the next registration with a valid join token takes the name',
      },
    ],
    now,
  );
  return { nodeId: row.id };
}
