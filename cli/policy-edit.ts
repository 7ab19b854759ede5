import type { Flags } from './args.ts';
import { parseCount } from './args.ts';
import { ApiError, type BerthClient } from './client.ts';
import { UsageError } from './exit-codes.ts';
import type { NamespacePolicy, NamespacePolicySpec } from './resources.ts';

/**
 * `berth namespace set-policy`: the flags say what to change, everything else of the policy in
 * force stays as read. The change is applied to what was just read and written back with its
 * resourceVersion, so an admin's concurrent edit of another field is never undone: a 409 means
 * someone wrote in between, and reading again and reapplying the same change is then correct.
 */

/** `null` removes the setting (no host ports, no quota, no default limit). */
export interface PolicyEdit {
  clearHostSuffixes: boolean;
  addHostSuffixes: string[];
  allowWildcardHosts?: boolean;
  hostPorts?: { min: number; max: number } | null;
  quota: { replicas?: number | null; cpu?: string | null; memory?: string | null };
  defaultMemoryLimit?: string | null;
  /** Capabilities containers may add; null: back to the default (NET_BIND_SERVICE). */
  allowedCapabilities?: string[] | null;
  allowPrivileged?: boolean;
  allowUnconfinedSeccomp?: boolean;
  /** Node path prefixes hostPath volumes may bind; null: none (the default). */
  allowedHostPaths?: { pathPrefix: string; readOnly?: boolean }[] | null;
  /** Namespaces whose replicas may reach its services; [] for none but its own. */
  acceptServiceTrafficFrom?: string[];
}

/** The annotation the server puts on the default policy of a namespace without its own. */
export const DEFAULT_ANNOTATION = 'berth.dev/default';

export const isDefaultPolicy = (p: NamespacePolicy) =>
  p.metadata?.annotations?.[DEFAULT_ANNOTATION] === 'true';

const NONE = 'none';

/** Quantities are checked by the server, which names the field of a bad one (422). */
function quantity(text: string | undefined, flag: string): string | null | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!t) throw new UsageError(`--${flag} needs a quantity, or "none"`);
  return t === NONE ? null : t;
}

function portRange(text: string | undefined): PolicyEdit['hostPorts'] {
  if (text === undefined) return undefined;
  if (text === NONE) return null;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  if (!m) throw new UsageError('--host-ports must be a range such as 30000-30100, one port, or "none"');
  const min = Number(m[1]);
  return { min, max: m[2] === undefined ? min : Number(m[2]) };
}

/** Capability names are checked by the server, which names a bad one (422). */
function capabilities(text: string | undefined): PolicyEdit['allowedCapabilities'] {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === 'default') return null;
  if (t === NONE) return [];
  const list = t
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new UsageError('--allow-capabilities needs names such as NET_ADMIN, "none" or "default"');
  return list;
}

/** `/var/log:ro,/srv/cache`: prefixes (checked by the server), `:ro` for read-only; "none". */
function hostPaths(text: string | undefined): PolicyEdit['allowedHostPaths'] {
  if (text === undefined) return undefined;
  if (text.trim() === NONE) return null;
  const list = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => (p.endsWith(':ro') ? { pathPrefix: p.slice(0, -3), readOnly: true } : { pathPrefix: p }));
  if (list.length === 0)
    throw new UsageError('--allow-host-paths needs path prefixes such as /var/log:ro, or "none"');
  return list;
}

/** `web,jobs`, `*` or "none" (only the namespace itself); names are checked by the server. */
function namespaceList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === NONE) return [];
  const list = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new UsageError('--accept-service-traffic-from needs namespace names, "*" or "none"');
  return list;
}

/** --allow-X / --no-X: true, false, or undefined (neither given). */
function either(
  flags: Flags,
  allow: 'allow-privileged' | 'allow-unconfined-seccomp',
  deny: 'no-privileged' | 'no-unconfined-seccomp',
) {
  if (flags[allow] && flags[deny]) throw new UsageError(`--${allow} and --${deny} contradict each other`);
  return flags[allow] ? true : flags[deny] ? false : undefined;
}

