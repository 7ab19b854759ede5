import { objectRef, parseDuration, resourceKind } from '../args.ts';
import type { Command } from '../command.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';
import { judgeJob, parseWaitFor, type WaitCondition } from '../job-wait.ts';
import { failedPodLines, lookAtJob } from '../job-watch.ts';
import type { Job, JobCondition } from '../resources.ts';

/** `job/a job/b`, `jobs/a`, `job.batch/a`, or `job a b`: the names of the Jobs to wait for. */
export function jobNames(args: string[]): string[] {
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError('expected job/NAME');
  if (!first.includes('/')) {
    if (resourceKind(first) !== 'job')
      throw new UsageError(
        `berth wait waits for jobs (job/NAME), got ${first}; for a deployment use berth rollout status`,
      );
    if (rest.length === 0) throw new UsageError('missing the job name');
    for (const name of rest) if (name.includes('/')) throw new UsageError(`unexpected argument "${name}"`);
    return rest;
  }
  return args.map((a) => objectRef([a], ['job']).name);
}

function endedMessage(name: string, ended: JobCondition, wanted: WaitCondition): string {
  if (ended.type !== 'Failed') return `job/${name} completed, so condition ${wanted.type} will not be met`;
  const why = [ended.reason, ended.message].filter(Boolean).join(': ');
  return `job/${name} failed${why ? `: ${why}` : ''}`;
}

export const wait: Command = {
  name: 'wait',
  summary: 'Wait until jobs reach a condition (complete, failed, suspended)',
  usage:
    'berth wait --for=condition=complete|failed|suspended[=true|false] job/NAME [job/NAME ...] [--timeout 30s]',
  help: [
    'Polls each job about once a second until the condition has the status (True unless given):',
    'then prints "job.batch/NAME condition met" and exits 0. Waiting for complete (or suspended) ends',
    'at once with exit 1 when the job fails, printing its reason and message and the last lines of',
    'its failed pods; waiting for failed ends so when it completes. At --timeout (default 30s, 0:',
    'look once) it exits 1: "timed out waiting for the condition on jobs/NAME".',
  ].join('\n'),
  flags: ['for', 'timeout'],
  async run(ctx) {
    const wanted = parseWaitFor(ctx.flags.for);
    const names = [...new Set(jobNames(ctx.args))];
    const timeoutMs = parseDuration(ctx.flags.timeout ?? '30s', 'timeout');
    const intervalMs = Number(ctx.io.env.BERTH_POLL_INTERVAL_MS) || 1000;
    const client = await ctx.client();
    const ns = await ctx.namespace();
    const now = () => ctx.io.now().getTime();
    const started = now();
    let pending = names;
    const seen = new Map<string, Job>();
    for (;;) {
      const jobs = await Promise.all(pending.map((name) => lookAtJob(client, ns, name, seen.get(name))));
      for (const [i, name] of pending.entries()) seen.set(name, jobs[i]!);
      const still: string[] = [];
      for (const [i, name] of pending.entries()) {
        const look = judgeJob(jobs[i]!, wanted);
        if (look.state === 'met') ctx.out(`job.batch/${name} condition met`);
        else if (look.state === 'waiting') still.push(name);
        else {
          const lines = look.condition.type === 'Failed' ? await failedPodLines(client, ns, name) : [];
          const details = lines.length ? ['last log lines of its failed pods:', ...lines] : [];
          throw new CliError(endedMessage(name, look.condition, wanted), EXIT.FAILURE, details);
        }
      }
      pending = still;
      if (pending.length === 0) return EXIT.OK;
      const left = timeoutMs - (now() - started);
      if (left <= 0) {
        for (const name of pending) ctx.err(`error: timed out waiting for the condition on jobs/${name}`);
        return EXIT.FAILURE;
      }
      await ctx.io.sleep(Math.min(intervalMs, left));
    }
  },
};
