import { objectRef, parseCount } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';

export const scale: Command = {
  name: 'scale',
  summary: 'Set the number of replicas of a deployment',
  usage: 'berth scale deployment NAME --replicas N',
  flags: ['replicas'],
  async run(ctx) {
    const { name, rest } = objectRef(ctx.args, ['deployment']);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (ctx.flags.replicas === undefined) throw new UsageError('missing --replicas N');
    const replicas = parseCount(ctx.flags.replicas, 'replicas');
    const client = await ctx.client();
    await client.scaleDeployment(await ctx.namespace(), name, replicas);
    ctx.out(`deployment/${name} scaled`);
    return EXIT.OK;
  },
};
