import { ApiError, ConnectionError } from '../client.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { CLI_VERSION } from '../version.ts';

export const version: Command = {
  name: 'version',
  summary: 'Print the CLI version and whether the server answers',
  usage: 'berth version [--client]',
  flags: ['client', 'output'],
  async run(ctx) {
    ctx.noMoreArgs(0);
    ctx.out(`Client Version: ${CLI_VERSION}`);
    if (ctx.flags.client) return EXIT.OK;
    const client = await ctx.client();
    try {
      const health = await client.request<unknown>('GET', '/healthz');
      const v =
        health && typeof health === 'object' && 'version' in health
          ? String((health as { version: unknown }).version)
          : undefined;
      ctx.out(`Server: ${client.server}${v ? ` (version ${v})` : ''}`);
      return EXIT.OK;
    } catch (err) {
      if (err instanceof ConnectionError || err instanceof ApiError) {
        ctx.err(`error: ${err.message}`);
        return EXIT.UNAVAILABLE;
      }
      throw err;
    }
  },
};
