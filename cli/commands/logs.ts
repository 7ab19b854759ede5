import { objectRef, parseCount } from '../args.ts';
import type { BerthClient } from '../client.ts';
import type { Command, CommandContext } from '../command.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';
import { hasLogs, jobPodLogLines, sortJobPods } from '../job-pods.ts';
import { logLines } from '../log-lines.ts';

export const logs: Command = {
  name: 'logs',
  summary: 'Print recent log lines of a replica, or of every replica of a deployment or pod of a job',
  usage: 'berth logs deployment/NAME|job/NAME|REPLICA [--tail N] [-f] [-c CONTAINER]',
  flags: ['tail', 'follow', 'container'],
  async run(ctx) {
    const { kind, name, rest } = objectRef(ctx.args, ['deployment', 'job', 'replica'], 'replica');
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const tail = ctx.flags.tail === undefined ? 100 : parseCount(ctx.flags.tail, 'tail', 1);
    const client = await ctx.client();
    const ns = await ctx.namespace();
    if (ctx.flags.follow) return follow(ctx, client, ns, kind, name, tail);
    if (ctx.flags.container !== undefined)
      throw new UsageError("-c (one container) goes with -f; without it every container's lines are shown");
    if (kind === 'replica') {
      for (const line of logLines(await client.replicaLogs(ns, name, tail))) ctx.out(line);
      return EXIT.OK;
    }
    if (kind === 'job') {
      // Every pod's lines (kubectl shows one pod's), so a retried or parallel run is all there.
      await client.getObject(ns, 'jobs', name);
      const pods = sortJobPods((await client.listJobPods(ns, name)).filter(hasLogs));
      if (pods.length === 0) throw new CliError(`job/${name} has no pods with logs`, EXIT.NOT_FOUND);
      for (const line of await jobPodLogLines(client, ns, pods, tail)) ctx.out(line);
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

/**
 * `-f`: a replica's lines as they are written, or those of every replica of a deployment or pod
 * of a job that has run (each prefixed with its id), until they end or the user stops it.
 */
async function follow(
  ctx: CommandContext,
  client: BerthClient,
  ns: string,
  kind: string,
  name: string,
  tail: number,
): Promise<number> {
  const ids =
    kind === 'replica'
      ? [name]
      : (kind === 'job' ? await client.listJobPods(ns, name) : await client.listReplicas(ns, name))
          .filter((r) => r.id && r.node && r.phase !== 'Pending' && r.phase !== 'Scheduled')
          .map((r) => r.id!);
  if (ids.length === 0) throw new CliError(`${kind}/${name} has no replicas with logs`, EXIT.NOT_FOUND);
  const stop = new AbortController();
  const interrupted = () => stop.abort();
  process.once('SIGINT', interrupted);
  try {
    await Promise.all(
      ids.map(async (id) => {
        const lines = client.followReplicaLogs(ns, id, {
          tail,
          ...(ctx.flags.container ? { container: ctx.flags.container } : {}),
          signal: stop.signal,
        });
        for await (const line of lines) ctx.out(ids.length > 1 ? `[${id}] ${line}` : line);
      }),
    );
  } finally {
    process.off('SIGINT', interrupted);
  }
  return EXIT.OK;
}
