import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdvertised } from '../common/extended-resources.ts';
import { isLogLevel, type LogLevel } from '../common/logger.ts';
import { LabelKey, LabelValue, Name } from '../common/names.ts';
import type { Driver } from './driver/driver.ts';
import type { Logger } from './log.ts';

/** Everything an agent needs; `startAgent` takes it, `parseConfig` builds it from flags and env. */
export interface AgentConfig {
  /** Control plane base URL, e.g. https://berth.example.com */
  server: string;
  /**
   * Needed for the first registration only. After a refused credential (the node was deleted or
   * reset), only a join token the stored credential did not come from registers it again.
   */
  joinToken?: string;
  /**
   * The environment file this configuration came from (install-agent.sh: /etc/berth/agent.env):
   * once the node holds its credential, the agent removes BERTH_JOIN_TOKEN from it.
   */
  envFile?: string;
  /** Node name (DNS-1123 label); containers are labelled berth.dev/node=<name>. */
  name: string;
  labels: Record<string, string>;
  /** Address ports are published on and reported to the control plane; default: detected. */
  address?: string;
  /** Holds the node credential and the last assignments (both mode 0600). */
  dataDir: string;
  /** Container runtime; default: Docker Engine via DOCKER_HOST or the local socket. */
  driver?: Driver;
  logger?: Logger;
  /** BERTH_LOG_LEVEL, when no logger is given (default info). */
  logLevel?: LogLevel;
  /** Long-poll wait asked of the server, seconds (default 25). */
  waitSeconds?: number;
  /** Status heartbeat period, seconds (default 10). */
  heartbeatSeconds?: number;
  /** Most processes and threads per container (default 4096); 0: no limit. */
  pidsLimit?: number;
  /** Let containers reach the cloud metadata address (default: an iptables rule blocks it). */
  allowMetadata?: boolean;
  /** configMap, secret and memory emptyDir volumes, on a tmpfs (default: defaultVolumeDir). */
  volumeDir?: string;
  /** Extended resources this node offers (`--extended-resource nvidia.com/gpu=2`), by name. */
  extendedResources?: Record<string, number>;
  /** Where NodePort services listen (default: the node's address). */
  nodePortAddress?: string;
  /** Where cluster DNS sends names outside the cluster (default: the nameservers of /etc/resolv.conf). */
  dnsUpstreams?: { host: string; port: number }[];
  /** Serve the cluster's ingress routes on this node, here (default: not served). */
  ingressListen?: { host: string; port: number };
  /** Serve them over HTTPS here too, with the cluster's certificates (default: not served). */
  ingressTlsListen?: { host: string; port: number };
  /**
   * How the control plane's certificate is verified: the CAs trusted (`--ca-file`: added to
   * Node's, for a private CA) and the name it must carry (default: the server URL's host; npm
   * start's own agent calls 127.0.0.1 and checks the public name).
   */
  serverTls?: ServerTls;
}

