import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { parseTaintArgs } from '../node-taints.ts';

const ACTIONS = ['cordon', 'uncordon', 'drain', 'delete', 'reset', 'taint'] as const;
const DONE: Record<(typeof ACTIONS)[number], string> = {
  cordon: 'cordoned',
  uncordon: 'uncordoned',
  drain: 'drained',
  delete: 'deleted',
  reset: 'reset: its credential no longer works',
  taint: 'tainted',
};

export const node: Command = {
  name: 'node',
  summary: 'Cordon, uncordon, drain, taint, forget a node, or reset its credential (admin)',
  usage:
    'berth node cordon|uncordon|drain|delete|reset NAME\n       berth node taint NAME key=value:Effect|key:Effect-|key- ...',
  help: 'taint: Effect is NoSchedule or PreferNoSchedule; a trailing - removes the taint (key- removes every taint of the key). Replicas already on the node stay.',
  flags: [],
  async run(ctx) {
    const action = ctx.arg(0, `a node action (${ACTIONS.join(', ')})`) as (typeof ACTIONS)[number];
    if (!ACTIONS.includes(action))
      throw new UsageError(`unknown node action "${action}" (${ACTIONS.join(', ')})`);
    const name = ctx.arg(1, 'the node name').replace(/^nodes?\//, '');
    if (action === 'taint') {
      const change = parseTaintArgs(ctx.args.slice(2));
      const node = await (await ctx.client()).changeNodeTaints(name, change);
      const now = node.taints ?? [];
      ctx.out(`node/${name} ${DONE.taint}${now.length ? '' : ' (no taints left)'}`);
      return EXIT.OK;
    }
    ctx.noMoreArgs(2);
    const client = await ctx.client();
    if (action === 'delete') await client.deleteNode(name);
    else await client.nodeAction(name, action);
    if (action === 'reset')
      ctx.err(
        `the next registration with a join token takes the name: berth join-token create --name ${name}, then install the agent with it`,
      );
    ctx.out(`node/${name} ${DONE[action]}`);
    return EXIT.OK;
  },
};
