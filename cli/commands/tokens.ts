import { parseCount, parseDuration, parseLabelPairs } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { formatAge } from '../format.ts';
import { outputFormat, printData } from '../output.ts';
import { renderTable } from '../table.ts';

const ROLES = ['admin', 'deployer', 'viewer'];

export const token: Command = {
  name: 'token',
  summary: 'Create, list or revoke API tokens (admin)',
  usage: [
    'berth token create NAME --role admin|deployer|viewer [--namespaces a,b|*] [--expires 30d] [--allow-exec] [-o json]',
    'berth token list [-o table|json|yaml]',
    'berth token revoke ID',
  ].join('\n       '),
  flags: ['role', 'namespaces', 'expires', 'allow-exec', 'output', 'name'],
  async run(ctx) {
    const sub = ctx.arg(0, 'a token action (create, list, revoke)');
    const client = await ctx.client();
    switch (sub) {
      case 'create': {
        const format = outputFormat(ctx.flags, ['table', 'json', 'yaml']);
        const name = ctx.flags.name ?? ctx.arg(1, 'the token name');
        const role = ctx.flags.role;
        if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        const namespaces = (ctx.flags.namespaces ?? (role === 'admin' ? '*' : 'default'))
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const expires = ctx.flags.expires
          ? Math.round(parseDuration(ctx.flags.expires, 'expires') / 1000)
          : undefined;
        const created = await client.createToken({
          name,
          role,
          namespaces,
          expiresInSeconds: expires,
          ...(ctx.flags['allow-exec'] ? { exec: true } : {}),
        });
        if (format !== 'table') printData(ctx, format, created);
        else {
          // The secret goes alone on stdout so `TOKEN=$(berth token create ...)` works.
          ctx.out(created.token);
          ctx.err(
            `token ${created.id} created (role ${role}, namespaces ${namespaces.join(',')}); it is shown only once`,
          );
        }
        return EXIT.OK;
      }
      case 'list': {
        const format = outputFormat(ctx.flags, ['table', 'json', 'yaml']);
        const tokens = await client.listTokens();
        if (format !== 'table') {
          printData(ctx, format, { items: tokens });
          return EXIT.OK;
        }
        if (tokens.length === 0) {
          ctx.err('No tokens (the bootstrap admin token from BERTH_ADMIN_TOKEN is not listed).');
          return EXIT.OK;
        }
        const now = ctx.io.now();
        const s = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
        ctx.io.stdout.write(
          renderTable(
            ['id', 'name', 'role', 'namespaces', 'expires', 'age', 'exchanged-for'],
            tokens.map((t) => [
              s(t.id),
              s(t.name),
              s(t.role),
              Array.isArray(t.namespaces) ? t.namespaces.join(',') : s(t.namespaces),
              s(t.expiresAt) ?? 'never',
              formatAge(s(t.createdAt), now),
              exchangedFor(t.exchange),
            ]),
          ),
        );
        return EXIT.OK;
      }
      case 'revoke': {
        const id = ctx.arg(1, 'the token id');
        ctx.noMoreArgs(2);
        await client.revokeToken(id);
        ctx.out(`token ${id} revoked`);
        return EXIT.OK;
      }
      default:
        throw new UsageError(`unknown token action "${sub}" (create, list, revoke)`);
    }
  },
};

/** A token POST /v1/tokens/exchange issued: the job it was issued to (repository, ref, environment). */
function exchangedFor(exchange: unknown): string | undefined {
  if (typeof exchange !== 'object' || exchange === null) return undefined;
  const claims = (exchange as { claims?: Record<string, unknown> }).claims ?? {};
  const said = ['repository', 'ref', 'environment']
    .map((c) => claims[c])
    .filter((v) => typeof v === 'string');
  return said.length ? said.join(' ') : 'oidc';
}

export const joinToken: Command = {
  name: 'join-token',
  summary: 'Create a join token for registering agents (admin): one use and one hour unless told',
  usage: 'berth join-token create [--ttl 1h] [--max-uses 1] [--name NODE] [--labels k=v,...] [-o json]',
  flags: ['ttl', 'max-uses', 'name', 'labels', 'output'],
  async run(ctx) {
    const sub = ctx.arg(0, 'a join-token action (create)');
    if (sub !== 'create') throw new UsageError(`unknown join-token action "${sub}" (create)`);
    ctx.noMoreArgs(1);
    const format = outputFormat(ctx.flags, ['table', 'json', 'yaml']);
    const ttlSeconds = ctx.flags.ttl ? Math.round(parseDuration(ctx.flags.ttl, 'ttl') / 1000) : undefined;
    const maxUses = ctx.flags['max-uses'] ? parseCount(ctx.flags['max-uses'], 'max-uses', 1) : undefined;
    // Bound: the token registers only this node name, and only with exactly these labels.
    const nodeName = ctx.flags.name;
    const labels = ctx.flags.labels !== undefined ? parseLabelPairs(ctx.flags.labels, 'labels') : undefined;
    const client = await ctx.client();
    const created = await client.createJoinToken({
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
      ...(maxUses !== undefined ? { maxUses } : {}),
      ...(nodeName !== undefined ? { nodeName } : {}),
      ...(labels !== undefined ? { labels } : {}),
    });
    if (format !== 'table') printData(ctx, format, created);
    else {
      ctx.out(created.token);
      const uses =
        created.maxUses === 1 ? 'one use' : created.maxUses ? `${created.maxUses} uses` : undefined;
      const details = [
        uses,
        created.expiresAt ? `expires ${created.expiresAt}` : undefined,
        created.nodeName ? `node ${created.nodeName} only` : undefined,
      ].filter(Boolean);
      ctx.err(`join token ${created.id} created${details.length ? ` (${details.join(', ')})` : ''}`);
    }
    return EXIT.OK;
  },
};