export interface ServerTls {
  /** PEM certificates trusted beside Node's own roots. */
  ca?: string;
  servername?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid berth-agent configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Flag name → environment variable, in the order `--help` lists them. */
const OPTIONS = {
  server: 'BERTH_SERVER',
  'join-token': 'BERTH_JOIN_TOKEN',
  name: 'BERTH_NAME',
  labels: 'BERTH_LABELS',
  address: 'BERTH_ADDRESS',
  'data-dir': 'BERTH_DATA_DIR',
  'env-file': 'BERTH_ENV_FILE',
  'pids-limit': 'BERTH_PIDS_LIMIT',
  'allow-metadata': 'BERTH_ALLOW_METADATA',
  'volume-dir': 'BERTH_VOLUME_DIR',
  'extended-resource': 'BERTH_EXTENDED_RESOURCES',
  'node-port-address': 'BERTH_NODE_PORT_ADDRESS',
  'dns-upstream': 'BERTH_DNS_UPSTREAM',
  'ingress-listen': 'BERTH_INGRESS_LISTEN',
  'ingress-tls-listen': 'BERTH_INGRESS_TLS_LISTEN',
  'ca-file': 'BERTH_CA_FILE',
} as const;
type Option = keyof typeof OPTIONS;
/** Switches: `--flag` alone means true; `--flag=false` and the variable set to 0/false mean false. */
const SWITCHES = new Set<Option>(['allow-metadata']);

export const USAGE = `Usage: berth-agent --server URL --join-token TOKEN --name NAME [options]

Registers this machine with a Berth control plane and runs the containers assigned to it.

Options (each also read from the environment variable shown):
  --server URL        control plane URL                               BERTH_SERVER
  --join-token TOKEN  join token, spent once: needed until the node holds its credential
                                                                      BERTH_JOIN_TOKEN
  --name NAME         node name, a DNS-1123 label                     BERTH_NAME
  --labels k=v,...    node labels for nodeSelector                    BERTH_LABELS
  --address IP        address to publish ports on (default: first non-internal IPv4)
                                                                      BERTH_ADDRESS
  --data-dir DIR      where the node credential and last assignments are kept
                      (default: /var/lib/berth-agent as root, else ~/.local/state/berth-agent)
                                                                      BERTH_DATA_DIR
  --env-file PATH     the environment file holding this configuration: the join
                      token is removed from it once the node holds its credential
                                                                      BERTH_ENV_FILE
  --pids-limit N      most processes and threads in one container; 0: no limit (default 4096)
                                                                      BERTH_PIDS_LIMIT
  --allow-metadata    let containers reach the cloud metadata address 169.254.169.254
                      (default: blocked by an iptables rule, which needs root)
                                                                      BERTH_ALLOW_METADATA=1
  --volume-dir DIR    configMap, secret and memory emptyDir volumes, on a tmpfs the agent
                      mounts there if it is none (default: /run/berth/volumes as root)
                                                                      BERTH_VOLUME_DIR
  --extended-resource NAME=COUNT
                      an extended resource this node offers, e.g. nvidia.com/gpu=2
                      (repeatable; the variable takes a comma-separated list)
                                                                      BERTH_EXTENDED_RESOURCES
  --node-port-address IP
                      where NodePort services listen (default: the --address)
                                                                      BERTH_NODE_PORT_ADDRESS
  --dns-upstream IP[:PORT],...
                      where cluster DNS sends names outside the cluster
                      (default: the nameservers of /etc/resolv.conf)  BERTH_DNS_UPSTREAM
  --ingress-listen IP:PORT
                      serve the hosts and paths of services and Ingresses on this node
                      (e.g. 0.0.0.0:80; default: not served)         BERTH_INGRESS_LISTEN
  --ingress-tls-listen IP:PORT
                      serve them over HTTPS too, with the cluster's certificates; plain
                      HTTP then redirects (e.g. 0.0.0.0:443)          BERTH_INGRESS_TLS_LISTEN
  --ca-file PATH      PEM certificates to trust for the control plane's HTTPS, beside the
                      system's (a private CA)                         BERTH_CA_FILE
  -h, --help          show this help
  --version           print the agent version

Set BERTH_LOG_LEVEL=debug for timing details. DOCKER_HOST selects the Docker Engine.`;

export type CliAction = { kind: 'run'; config: AgentConfig } | { kind: 'help' } | { kind: 'version' };

/** Parses `berth-agent` flags (which win) and BERTH_* variables; throws ConfigError listing every problem. */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliAction {
  const flags: Partial<Record<Option, string>> = {};
  const problems: string[] = [];
  // The one repeatable flag: each --extended-resource adds a resource.
  const extendedFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const key = m?.[1];
    if (!m || !key || !(key in OPTIONS)) {
      problems.push(`unknown argument "${arg}" (see --help)`);
      continue;
    }
    let value = m[2];
    if (value === undefined && SWITCHES.has(key as Option)) value = 'true';
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        problems.push(`--${key} needs a value`);
        continue;
      }
      i++;
    }
    if (key === 'extended-resource') extendedFlags.push(value);
    else flags[key as Option] = value;
  }
  const get = (o: Option): string | undefined => {
    const v = flags[o] ?? env[OPTIONS[o]];
    return v === undefined || v === '' ? undefined : v;
  };

  const server = get('server');
  if (!server) problems.push('--server (or BERTH_SERVER) is required');
  else if (!/^https?:\/\/[^\s/]+/.test(server))
    problems.push(`--server must be an http(s) URL, got "${server}"`);

  const name = get('name');
  if (!name) problems.push('--name (or BERTH_NAME) is required');
  else {
    const r = Name.safeParse(name);
    if (!r.success) problems.push(`--name "${name}" ${r.error.issues[0]?.message ?? 'is invalid'}`);
  }

  const labels: Record<string, string> = {};
  const rawLabels = get('labels');
  if (rawLabels) {
    for (const pair of rawLabels.split(',')) {
      const t = pair.trim();
      if (!t) continue;
      const eq = t.indexOf('=');
      if (eq <= 0) {
        problems.push(`--labels entry "${t}" must look like key=value`);
        continue;
      }
      const k = t.slice(0, eq);
      const v = t.slice(eq + 1);
      if (!LabelKey.safeParse(k).success) problems.push(`--labels key "${k}" is not a valid label key`);
      else if (!LabelValue.safeParse(v).success)
        problems.push(`--labels value "${v}" (of ${k}) is not a valid label value`);
      else labels[k] = v;
    }
  }

  const address = get('address');
  if (address !== undefined && isIP(address) === 0)
    problems.push(`--address must be an IP address, got "${address}"`);

  const nodePortAddress = get('node-port-address');
  if (nodePortAddress !== undefined && isIP(nodePortAddress) !== 4)
    problems.push(`--node-port-address must be an IPv4 address, got "${nodePortAddress}"`);

  const dnsUpstreams: { host: string; port: number }[] = [];
  for (const text of (get('dns-upstream') ?? '').split(',').filter((t) => t.trim())) {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(text.trim());
    const port = Number(m?.[2] ?? 53);
    if (!m || isIP(m[1]!) !== 4 || port < 1 || port > 65535)
      problems.push(`--dns-upstream takes IPv4[:port],... got "${text}"`);
    else dnsUpstreams.push({ host: m[1]!, port });
  }

  const listenAt = (flag: 'ingress-listen' | 'ingress-tls-listen', example: string) => {
    const raw = get(flag);
    const m = raw === undefined ? undefined : /^(.+):(\d{1,5})$/.exec(raw);
    const host = m?.[1]?.replace(/^\[(.*)\]$/, '$1');
    const port = Number(m?.[2]);
    const at = host && isIP(host) && port >= 1 && port <= 65535 ? { host, port } : undefined;
    if (raw !== undefined && !at) problems.push(`--${flag} takes IP:PORT (e.g. ${example}), got "${raw}"`);
    return at;
  };
  const ingressListen = listenAt('ingress-listen', '0.0.0.0:80');
  const ingressTlsListen = listenAt('ingress-tls-listen', '0.0.0.0:443');

  const rawPids = get('pids-limit');
  const pidsLimit = rawPids !== undefined && /^\d{1,9}$/.test(rawPids) ? Number(rawPids) : undefined;
  if (rawPids !== undefined && pidsLimit === undefined)
    problems.push(`--pids-limit must be a whole number (0 for no limit), got "${rawPids}"`);

  const rawAllow = get('allow-metadata');
  const allowMetadata = rawAllow === undefined ? undefined : switchValue(rawAllow);
  if (rawAllow !== undefined && allowMetadata === undefined)
    problems.push(`--allow-metadata takes true or false (or 1 or 0), got "${rawAllow}"`);

  const extendedResources: Record<string, number> = {};
  const rawExtended = extendedFlags.length
    ? extendedFlags
    : (env[OPTIONS['extended-resource']] ?? '').split(',').filter((t) => t.trim());
  for (const text of rawExtended) {
    const parsed = parseAdvertised(text);
    if (typeof parsed === 'string') problems.push(`--extended-resource ${parsed}`);
    else extendedResources[parsed.name] = parsed.count;
  }

  const caFile = get('ca-file');
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----'))
        problems.push(`--ca-file ${caFile} holds no PEM certificate`);
    } catch (e) {
      problems.push(`--ca-file ${caFile} cannot be read: ${(e as Error).message}`);
    }
  }

  // BERTH_LOG_LEVEL is the control plane's variable too; BERTH_LOG is the agent's older name for it.
  const rawLevel = env.BERTH_LOG_LEVEL || env.BERTH_LOG;
  if (rawLevel !== undefined && rawLevel !== '' && !isLogLevel(rawLevel))
    problems.push(`BERTH_LOG_LEVEL must be debug, info, warn, error or silent, got "${rawLevel}"`);
  const logLevel: LogLevel | undefined = isLogLevel(rawLevel) ? rawLevel : undefined;

  if (problems.length > 0) throw new ConfigError(problems);
  const joinToken = get('join-token');
  return {
    kind: 'run',
    config: {
      server: server!.replace(/\/+$/, ''),
      ...(joinToken ? { joinToken } : {}),
      name: name!,
      labels,
      ...(address ? { address } : {}),
      dataDir: get('data-dir') ?? defaultDataDir(env),
      ...(get('env-file') ? { envFile: get('env-file')! } : {}),
      ...(pidsLimit !== undefined ? { pidsLimit } : {}),
      ...(allowMetadata ? { allowMetadata } : {}),
      ...(get('volume-dir') ? { volumeDir: get('volume-dir')! } : {}),
      ...(logLevel ? { logLevel } : {}),
      ...(Object.keys(extendedResources).length ? { extendedResources } : {}),
      ...(nodePortAddress ? { nodePortAddress } : {}),
      ...(dnsUpstreams.length ? { dnsUpstreams } : {}),
      ...(ingressListen ? { ingressListen } : {}),
      ...(ingressTlsListen ? { ingressTlsListen } : {}),
      ...(ca ? { serverTls: { ca } } : {}),
    },
  };
}

function switchValue(raw: string): boolean | undefined {
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  return undefined;
}

/** As root /run/berth/volumes; else under $XDG_RUNTIME_DIR (a tmpfs where systemd makes it). */
export function defaultVolumeDir(env: Readonly<Record<string, string | undefined>>): string {
  if (process.getuid?.() === 0) return '/run/berth/volumes';
  return join(env.XDG_RUNTIME_DIR || tmpdir(), 'berth-agent', 'volumes');
}

export function defaultDataDir(env: Readonly<Record<string, string | undefined>>): string {
  if (process.getuid?.() === 0) return '/var/lib/berth-agent';
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'berth-agent');
}
