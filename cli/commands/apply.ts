import { applyLine, applyManifests, deploymentsIn, warningLine } from '../apply-manifests.ts';
import { parseDuration } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { readManifests } from '../manifest-files.ts';
import { outputFormat, printData } from '../output.ts';
import { type EventBaseline, eventBaseline } from '../rollout-watch.ts';
import { followRollout } from './rollout.ts';

export const apply: Command = {
  name: 'apply',
  summary: 'Create or update objects from manifests (berth.dev/v1 or Kubernetes YAML)',
  usage: 'berth apply -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--wait [--timeout 5m]] [-o json|yaml]',
  flags: ['filename', 'output', 'wait', 'timeout'],
  async run(ctx) {
    const format = outputFormat(ctx.flags, ['table', 'json', 'yaml']);
    ctx.noMoreArgs(0);
    const files = await readManifests(ctx.flags.filename ?? [], ctx.io);
    const timeoutMs = parseDuration(ctx.flags.timeout ?? '5m', 'timeout');
    const client = await ctx.client();
    // Documents that name no namespace go to -n (or the context's); one naming another namespace
    // than an explicit -n is refused, as kubectl does.
    const namespace = await ctx.namespace();
    // Each Deployment's events before the write: a rollback that lands before the watch begins
    // (a busy runner) is still this apply's, never a success.
    const baselines = new Map<string, EventBaseline>();
    if (ctx.flags.wait)
      for (const d of deploymentsIn(files, namespace))
        baselines.set(`${d.namespace}/${d.name}`, await eventBaseline(client, d.namespace, d.name));
    const { items: results, warnings } = await applyManifests(client, files, {
      namespace: namespace === 'default' && !ctx.flags.namespace ? undefined : namespace,
      strictNamespace: ctx.flags.namespace !== undefined,
    });
    // On stderr whatever the output format, so -o json stays parseable.
    for (const w of warnings) ctx.err(`Warning: ${warningLine(w)}`);
    if (format === 'table') for (const r of results) ctx.out(applyLine(r));
    else printData(ctx, format, { items: results });
    if (!ctx.flags.wait) return EXIT.OK;

    let code: number = EXIT.OK;
    for (const r of results.filter((r) => r.kind === 'Deployment')) {
      const ns = r.namespace ?? (await ctx.namespace());
      const baseline = baselines.get(`${ns}/${r.name}`);
      const result = await followRollout(ctx, client, ns, r.name, {
        timeoutMs,
        ...(baseline ? { baseline } : {}),
      });
      if (result.state !== 'complete') code = EXIT.FAILURE;
    }
    return code;
  },
};
