import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { Labels, Name } from '../../common/names.ts';
import type { Database } from '../../db/database.ts';
import { joinTokens, nodes, tokens } from '../../db/schema/index.ts';
import { type Principal, TOKEN_PREFIX } from '../auth/principal.ts';
import { randomToken, sha256Hex, timingSafeEqualHex } from '../crypto.ts';
import { notFound } from '../errors.ts';

export const TokenCreate = z
  .strictObject({
    name: z.string().min(1).max(128),
    role: z.enum(['admin', 'deployer', 'viewer']),
    namespaces: z
      .array(z.union([Name, z.literal('*')]))
      .max(256)
      .default([]),
    expiresInSeconds: z
      .int()
      .min(60)
      .max(10 * 365 * 86400)
      .optional(),
    /**
     * A deployer may also `kubectl exec` into its namespaces' pods: a shell there reaches all the
     * pod holds (its secrets, its network), so it is asked for by name. Admins always may; viewers never.
     */
    exec: z.boolean().optional(),
  })
  .check((ctx) => {
    if (ctx.value.exec && ctx.value.role === 'viewer')
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: ['exec'],
        message: 'a viewer never execs: give a deployer token',
      });
  });
export type TokenCreate = z.infer<typeof TokenCreate>;

/**
 * Join tokens are single-use and short-lived unless asked otherwise: one leaked from a shell
 * history or a VM's user data is worth little. `nodeName` and `labels` bind it further: it then
 * registers only that name, and only with exactly those labels.
 */
export const JoinTokenCreate = z.strictObject({
  ttlSeconds: z
    .int()
    .min(60)
    .max(365 * 86400)
    .default(3600),
  maxUses: z.int().min(1).max(1_000_000).default(1),
  nodeName: Name.optional(),
  labels: Labels.optional(),
});
export type JoinTokenCreate = z.infer<typeof JoinTokenCreate>;

function newId(prefix: string): string {
  return `${prefix}${randomToken(9)}`;
}

export async function createToken(db: Database, input: TokenCreate, now: Date) {
  const id = newId('tok_');
  const secret = `${TOKEN_PREFIX.user}${randomToken(24)}`;
  const namespaces = input.role === 'admin' ? ['*'] : input.namespaces;
  const expiresAt = input.expiresInSeconds ? new Date(now.getTime() + input.expiresInSeconds * 1000) : null;
  const exec = input.role === 'deployer' && input.exec === true;
  await db.insert(tokens).values({
    id,
    name: input.name,
    role: input.role,
    namespaces,
    exec,
    secretHash: await sha256Hex(secret),
    createdAt: now,
    expiresAt,
  });
  return {
    id,
    token: secret,
    name: input.name,
    role: input.role,
    namespaces,
    ...(exec ? { exec: true as const } : {}),
    expiresAt: expiresAt?.toISOString() ?? null,
  };
}

export async function listTokens(db: Database) {
  const rows = await db.select().from(tokens).orderBy(desc(tokens.createdAt));
  return rows.map((t) => ({
    id: t.id,
    name: t.name,
    role: t.role,
    namespaces: t.namespaces,
    ...(t.exec ? { exec: true as const } : {}),
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    ...(t.exchange ? { exchange: t.exchange } : {}),
  }));
}

export async function revokeToken(db: Database, id: string): Promise<void> {
  const deleted = await db.delete(tokens).where(eq(tokens.id, id)).returning({ id: tokens.id });
  if (deleted.length === 0) throw notFound(`token "${id}"`);
}

export async function createJoinToken(db: Database, input: JoinTokenCreate, now: Date) {
  const id = newId('jt_');
  const secret = `${TOKEN_PREFIX.join}${randomToken(24)}`;
  const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
  const nodeName = input.nodeName ?? null;
  const labels = input.labels ?? null;
  await db.insert(joinTokens).values({
    id,
    secretHash: await sha256Hex(secret),
    expiresAt,
    maxUses: input.maxUses,
    nodeName,
    labels,
    createdAt: now,
  });
  return { id, token: secret, expiresAt: expiresAt.toISOString(), maxUses: input.maxUses, nodeName, labels };
}

export async function listJoinTokens(db: Database) {
  const rows = await db.select().from(joinTokens).orderBy(desc(joinTokens.createdAt));
  return rows.map((t) => ({
    id: t.id,
    expiresAt: t.expiresAt.toISOString(),
    maxUses: t.maxUses,
    uses: t.uses,
    nodeName: t.nodeName,
    labels: t.labels,
    createdAt: t.createdAt.toISOString(),
  }));
}

export async function revokeJoinToken(db: Database, id: string): Promise<void> {
  const deleted = await db.delete(joinTokens).where(eq(joinTokens.id, id)).returning({ id: joinTokens.id });
  if (deleted.length === 0) throw notFound(`join token "${id}"`);
}

/**
 * Who holds this bearer token, or null. Reads only: a node's call is also its heartbeat, but
 * that write happens after the response (see recordHeartbeat), so an unchanged poll costs one
 * indexed read and never waits on a lock.
 */
export async function authenticateToken(
  db: Database,
  adminTokenHash: string | null,
  token: string,
  now: Date,
): Promise<Principal | null> {
  if (token.length < 8 || token.length > 512) return null;
  const hash = await sha256Hex(token);
  if (adminTokenHash && timingSafeEqualHex(hash, adminTokenHash)) {
    return { kind: 'user', id: 'bootstrap', name: 'bootstrap admin', role: 'admin', namespaces: ['*'] };
  }
  if (token.startsWith(TOKEN_PREFIX.node)) {
    const [node] = await db
      .select({
        id: nodes.id,
        name: nodes.name,
        assignmentVersion: nodes.assignmentVersion,
        lastHeartbeat: nodes.lastHeartbeat,
      })
      .from(nodes)
      .where(eq(nodes.tokenHash, hash));
    return node
      ? {
          kind: 'node',
          nodeId: node.id,
          nodeName: node.name,
          assignmentVersion: node.assignmentVersion,
          lastHeartbeat: node.lastHeartbeat,
          credentialHash: hash,
        }
      : null;
  }
  if (token.startsWith(TOKEN_PREFIX.user)) {
    const [row] = await db.select().from(tokens).where(eq(tokens.secretHash, hash));
    // The index lookup found the row by hash; compare again in constant time anyway.
    if (!row || !timingSafeEqualHex(row.secretHash, hash)) return null;
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return null;
    return {
      kind: 'user',
      id: row.id,
      name: row.name,
      role: row.role,
      namespaces: row.namespaces,
      ...(row.exec ? { exec: true } : {}),
    };
  }
  return null;
}
