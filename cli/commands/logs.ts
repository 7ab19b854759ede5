import { objectRef, parseCount } from '../args.ts';
import type { Command } from '../command.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';

/** The log answer as lines, whichever of the plausible shapes the server sent. */
export function logLines(body: unknown): string[] {
  if (typeof body === 'string') return body.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  if (Array.isArray(body)) return body.map(String);
  if (body && typeof body === 'object') {
    const b = body as { lines?: unknown; logs?: unknown; containers?: unknown };
    if (Array.isArray(b.lines)) return b.lines.map(String);
    if (typeof b.logs === 'string') return logLines(b.logs);
    if (Array.isArray(b.containers)) {
      const containers = b.containers as { name?: string; lines?: unknown }[];
      return containers.flatMap((c) =>
        logLines(c.lines ?? []).map((l) => (containers.length > 1 ? `[${c.name ?? '?'}] ${l}` : l)),
      );
    }
  }
  return [];
}

export const logs: Command = {
  name: 'logs',
  summary: 'Print recent log lines of a replica, or of every replica of a deployment',
  usage: 'berth logs deployment/NAME|REPLICA [--tail N]',
  flags: ['tail'],
  async run(ctx) {
    const { kind, name, rest } = objectRef(ctx.args, ['deployment', 'replica'], 'replica');
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const tail = ctx.flags.tail === undefined ? 100 : parseCount(ctx.flags.tail, 'tail', 1);
    const client = await ctx.client();
    const ns = await ctx.namespace();
    if (kind === 'replica') {
      for (const line of logLines(await client.replicaLogs(ns, name, tail))) ctx.out(line);
      return EXIT.OK;
    }
    const replicas = (await client.listReplicas(ns, name)).filter(
      (r) => r.id && r.node && r.phase !== 'Pending' && r.phase !== 'Scheduled',
    );
    if (replicas.length === 0)
      throw new CliError(`deployment/${name} has no replicas with logs`, EXIT.NOT_FOUND);
    for (const r of replicas) {
      const lines = logLines(await client.replicaLogs(ns, r.id!, tail));
      for (const line of lines) ctx.out(replicas.length > 1 ? `[${r.id}] ${line}` : line);
    }
    return EXIT.OK;
  },
};
