import { boolean, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/** API tokens. Only a SHA-256 of the secret is kept; the secret is shown once at creation. */
export const tokens = pgTable('tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role', { enum: ['admin', 'deployer', 'viewer'] }).notNull(),
  namespaces: jsonb('namespaces').$type<string[]>().notNull(),
  /** A deployer token that may also `kubectl exec` into its namespaces' pods (admins always may). */
  exec: boolean('exec').notNull().default(false),
  secretHash: text('secret_hash').notNull().unique(),
  createdAt: at('created_at').notNull().defaultNow(),
  expiresAt: at('expires_at'),
  /** For a token POST /v1/tokens/exchange issued: the identity token's claims that earned it. */
  exchange: jsonb('exchange').$type<TokenExchangeRecord>(),
});

/** Who a token was exchanged for: the verified identity token's issuer, subject and claims, and the rules it matched. */
export interface TokenExchangeRecord {
  issuer: string;
  subject: string;
  claims: Record<string, string>;
  rules: string[];
}
