import { objectRef, resourceKind } from '../args.ts';
import type { Command } from '../command.ts';
import { setCronJobSuspend } from '../cron-job-suspend.ts';
import { EXIT, UsageError } from '../exit-codes.ts';

/** `cronjob/a cronjob/b`, `cj/a`, `cronjob.batch/a`, or `cronjob a b`: the CronJobs named. */
export function cronJobNames(args: string[]): string[] {
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError('expected cronjob/NAME');
  if (!first.includes('/')) {
    if (resourceKind(first) !== 'cronjob') throw new UsageError(`expected cronjob/NAME, got ${first}`);
    if (rest.length === 0) throw new UsageError('missing the cronjob name');
    for (const name of rest) if (name.includes('/')) throw new UsageError(`unexpected argument "${name}"`);
    return rest;
  }
  return args.map((a) => objectRef([a], ['cronjob']).name);
}

/** Stop (or start again) making Jobs on a CronJob's schedule; the Jobs already running go on. */
function suspendCommand(verb: 'suspend' | 'resume'): Command {
  const suspend = verb === 'suspend';
  return {
    name: verb,
    summary: suspend
      ? 'Stop a cronjob from making Jobs on its schedule (its running Jobs go on)'
      : 'Let a suspended cronjob make Jobs on its schedule again',
    usage: `berth ${verb} cronjob/NAME [cronjob/NAME ...]`,
    flags: [],
    async run(ctx) {
      const names = cronJobNames(ctx.args);
      const client = await ctx.client();
      const ns = await ctx.namespace();
      for (const name of names) {
        const result = await setCronJobSuspend(client, ns, name, suspend);
        ctx.out(
          result === 'changed'
            ? `cronjob.batch/${name} ${suspend ? 'suspended' : 'resumed'}`
            : `cronjob.batch/${name} ${suspend ? 'is already suspended' : 'is not suspended'}`,
        );
      }
      return EXIT.OK;
    },
  };
}

export const suspend = suspendCommand('suspend');
export const resume = suspendCommand('resume');
