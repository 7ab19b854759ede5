import { ApiError, BerthClient, ConnectionError } from '../client.ts';
import type { Command } from '../command.ts';
import { readConfig, writeConfig } from '../config.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';
import { outputFormat, printData } from '../output.ts';
import { renderTable } from '../table.ts';

function contextNameFor(server: string): string {
  const url = new URL(server);
  return `${url.hostname}${url.port ? `-${url.port}` : ''}`.replace(/[^A-Za-z0-9.-]/g, '-');
}

export const login: Command = {
  name: 'login',
  summary: 'Save a server and token as a context and make it current',
  usage: 'berth login --server URL --token TOKEN [--name CONTEXT] [-n NAMESPACE] [--no-verify]',
  flags: ['name', 'no-verify'],
  async run(ctx) {
    ctx.noMoreArgs(0);
    const server = ctx.flags.server?.replace(/\/+$/, '');
    const token = ctx.flags.token;
    if (!server || !token) throw new UsageError('login needs --server URL and --token TOKEN');
    try {
      new URL(server);
    } catch {
      throw new UsageError(`the server must be a URL, got "${server}"`);
    }
    if (!ctx.flags['no-verify']) {
      // Any authenticated read proves the token; 403 (a namespaced token) proves it too.
      const client = new BerthClient({ server, token, sleep: ctx.io.sleep });
      try {
        await client.listDeployments(ctx.flags.namespace ?? 'default');
      } catch (err) {
        if (err instanceof ApiError && err.status === 401)
          throw new CliError('the server rejected the token', EXIT.DENIED);
        if (err instanceof ConnectionError || (err instanceof ApiError && err.status >= 500)) throw err;
      }
    }
    const name = ctx.flags.name ?? contextNameFor(server);
    const config = await readConfig(ctx.io.env);
    config.contexts[name] = {
      server,
      token,
      ...(ctx.flags.namespace ? { namespace: ctx.flags.namespace } : {}),
    };
    config.current = name;
    const path = await writeConfig(ctx.io.env, config);
    ctx.out(`logged in to ${server} as context "${name}" (saved in ${path})`);
    return EXIT.OK;
  },
};

export const context: Command = {
  name: 'context',
  summary: 'List saved contexts, switch between them, or remove one',
  usage: 'berth context list|current|use NAME|delete NAME',
  flags: ['output'],
  async run(ctx) {
    const sub = ctx.arg(0, 'a context action (list, current, use, delete)');
    const config = await readConfig(ctx.io.env);
    switch (sub) {
      case 'list': {
        const format = outputFormat(ctx.flags, ['table', 'json', 'yaml']);
        const rows = Object.entries(config.contexts).map(([name, c]) => ({
          current: name === config.current,
          name,
          server: c.server,
          namespace: c.namespace ?? 'default',
        }));
        if (format !== 'table') printData(ctx, format, { current: config.current, contexts: rows });
        else if (rows.length === 0) ctx.err('No contexts: use berth login --server URL --token TOKEN.');
        else {
          ctx.io.stdout.write(
            renderTable(
              ['current', 'name', 'server', 'namespace'],
              rows.map((r) => [r.current ? '*' : ' ', r.name, r.server, r.namespace]),
            ),
          );
        }
        return EXIT.OK;
      }
      case 'current':
        if (!config.current) throw new CliError('no current context', EXIT.NOT_FOUND);
        ctx.out(config.current);
        return EXIT.OK;
      case 'use':
      case 'delete': {
        const name = ctx.arg(1, 'the context name');
        ctx.noMoreArgs(2);
        if (!config.contexts[name]) throw new CliError(`no context named "${name}"`, EXIT.NOT_FOUND);
        if (sub === 'use') config.current = name;
        else {
          delete config.contexts[name];
          if (config.current === name) config.current = undefined;
        }
        await writeConfig(ctx.io.env, config);
        ctx.out(sub === 'use' ? `switched to context "${name}"` : `deleted context "${name}"`);
        return EXIT.OK;
      }
      default:
        throw new UsageError(`unknown context action "${sub}" (list, current, use, delete)`);
    }
  },
};
