import { objectRef } from '../args.ts';
import { ApiError, type BerthClient, type NamespacedResource } from '../client.ts';
import type { Command, CommandContext } from '../command.ts';
import { configMapContent } from '../config-map-sources.ts';
import { jobFromCronJob } from '../cron-job-run.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';
import type { CronJob } from '../resources.ts';

/**
 * `berth create configmap NAME` and `berth create job NAME --from=cronjob/CRON`, as `kubectl
 * create`: the object must not exist yet (`berth apply` replaces one that does).
 */

async function exists(client: BerthClient, ns: string, resource: NamespacedResource, name: string) {
  return client.getObject(ns, resource, name).then(
    () => true,
    (err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    },
  );
}

async function createConfigMap(ctx: CommandContext, name: string): Promise<number> {
  if (ctx.flags.from !== undefined) throw new UsageError('create configmap does not take --from');
  const content = await configMapContent(
    ctx.flags['from-literal'] ?? [],
    ctx.flags['from-file'] ?? [],
    ctx.io.cwd,
  );
  const client = await ctx.client();
  const ns = await ctx.namespace();
  if (await exists(client, ns, 'configmaps', name))
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
}

/** A run of a CronJob's template now, by hand. */
async function createJob(ctx: CommandContext, name: string): Promise<number> {
  if (ctx.flags['from-literal'] || ctx.flags['from-file'])
    throw new UsageError(
      `create job does not take --${ctx.flags['from-literal'] ? 'from-literal' : 'from-file'}`,
    );
  if (ctx.flags.from === undefined)
    throw new UsageError(
      'create job needs --from=cronjob/NAME (berth apply -f creates a Job from a manifest)',
    );
  const cron = objectRef([ctx.flags.from], ['cronjob']).name;
  const client = await ctx.client();
  const ns = await ctx.namespace();
  const cronJob = await client.getObject<CronJob>(ns, 'cronjobs', cron);
  if (await exists(client, ns, 'jobs', name))
    throw new CliError(`job "${name}" already exists in namespace ${ns}`, EXIT.FAILURE, [
      'hint: choose another name; berth delete job NAME removes it',
    ]);
  await client.putObject(ns, 'jobs', name, jobFromCronJob(cronJob, cron));
  ctx.out(`job.batch/${name} created`);
  return EXIT.OK;
}

export const create: Command = {
  name: 'create',
  summary: 'Create a configmap from literals and files, or a job from a cronjob',
  usage: [
    'berth create configmap NAME [--from-literal KEY=VALUE ...] [--from-file [KEY=]PATH ...]',
    'berth create job NAME --from=cronjob/NAME',
  ].join('\n       '),
  help: [
    '--from-literal KEY=VALUE   a key and its value (repeatable)',
    '--from-file [KEY=]PATH     a file under KEY (default: its name), or every file of a directory',
    "--from cronjob/NAME        a Job from the cronjob's template, run now",
  ].join('\n'),
  flags: ['from-literal', 'from-file', 'from'],
  async run(ctx) {
    const { kind, name, rest } = objectRef(ctx.args, ['configmap', 'job']);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    return kind === 'job' ? createJob(ctx, name) : createConfigMap(ctx, name);
  },
};
