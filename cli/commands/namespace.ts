import { ApiError } from '../client.ts';
import type { Command, CommandContext } from '../command.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { outputFormat } from '../output.ts';
import { policyEditFromFlags, setPolicy } from '../policy-edit.ts';
import { printPolicy } from './get.ts';

const ACTIONS = ['set-policy', 'get-policy', 'delete-policy'] as const;
type Action = (typeof ACTIONS)[number];

const FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;

/** The namespace a policy action is about: the argument, or for reads the -n/context namespace. */
async function target(ctx: CommandContext, action: Action): Promise<string> {
  const given = ctx.args[1]?.replace(/^(namespaces?|ns)\//, '');
  ctx.noMoreArgs(2);
  if (given) return given;
  if (action === 'get-policy') return ctx.namespace();
  // A write names its namespace: a policy changes what every deployer there may do.
  throw new UsageError('missing the namespace');
}

export const namespace: Command = {
  name: 'namespace',
  summary: "Show, set or remove a namespace's policy (hosts, host ports, quotas, limits, capabilities)",
  usage: [
    'berth namespace set-policy NS [--allow-host-suffix DOMAIN ...] [--clear-host-suffixes]',
    '           [--allow-wildcard-hosts | --no-wildcard-hosts] [--host-ports MIN-MAX|none]',
    '           [--quota-replicas N|none] [--quota-cpu Q|none] [--quota-memory Q|none]',
    '           [--default-memory-limit Q|none] [--allow-capabilities CAP,...|none|default]',
    '           [--allow-host-paths PREFIX[:ro],...|none] [--accept-service-traffic-from NS,...|*|none]',
    '           [--allow-privileged | --no-privileged] [--allow-unconfined-seccomp | --no-unconfined-seccomp]',
    '           [-o table|json|yaml|name]',
    'berth namespace get-policy [NS] [-o table|wide|json|yaml|name]   (also: berth get policy NS)',
    'berth namespace delete-policy NS [--ignore-not-found]',
  ].join('\n       '),
  help: [
    "A namespace's policy says what its deployers may claim and what its workloads may use.",
    'Without one, a namespace has the default: no host names, no host ports, no quota, and a',
    '1Gi memory limit for containers that set no memory limit or request. Admins set and remove',
    "policies; the namespace's own tokens read them; admins are held to quotas, default limits and",
    'the security allowances (capabilities, privileged, Unconfined seccomp), not to the host and',
    'host-port allowances.',
    '',
    'set-policy reads the policy in force, changes what the flags say and writes it back with its',
    'resourceVersion (read again and retried once if someone wrote in between):',
    '  --allow-host-suffix D    deployers may claim D and every name under it (repeat to add more)',
    '  --clear-host-suffixes    start from an empty list (then add with --allow-host-suffix)',
    '  --allow-wildcard-hosts   deployers may claim *.name within the suffixes (--no-wildcard-hosts: not)',
    '  --host-ports MIN-MAX     host ports deployers may publish (none: no host ports)',
    '  --quota-replicas N, --quota-cpu Q, --quota-memory Q',
    "                           totals over the namespace's deployments (none: no quota)",
    '  --default-memory-limit Q the limit of containers that set neither (none: no limit)',
    '  --allow-capabilities L   capabilities containers may add, e.g. NET_BIND_SERVICE,NET_ADMIN (ALL: any;',
    '                           none: no capability; default: NET_BIND_SERVICE); binds admins too',
    '  --allow-host-paths L     node paths hostPath volumes may bind, by prefix, e.g. /var/log:ro,/srv/cache',
    '                           (:ro: mounts must be readOnly; none: no hostPath); binds admins too',
    '  --accept-service-traffic-from L  namespaces whose replicas may reach its services (*: every one,',
    '                           the default; none: only its own)',
    '  --allow-privileged       containers may set securityContext.privileged (--no-privileged: not)',
    '  --allow-unconfined-seccomp  pods may set seccompProfile Unconfined (--no-unconfined-seccomp: not)',
    '',
    'delete-policy puts the namespace back on the default policy. berth get policies lists every',
    'policy that was set (admin).',
  ].join('\n'),
  flags: [
    'allow-host-suffix',
    'clear-host-suffixes',
    'allow-wildcard-hosts',
    'no-wildcard-hosts',
    'host-ports',
    'quota-replicas',
    'quota-cpu',
    'quota-memory',
    'default-memory-limit',
    'allow-capabilities',
    'allow-host-paths',
    'accept-service-traffic-from',
    'allow-privileged',
    'no-privileged',
    'allow-unconfined-seccomp',
    'no-unconfined-seccomp',
    'output',
    'ignore-not-found',
  ],
  async run(ctx) {
    const action = ctx.arg(0, `a namespace action (${ACTIONS.join(', ')})`) as Action;
    if (!ACTIONS.includes(action))
      throw new UsageError(`unknown namespace action "${action}" (${ACTIONS.join(', ')})`);
    const format = outputFormat(ctx.flags, FORMATS);
    const writeFlags = namespace.flags.filter((f) => f !== 'output' && f !== 'ignore-not-found');
    if (action !== 'set-policy' && writeFlags.some((f) => ctx.flags[f] !== undefined))
      throw new UsageError(`${action} takes no policy flags (they belong to set-policy)`);
    if (action !== 'delete-policy' && ctx.flags['ignore-not-found'])
      throw new UsageError(`${action} does not take --ignore-not-found`);
    const ns = await target(ctx, action);
    // Flags are checked before anything is read, so a typo never half-runs.
    const edit = action === 'set-policy' ? policyEditFromFlags(ctx.flags) : undefined;
    const client = await ctx.client();
    switch (action) {
      case 'get-policy':
        return printPolicy(ctx, format, await client.getPolicy(ns));
      case 'set-policy':
        return printPolicy(ctx, format, await setPolicy(client, ns, edit!));
      case 'delete-policy':
        try {
          await client.deletePolicy(ns);
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 404 && ctx.flags['ignore-not-found'])) throw err;
          ctx.out(`namespace ${ns} has no policy of its own`);
          return EXIT.OK;
        }
        ctx.out(`policy/${ns} deleted: namespace ${ns} has the default policy`);
        return EXIT.OK;
    }
  },
};
