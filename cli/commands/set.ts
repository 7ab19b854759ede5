import { parseImageOverrides } from '../apply-manifests.ts';
import { objectRef } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { setImages } from '../set-image.ts';

export const set: Command = {
  name: 'set',
  summary: 'Change the image of containers of a deployment (starts a rollout)',
  usage: 'berth set image deployment/NAME CONTAINER=IMAGE [CONTAINER=IMAGE ...]',
  flags: [],
  async run(ctx) {
    const what = ctx.arg(0, 'what to set (image)');
    if (what !== 'image') throw new UsageError(`cannot set "${what}" (only image)`);
    const { name, rest } = objectRef(ctx.args.slice(1), ['deployment']);
    if (rest.length === 0) throw new UsageError('missing CONTAINER=IMAGE');
    const overrides = rest.flatMap((r) => parseImageOverrides(r));
    const client = await ctx.client();
    const { changed } = await setImages(client, await ctx.namespace(), name, overrides, ctx.io.sleep);
    ctx.out(`deployment/${name} ${changed ? 'image updated' : 'unchanged'}`);
    return EXIT.OK;
  },
};
