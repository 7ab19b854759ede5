import { objectRef, parseCount, parseDuration } from '../args.ts';
import type { BerthClient } from '../client.ts';
import type { Command, CommandContext } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { outputFormat, printData } from '../output.ts';
import { ProgressLine } from '../progress.ts';
import { type RolloutResult, type WatchOptions, watchRollout } from '../rollout-watch.ts';
import { renderView, revisionView } from './get.ts';

/** Watches one rollout with a progress line; prints the outcome; failures go to stderr. */
export async function followRollout(
  ctx: CommandContext,
  client: BerthClient,
  ns: string,
  name: string,
  options: Pick<WatchOptions, 'timeoutMs' | 'baseline'>,
): Promise<RolloutResult> {
  const progress = new ProgressLine(ctx.io);
  const result = await watchRollout(client, ns, name, {
    ...options,
    intervalMs: Number(ctx.io.env.BERTH_POLL_INTERVAL_MS) || 1000,
    sleep: ctx.io.sleep,
    now: () => ctx.io.now().getTime(),
    onProgress: (a) => progress.update(a.message),
  });
  progress.done();
  if (result.state === 'complete') ctx.out(result.message);
  else ctx.err(`error: deployment "${name}" rollout failed: ${result.message}`);
  return result;
}

const SUBCOMMANDS = ['status', 'history', 'undo', 'pause', 'resume'] as const;

export const rollout: Command = {
  name: 'rollout',
  summary: 'Follow, list, undo, pause or resume the rollouts of a deployment',
  usage: [
    'berth rollout status deployment/NAME [--timeout 5m]',
    'berth rollout history deployment/NAME [-o table|json|yaml]',
    'berth rollout undo deployment/NAME [--to-revision N]',
    'berth rollout pause|resume deployment/NAME',
  ].join('\n       '),
  flags: ['timeout', 'to-revision', 'output'],
  async run(ctx) {
    const sub = ctx.arg(0, `a rollout action (${SUBCOMMANDS.join(', ')})`);
    const { name, rest } = objectRef(ctx.args.slice(1), ['deployment']);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const client = await ctx.client();
    const ns = await ctx.namespace();
    switch (sub) {
      case 'status': {
        const timeoutMs = parseDuration(ctx.flags.timeout ?? '5m', 'timeout');
        const result = await followRollout(ctx, client, ns, name, { timeoutMs });
        return result.state === 'complete' ? EXIT.OK : EXIT.FAILURE;
      }
      case 'history': {
        const format = outputFormat(ctx.flags, ['table', 'json', 'yaml']);
        const revisions = await client.listRevisions(ns, name);
        if (format !== 'table') {
          printData(ctx, format, { items: revisions });
          return EXIT.OK;
        }
        const sorted = [...revisions].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
        ctx.out(`deployment/${name}`);
        ctx.io.stdout.write(renderView(revisionView, sorted, 'table', ctx.io.now()));
        return EXIT.OK;
      }
      case 'undo': {
        const to = ctx.flags['to-revision'];
        await client.rollbackDeployment(
          ns,
          name,
          to === undefined ? undefined : parseCount(to, 'to-revision', 1),
        );
        ctx.out(`deployment/${name} rolled back${to ? ` to revision ${to}` : ''}`);
        return EXIT.OK;
      }
      case 'pause':
      case 'resume':
        await client.pauseDeployment(ns, name, sub === 'pause');
        ctx.out(`deployment/${name} ${sub === 'pause' ? 'paused' : 'resumed'}`);
        return EXIT.OK;
      default:
        throw new UsageError(`unknown rollout action "${sub}" (${SUBCOMMANDS.join(', ')})`);
    }
  },
};
