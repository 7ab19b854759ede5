import { z } from 'zod';
import { Timestamp } from './meta.ts';

/** Tokens, join tokens and the caller's identity (API.md "Tokens and roles"). */

export const Role = z.enum(['admin', 'deployer', 'viewer']);
export type Role = z.infer<typeof Role>;

/** What earned an exchanged token: the identity token's issuer, subject and the claims rules match on. */
export const TokenExchange = z
  .object({
    issuer: z.string(),
    subject: z.string(),
    claims: z.record(z.string(), z.string()),
    /** The trust rules it matched. */
    rules: z.array(z.string()),
  })
  .meta({ id: 'TokenExchange' });
export type TokenExchange = z.infer<typeof TokenExchange>;

/** An API token as listed: never its secret. */
export const Token = z
  .object({
    id: z.string(),
    name: z.string(),
    role: Role,
    /** `["*"]`: every namespace. */
    namespaces: z.array(z.string()),
    /** A deployer token that may also exec into its namespaces' pods; absent: it may not (admins always may). */
    exec: z.literal(true).optional(),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    /** Only for a token POST /v1/tokens/exchange issued: the identity token's claims that earned it. */
    exchange: TokenExchange.optional(),
  })
  .meta({ id: 'Token' });
export type Token = z.infer<typeof Token>;

export const TokenList = z.object({ items: z.array(Token) }).meta({ id: 'TokenList' });
export type TokenList = z.infer<typeof TokenList>;

/** The answer to `POST /v1/tokens`: the only time `token` (the secret) is shown. */
export const CreatedToken = Token.omit({ createdAt: true })
  .extend({ token: z.string() })
  .meta({ id: 'CreatedToken' });
export type CreatedToken = z.infer<typeof CreatedToken>;

/** A join token as listed: never its secret. */
export const JoinToken = z
  .object({
    id: z.string(),
    expiresAt: Timestamp,
    /** null: any number of registrations until it expires. */
    maxUses: z.int().nullable(),
    uses: z.int(),
    /** Bound to one node name: it registers only that name. */
    nodeName: z.string().nullable(),
    /** Bound to these labels: it registers only with exactly them. */
    labels: z.record(z.string(), z.string()).nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: 'JoinToken' });
export type JoinToken = z.infer<typeof JoinToken>;

export const JoinTokenList = z.object({ items: z.array(JoinToken) }).meta({ id: 'JoinTokenList' });
export type JoinTokenList = z.infer<typeof JoinTokenList>;

/** The answer to `POST /v1/join-tokens`: the only time `token` (the secret) is shown. */
export const CreatedJoinToken = JoinToken.omit({ uses: true, createdAt: true })
  .extend({ token: z.string() })
  .meta({ id: 'CreatedJoinToken' });
export type CreatedJoinToken = z.infer<typeof CreatedJoinToken>;

/** A person or pipeline: the token's name, role and namespaces (`["*"]`: every namespace). */
export const UserIdentity = z
  .object({ name: z.string(), role: Role, namespaces: z.array(z.string()) })
  .meta({ id: 'UserIdentity' });
export type UserIdentity = z.infer<typeof UserIdentity>;

/** An agent: the node its credential speaks for. */
export const NodeIdentity = z.object({ node: z.string() }).meta({ id: 'NodeIdentity' });
export type NodeIdentity = z.infer<typeof NodeIdentity>;

/** `GET /v1/whoami` */
export const Identity = z.union([UserIdentity, NodeIdentity]).meta({ id: 'Identity' });
export type Identity = z.infer<typeof Identity>;

/** A namespace's lifecycle: Terminating while the objects of a deleted one go, Deleted once it has gone. */
export const NamespacePhase = z.enum(['Active', 'Terminating', 'Deleted']);

/** `GET /v1/namespaces`: those the caller may see. */
export const NamespaceList = z
  .object({ items: z.array(z.object({ name: z.string(), phase: NamespacePhase })) })
  .meta({ id: 'NamespaceList' });
export type NamespaceList = z.infer<typeof NamespaceList>;

/** `DELETE /v1/namespaces/{ns}`: Terminating while its objects go, or Deleted when it was empty. */
export const NamespaceStatus = z
  .object({ name: z.string(), phase: NamespacePhase })
  .meta({ id: 'NamespaceStatus' });
export type NamespaceStatus = z.infer<typeof NamespaceStatus>;
