import { parseArgs } from 'node:util';
import { UsageError } from './exit-codes.ts';

/**
 * Every flag of every command, in one table, so a flag may come before or after the verb
 * (`berth -n prod get deployments` and `berth get deployments -n prod`). Each command then lists
 * the flags it accepts; anything else is a usage error naming the flag.
 */
export const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  selector: { type: 'string', short: 'l' },
  filename: { type: 'string', short: 'f', multiple: true },
  replicas: { type: 'string' },
  'to-revision': { type: 'string' },
  timeout: { type: 'string' },
  tail: { type: 'string' },
  follow: { type: 'boolean' },
  container: { type: 'string', short: 'c' },
  stdin: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  'allow-exec': { type: 'boolean' },
  name: { type: 'string' },
  'certificate-authority': { type: 'string' },
  role: { type: 'string' },
  namespaces: { type: 'string' },
  expires: { type: 'string' },
  ttl: { type: 'string' },
  'max-uses': { type: 'string' },
  labels: { type: 'string' },
  deployment: { type: 'string', short: 'd' },
  for: { type: 'string' },
  address: { type: 'string' },
  'allow-host-suffix': { type: 'string', multiple: true },
  'from-literal': { type: 'string', multiple: true },
  'from-file': { type: 'string', multiple: true },
  from: { type: 'string' },
  'clear-host-suffixes': { type: 'boolean' },
  'allow-wildcard-hosts': { type: 'boolean' },
  'no-wildcard-hosts': { type: 'boolean' },
  'host-ports': { type: 'string' },
  'quota-replicas': { type: 'string' },
  'quota-cpu': { type: 'string' },
  'quota-memory': { type: 'string' },
  'default-memory-limit': { type: 'string' },
  'allow-capabilities': { type: 'string' },
  'allow-host-paths': { type: 'string' },
  'accept-service-traffic-from': { type: 'string' },
  'allow-privileged': { type: 'boolean' },
  'no-privileged': { type: 'boolean' },
  'allow-unconfined-seccomp': { type: 'boolean' },
  'no-unconfined-seccomp': { type: 'boolean' },
  wait: { type: 'boolean' },
  'ignore-not-found': { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  client: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Flags every command takes: where the server is, which namespace, help. */
export const GLOBAL_OPTIONS: OptionName[] = ['server', 'token', 'context', 'namespace', 'help'];

export interface Flags {
  server?: string;
  token?: string;
  context?: string;
  namespace?: string;
  output?: string;
  selector?: string;
  filename?: string[];
  replicas?: string;
  'to-revision'?: string;
  timeout?: string;
  tail?: string;
  follow?: boolean;
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  'allow-exec'?: boolean;
  name?: string;
  'certificate-authority'?: string;
  role?: string;
  namespaces?: string;
  expires?: string;
  ttl?: string;
  'max-uses'?: string;
  labels?: string;
  deployment?: string;
  for?: string;
  address?: string;
  'allow-host-suffix'?: string[];
  'from-literal'?: string[];
  'from-file'?: string[];
  from?: string;
  'clear-host-suffixes'?: boolean;
  'allow-wildcard-hosts'?: boolean;
  'no-wildcard-hosts'?: boolean;
  'host-ports'?: string;
  'quota-replicas'?: string;
  'quota-cpu'?: string;
  'quota-memory'?: string;
  'default-memory-limit'?: string;
  'allow-capabilities'?: string;
  'allow-host-paths'?: string;
  'accept-service-traffic-from'?: string;
  'allow-privileged'?: boolean;
  'no-privileged'?: boolean;
  'allow-unconfined-seccomp'?: boolean;
  'no-unconfined-seccomp'?: boolean;
  wait?: boolean;
  'ignore-not-found'?: boolean;
  'no-verify'?: boolean;
  client?: boolean;
  help?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Flags;
  /** The flags the user actually typed, to check them against the command's list. */
  given: OptionName[];
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  // `-f` names files everywhere but in `logs`, where it means follow, as in kubectl.
  const command = argv.find((a) => !a.startsWith('-'));
  const args = command === 'logs' ? argv.map((a) => (a === '-f' ? '--follow' : a)) : argv;
  try {
    const { values, positionals, tokens } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    const given = [...new Set(tokens.flatMap((t) => (t.kind === 'option' ? [t.name as OptionName] : [])))];
    return { positionals, flags: values as Flags, given };
  } catch (err) {
    throw new UsageError(parseArgsMessage(err));
  }
}

function parseArgsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Node's messages mention its own API ("To specify a positional argument starting with a '-'...").
  return message.split('. ')[0]!.replace(/^Unknown option '(.+?)'.*$/, 'unknown flag $1');
}

