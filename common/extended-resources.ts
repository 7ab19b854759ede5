import { parseMemory, parseQuantity } from './quantity.ts';

/**
 * The resources a container may ask for beyond cpu and memory, as Kubernetes names and checks
 * them:
 * - `ephemeral-storage`: disk, in bytes, scheduled against the allocatable disk of the node's
 *   Docker data root (the agent reports it at registration). Only requests: the agent does not
 *   measure a container's disk use, so a limit would be accepted and not enforced.
 * - extended resources (`nvidia.com/gpu`, `example.com/dongle`): a domain-prefixed name outside
 *   kubernetes.io, counted in whole units, never overcommitted (a request, if written, equals the
 *   limit), placed only where the node advertises enough of it (`berth-agent --extended-resource`).
 *   The agent asks Docker for the devices of `nvidia.com/gpu`; others are counted only, as
 *   Kubernetes does for a resource no device plugin serves.
 * Kept in `scalars`: resource name → amount (bytes for ephemeral-storage, units otherwise).
 */

export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const NVIDIA_GPU = 'nvidia.com/gpu';

/** A replica's or a node's amounts of these resources, by name. */
export type Scalars = Record<string, number>;

/** Kubernetes' qualified name with a mandatory DNS-subdomain prefix. */
const PREFIXED_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Kubernetes' IsExtendedResourceName: prefixed, outside kubernetes.io, not `requests.`-prefixed. */
export function isExtendedResourceName(name: string): boolean {
  if (name.length > 253 || !PREFIXED_NAME.test(name)) return false;
  const slash = name.indexOf('/');
  const prefix = name.slice(0, slash);
  if (name.length - slash - 1 > 63) return false;
  if (prefix === 'kubernetes.io' || prefix.endsWith('.kubernetes.io')) return false;
  return !name.startsWith('requests.');
}

/** No node has more of a device than this; it keeps sums exact. */
export const MAX_EXTENDED = 2 ** 31 - 1;

/** A whole count, as Kubernetes requires of an extended resource; undefined if it is not one. */
export function parseExtended(value: string | number): number | undefined {
  const q = parseQuantity(value);
  if (!q || q.negative) return undefined;
  if (q.digits === 0n) return 0;
  let whole = q.digits << BigInt(q.exp2);
  // digits × 2^60 < 10^(length + 19): a larger negative exponent leaves a fraction.
  if (-q.exp10 > q.digits.toString().length + 19) return undefined;
  if (q.exp10 < 0) {
    const divisor = 10n ** BigInt(-q.exp10);
    if (whole % divisor !== 0n) return undefined;
    whole /= divisor;
  } else if (q.exp10 > 12) return Number.POSITIVE_INFINITY;
  else whole *= 10n ** BigInt(q.exp10);
  return Number(whole);
}

/** What is wrong with an extended resource's quantity, or undefined. */
export function extendedQuantityProblem(value: string | number): string | undefined {
  const q = parseQuantity(value);
  if (!q) return 'must be a quantity such as "1" or "2"';
  if (q.negative) return 'must be greater than or equal to 0';
  const n = parseExtended(value);
  if (n === undefined) return 'must be an integer';
  if (n > MAX_EXTENDED) return `must be at most ${MAX_EXTENDED}`;
  return undefined;
}

type ResourceList = Record<string, string | number | undefined> | undefined;

/**
 * Kubernetes' rules across a container's requests and limits for these resources: an extended
 * resource needs a limit, and a request, if written, equals it (no overcommit); ephemeral-storage
 * has no limit here (see above). Issues with their path under `resources`.
 */
export function resourceListIssues(
  requests: ResourceList,
  limits: ResourceList,
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  if (limits?.[EPHEMERAL_STORAGE] !== undefined)
    out.push({
      path: ['limits', EPHEMERAL_STORAGE],
      message:
        "ephemeral-storage is not supported by Berth as a limit (the agent does not measure a container's disk use, so it could not be enforced); a request is scheduled against the node's disk",
    });
  for (const [name, request] of Object.entries(requests ?? {})) {
    if (request === undefined || !isExtendedResourceName(name)) continue;
    const limit = limits?.[name];
    if (limit === undefined)
      out.push({ path: ['limits', name], message: 'must be set: an extended resource is not overcommitted' });
    else if (parseExtended(request) !== parseExtended(limit))
      out.push({ path: ['requests', name], message: `must be equal to ${name} limit of ${limit}` });
  }
  return out;
}

/** One container's amounts: an extended resource's limit (= its request), ephemeral-storage's request. */
export function containerScalars(resources: { requests?: ResourceList; limits?: ResourceList }): Scalars {
  const out: Scalars = {};
  const storage = resources.requests?.[EPHEMERAL_STORAGE];
  if (storage !== undefined) {
    const bytes = parseMemory(storage) ?? 0;
    if (bytes > 0) out[EPHEMERAL_STORAGE] = bytes;
  }
  for (const list of [resources.limits, resources.requests]) {
    for (const [name, value] of Object.entries(list ?? {})) {
      if (value === undefined || name in out || !isExtendedResourceName(name)) continue;
      const n = parseExtended(value) ?? 0;
      if (n > 0) out[name] = n;
    }
  }
  return out;
}

/**
 * What a pod asks of a node in these resources, as Kubernetes counts it: the larger of its
 * initialization's peak (each plain init container beside the sidecars started before it) and
 * what it runs with, resource by resource (as common/init-containers.ts does for cpu and memory).
 * Undefined when it asks for none, which is what nearly every pod does.
 */
export function podScalars(spec: {
  containers: { resources: { requests?: ResourceList; limits?: ResourceList } }[];
  initContainers?: {
    resources: { requests?: ResourceList; limits?: ResourceList };
    restartPolicy?: string;
  }[];
}): Scalars | undefined {
  const sum = (a: Scalars, b: Scalars): Scalars => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const max = (a: Scalars, b: Scalars): Scalars => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
    return out;
  };
  let sidecars: Scalars = {};
  let peak: Scalars = {};
  for (const c of spec.initContainers ?? []) {
    const own = containerScalars(c.resources);
    if (c.restartPolicy === 'Always') {
      sidecars = sum(sidecars, own);
      peak = max(peak, sidecars);
    } else peak = max(peak, sum(sidecars, own));
  }
  const running = spec.containers.map((c) => containerScalars(c.resources)).reduce(sum, sidecars);
  const total = max(peak, running);
  return Object.keys(total).length ? total : undefined;
}

/** "nvidia.com/gpu=2" (the agent's flag) → name and count, or why not. */
export function parseAdvertised(text: string): { name: string; count: number } | string {
  const eq = text.indexOf('=');
  const name = (eq < 0 ? text : text.slice(0, eq)).trim();
  const count = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (!isExtendedResourceName(name))
    return `${JSON.stringify(name)} is no extended resource name (a domain-prefixed name outside kubernetes.io, such as nvidia.com/gpu)`;
  if (!/^\d{1,10}$/.test(count) || Number(count) > MAX_EXTENDED)
    return `${name}: the count must be a whole number (${JSON.stringify(count)})`;
  return { name, count: Number(count) };
}

/** A container's extended resources as the agent receives them (units by name); undefined: none. */
export function extendedLimits(resources: {
  requests?: ResourceList;
  limits?: ResourceList;
}): Scalars | undefined {
  const out = containerScalars(resources);
  delete out[EPHEMERAL_STORAGE];
  return Object.keys(out).length ? out : undefined;
}
