import { objectRef } from '../args.ts';
import { ApiError } from '../client.ts';
import type { Command } from '../command.ts';
import { configMapContent } from '../config-map-sources.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';

/**
 * `berth create configmap NAME`, as `kubectl create configmap`: the ConfigMap must not exist yet
 * (`berth apply` replaces one that does).
 */
export const create: Command = {
  name: 'create',
  summary: 'Create a configmap from literals and files',
  usage: 'berth create configmap NAME [--from-literal KEY=VALUE ...] [--from-file [KEY=]PATH ...]',
  help: [
    '--from-literal KEY=VALUE   a key and its value (repeatable)',
    '--from-file [KEY=]PATH     a file under KEY (default: its name), or every file of a directory',
  ].join('\n'),
  flags: ['from-literal', 'from-file'],
  async run(ctx) {
    const { name, rest } = objectRef(ctx.args, ['configmap']);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const content = await configMapContent(
      ctx.flags['from-literal'] ?? [],
      ctx.flags['from-file'] ?? [],
      ctx.io.cwd,
    );
    const client = await ctx.client();
    const ns = await ctx.namespace();
    const exists = await client.getObject(ns, 'configmaps', name).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      },
    );
    if (exists)
      throw new CliError(`configmap "${name}" already exists in namespace ${ns}`, EXIT.FAILURE, [
        'hint: berth apply -f replaces it; berth delete configmap NAME removes it',
      ]);
    await client.putConfigMap(ns, name, {
      metadata: { name },
      data: content.data,
      ...(Object.keys(content.binaryData).length ? { binaryData: content.binaryData } : {}),
    });
    ctx.out(`configmap/${name} created`);
    return EXIT.OK;
  },
};
