import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';

const ACTIONS = ['cordon', 'uncordon', 'drain', 'delete', 'reset'] as const;
const DONE: Record<(typeof ACTIONS)[number], string> = {
  cordon: 'cordoned',
  uncordon: 'uncordoned',
  drain: 'drained',
  delete: 'deleted',
  reset: 'reset: its credential no longer works',
};

export const node: Command = {
  name: 'node',
  summary: 'Cordon, uncordon, drain, forget a node, or reset its credential (admin)',
  usage: 'berth node cordon|uncordon|drain|delete|reset NAME',
  flags: [],
  async run(ctx) {
    const action = ctx.arg(0, `a node action (${ACTIONS.join(', ')})`) as (typeof ACTIONS)[number];
    if (!ACTIONS.includes(action))
      throw new UsageError(`unknown node action "${action}" (${ACTIONS.join(', ')})`);
    const name = ctx.arg(1, 'the node name').replace(/^nodes?\//, '');
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
