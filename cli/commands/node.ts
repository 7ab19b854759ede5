import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';

const ACTIONS = ['cordon', 'uncordon', 'drain', 'delete'] as const;
const DONE: Record<(typeof ACTIONS)[number], string> = {
  cordon: 'cordoned',
  uncordon: 'uncordoned',
  drain: 'drained',
  delete: 'deleted',
};

export const node: Command = {
  name: 'node',
  summary: 'Cordon, uncordon, drain or forget a node (admin)',
  usage: 'berth node cordon|uncordon|drain|delete NAME',
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
    ctx.out(`node/${name} ${DONE[action]}`);
    return EXIT.OK;
  },
};
