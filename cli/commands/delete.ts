import { objectRef, type ResourceKind } from '../args.ts';
import { ApiError, type BerthClient, type NamespacedResource } from '../client.ts';
import type { Command, CommandContext } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { readManifests } from '../manifest-files.ts';

const RESOURCES: Partial<Record<ResourceKind, NamespacedResource>> = {
  deployment: 'deployments',
  service: 'services',
  secret: 'secrets',
  configmap: 'configmaps',
  persistentvolumeclaim: 'persistentvolumeclaims',
  serviceaccount: 'serviceaccounts',
  ingress: 'ingresses',
  job: 'jobs',
  cronjob: 'cronjobs',
};

interface Target {
  kind: ResourceKind;
  namespace?: string;
  name: string;
}

/** Kind, namespace and name of each manifest document, without validating the rest. */
function targetsOf(doc: unknown, out: Target[]): void {
  if (typeof doc !== 'object' || doc === null) return;
  const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; items?: unknown };
  if (d.kind === 'List' && Array.isArray(d.items)) {
    for (const item of d.items) targetsOf(item, out);
    return;
  }
  const kind = typeof d.kind === 'string' ? (d.kind.toLowerCase() as ResourceKind) : undefined;
  const name = d.metadata?.name;
  if (!kind || !(RESOURCES[kind] || kind === 'trustrule') || typeof name !== 'string') {
    throw new UsageError(`cannot delete a ${String(d.kind)} without a name`);
  }
  const namespace = typeof d.metadata?.namespace === 'string' ? d.metadata.namespace : undefined;
  out.push({ kind, name, namespace });
}

async function deleteOne(
  ctx: CommandContext,
  client: BerthClient,
  target: Target,
  ns: string,
): Promise<boolean> {
  try {
    // A trust rule is cluster-scoped: no namespace.
    if (target.kind === 'trustrule') await client.deleteTrustRule(target.name);
    else await client.deleteObject(target.namespace ?? ns, RESOURCES[target.kind]!, target.name);
    ctx.out(`${target.kind}/${target.name} deleted`);
    return true;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    if (!ctx.flags['ignore-not-found']) ctx.err(`error: ${target.kind}/${target.name} not found`);
    return Boolean(ctx.flags['ignore-not-found']);
  }
}

export const deleteCommand: Command = {
  name: 'delete',
  summary:
    'Delete deployments, jobs, cronjobs (with their jobs), services, secrets, configmaps, persistentvolumeclaims, serviceaccounts, ingresses or trust rules, by name or from manifests',
  usage:
    'berth delete -f FILE|DIR|- | berth delete deployment|job|cronjob|service|secret|configmap|pvc|serviceaccount|ingress|trustrule NAME [NAME ...] [--ignore-not-found]',
  flags: ['filename', 'ignore-not-found'],
  async run(ctx) {
    const targets: Target[] = [];
    if (ctx.flags.filename?.length) {
      ctx.noMoreArgs(0);
      for (const file of await readManifests(ctx.flags.filename, ctx.io))
        for (const doc of file.docs) targetsOf(doc, targets);
    } else {
      const { kind, name, rest } = objectRef(ctx.args, [
        'deployment',
        'service',
        'secret',
        'configmap',
        'persistentvolumeclaim',
        'serviceaccount',
        'ingress',
        'job',
        'cronjob',
        'trustrule',
      ]);
      for (const n of [name, ...rest]) targets.push({ kind, name: n.replace(/^[a-z]+\//, '') });
    }
    const client = await ctx.client();
    const ns = await ctx.namespace();
    let allFound = true;
    for (const target of targets) if (!(await deleteOne(ctx, client, target, ns))) allFound = false;
    return allFound ? EXIT.OK : EXIT.NOT_FOUND;
  },
};