/** Rejects a flag the command does not take, naming it. */
export function checkFlags(given: OptionName[], allowed: readonly OptionName[], command: string): void {
  for (const name of given) {
    if (!GLOBAL_OPTIONS.includes(name) && !allowed.includes(name)) {
      throw new UsageError(`${command} does not take --${name}`);
    }
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "5m", "90s", "1h30m", "2d"; a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const parts = text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)?/g);
  if (!parts || parts.join('') !== text)
    throw new UsageError(`--${flag} must be a duration such as 90s, 5m or 1h`);
  let total = 0;
  for (const part of parts) {
    const m = DURATION.exec(part)!;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
  }
  return Math.round(total);
}

/** "region=eu,disk=ssd" as labels; the server checks keys and values (422 naming each). */
export function parseLabelPairs(text: string, flag: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const t = pair.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} entries look like key=value, got "${t}"`);
    labels[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return labels;
}

export function parseCount(text: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(text) || Number(text) < min) {
    throw new UsageError(`--${flag} must be a whole number${min > 0 ? ` of at least ${min}` : ''}`);
  }
  return Number(text);
}

const KIND_ALIASES: Record<string, ResourceKind> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  service: 'service',
  services: 'service',
  svc: 'service',
  endpoints: 'endpoints',
  endpoint: 'endpoints',
  ep: 'endpoints',
  secret: 'secret',
  secrets: 'secret',
  configmap: 'configmap',
  configmaps: 'configmap',
  cm: 'configmap',
  persistentvolumeclaim: 'persistentvolumeclaim',
  persistentvolumeclaims: 'persistentvolumeclaim',
  pvc: 'persistentvolumeclaim',
  pvcs: 'persistentvolumeclaim',
  serviceaccount: 'serviceaccount',
  serviceaccounts: 'serviceaccount',
  sa: 'serviceaccount',
  ingress: 'ingress',
  ingresses: 'ingress',
  ing: 'ingress',
  job: 'job',
  jobs: 'job',
  'job.batch': 'job',
  'jobs.batch': 'job',
  cronjob: 'cronjob',
  cronjobs: 'cronjob',
  cj: 'cronjob',
  'cronjob.batch': 'cronjob',
  'cronjobs.batch': 'cronjob',
  node: 'node',
  nodes: 'node',
  no: 'node',
  replica: 'replica',
  replicas: 'replica',
  event: 'event',
  events: 'event',
  ev: 'event',
  revision: 'revision',
  revisions: 'revision',
  policy: 'policy',
  policies: 'policy',
  certificate: 'certificate',
  certificates: 'certificate',
  cert: 'certificate',
  certs: 'certificate',
  namespacepolicy: 'policy',
  namespacepolicies: 'policy',
  trustrule: 'trustrule',
  trustrules: 'trustrule',
};
export type ResourceKind =
  | 'deployment'
  | 'service'
  | 'endpoints'
  | 'secret'
  | 'configmap'
  | 'persistentvolumeclaim'
  | 'serviceaccount'
  | 'ingress'
  | 'job'
  | 'cronjob'
  | 'node'
  | 'replica'
  | 'event'
  | 'revision'
  | 'policy'
  /** Cluster-scoped, admins only: which CI identity tokens are traded for Berth tokens. */
  | 'trustrule'
  | 'certificate';

export function resourceKind(word: string | undefined): ResourceKind | undefined {
  return word === undefined ? undefined : KIND_ALIASES[word.toLowerCase()];
}

/**
 * "deployment/web" or "deployment web" → {kind, name, rest}. `expected` limits the kinds; a bare
 * name is taken as `fallback` when given (e.g. `logs REPLICA`).
 */
export function objectRef(
  args: string[],
  expected: readonly ResourceKind[],
  fallback?: ResourceKind,
): { kind: ResourceKind; name: string; rest: string[] } {
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError(`expected ${expected.map((k) => `${k}/NAME`).join(' or ')}`);
  const slash = first.indexOf('/');
  if (slash > 0) {
    const kind = resourceKind(first.slice(0, slash));
    const name = first.slice(slash + 1);
    if (!kind || !expected.includes(kind))
      throw new UsageError(`expected ${expected.join(' or ')}, got ${first}`);
    if (!name) throw new UsageError(`missing a name in ${first}`);
    return { kind, name, rest };
  }
  const kind = resourceKind(first);
  if (kind && expected.includes(kind)) {
    const [name, ...more] = rest;
    if (!name) throw new UsageError(`missing the ${kind} name`);
    return { kind, name, rest: more };
  }
  if (fallback) return { kind: fallback, name: first, rest };
  throw new UsageError(`expected ${expected.map((k) => `${k}/NAME`).join(' or ')}, got ${first}`);
}