/** The change the flags ask for; a usage error when they ask for nothing or contradict each other. */
export function policyEditFromFlags(flags: Flags): PolicyEdit {
  if (flags['allow-wildcard-hosts'] && flags['no-wildcard-hosts'])
    throw new UsageError('--allow-wildcard-hosts and --no-wildcard-hosts contradict each other');
  const replicas = flags['quota-replicas'];
  const edit: PolicyEdit = {
    clearHostSuffixes: Boolean(flags['clear-host-suffixes']),
    addHostSuffixes: (flags['allow-host-suffix'] ?? []).map((s) => s.trim()).filter(Boolean),
    allowWildcardHosts: flags['allow-wildcard-hosts'] ? true : flags['no-wildcard-hosts'] ? false : undefined,
    hostPorts: portRange(flags['host-ports']),
    quota: {
      replicas:
        replicas === undefined
          ? undefined
          : replicas === NONE
            ? null
            : parseCount(replicas, 'quota-replicas'),
      cpu: quantity(flags['quota-cpu'], 'quota-cpu'),
      memory: quantity(flags['quota-memory'], 'quota-memory'),
    },
    defaultMemoryLimit: quantity(flags['default-memory-limit'], 'default-memory-limit'),
    allowedCapabilities: capabilities(flags['allow-capabilities']),
    allowPrivileged: either(flags, 'allow-privileged', 'no-privileged'),
    allowUnconfinedSeccomp: either(flags, 'allow-unconfined-seccomp', 'no-unconfined-seccomp'),
    allowedHostPaths: hostPaths(flags['allow-host-paths']),
    acceptServiceTrafficFrom: namespaceList(flags['accept-service-traffic-from']),
  };
  const nothing =
    !edit.clearHostSuffixes &&
    edit.addHostSuffixes.length === 0 &&
    edit.allowWildcardHosts === undefined &&
    edit.hostPorts === undefined &&
    Object.values(edit.quota).every((v) => v === undefined) &&
    edit.defaultMemoryLimit === undefined &&
    edit.allowedCapabilities === undefined &&
    edit.allowPrivileged === undefined &&
    edit.allowUnconfinedSeccomp === undefined &&
    edit.allowedHostPaths === undefined &&
    edit.acceptServiceTrafficFrom === undefined;
  if (nothing) throw new UsageError('nothing to change: say what with the flags (berth namespace --help)');
  return edit;
}

/** Sets (or, for null, removes) one key of a copy of `record`. */
function setOrDrop<T extends object, K extends keyof T>(
  record: T,
  key: K,
  value: T[K] | null | undefined,
): T {
  if (value === undefined) return record;
  const next = { ...record };
  if (value === null) delete next[key];
  else next[key] = value;
  return next;
}

/** The spec `edit` makes of `spec`. Pure: the same read and the same flags give the same write. */
export function applyPolicyEdit(spec: NamespacePolicySpec, edit: PolicyEdit): NamespacePolicySpec {
  const suffixes = edit.clearHostSuffixes ? [] : [...(spec.allowedHostSuffixes ?? [])];
  for (const s of edit.addHostSuffixes) if (!suffixes.includes(s)) suffixes.push(s);
  let next: NamespacePolicySpec = { ...spec, allowedHostSuffixes: suffixes };
  if (edit.allowWildcardHosts !== undefined) next.allowWildcardHosts = edit.allowWildcardHosts;
  next = setOrDrop(next, 'hostPorts', edit.hostPorts);
  next = setOrDrop(next, 'allowedCapabilities', edit.allowedCapabilities);
  next = setOrDrop(next, 'allowedHostPaths', edit.allowedHostPaths);
  if (edit.acceptServiceTrafficFrom !== undefined)
    next.acceptServiceTrafficFrom = edit.acceptServiceTrafficFrom;
  if (edit.allowPrivileged !== undefined) next.allowPrivileged = edit.allowPrivileged;
  if (edit.allowUnconfinedSeccomp !== undefined) next.allowUnconfinedSeccomp = edit.allowUnconfinedSeccomp;
  let quota = { ...spec.quota };
  quota = setOrDrop(quota, 'replicas', edit.quota.replicas);
  quota = setOrDrop(quota, 'cpu', edit.quota.cpu);
  quota = setOrDrop(quota, 'memory', edit.quota.memory);
  next.quota = quota;
  // An explicit null (not a missing key) says "no default limit", where the default policy has one.
  if (edit.defaultMemoryLimit !== undefined)
    next.defaultLimits = { ...spec.defaultLimits, memory: edit.defaultMemoryLimit };
  return next;
}

/** The body that writes `spec` over `current`: its labels and annotations kept, its version required. */
export function policyWrite(ns: string, current: NamespacePolicy, spec: NamespacePolicySpec) {
  // The default policy is not stored: there is no version to match and its annotation is the server's.
  if (isDefaultPolicy(current) && current.metadata?.resourceVersion === undefined) {
    return { apiVersion: 'berth.dev/v1', kind: 'NamespacePolicy', metadata: { name: ns }, spec };
  }
  const meta = current.metadata ?? {};
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'NamespacePolicy',
    metadata: {
      name: ns,
      ...(meta.labels ? { labels: meta.labels } : {}),
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.resourceVersion !== undefined ? { resourceVersion: meta.resourceVersion } : {}),
    },
    spec,
  };
}

/** A conflict is retried once: a second one means the policy is being edited right now. */
const ATTEMPTS = 2;

export async function setPolicy(client: BerthClient, ns: string, edit: PolicyEdit): Promise<NamespacePolicy> {
  for (let attempt = 1; ; attempt++) {
    const current = await client.getPolicy(ns);
    const body = policyWrite(ns, current, applyPolicyEdit(current.spec ?? {}, edit));
    try {
      return await client.putPolicy(ns, body);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409) || attempt >= ATTEMPTS) throw err;
    }
  }
}
