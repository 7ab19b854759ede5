import { execFile } from 'node:child_process';
import { errorMessage, type Logger } from './log.ts';
import { BRIDGE_PREFIX } from './namespace-network.ts';

/**
 * Keeps containers away from the cloud metadata service (169.254.169.254, and fd00:ec2::254 on
 * AWS' IPv6): it hands out the VM's own credentials, which would make any tenant the node. One
 * REJECT rule per chain matches every Berth bridge (`-i bth+`), so it covers namespaces that do
 * not exist yet. REJECT rather than DROP: a client probing for metadata fails at once instead of
 * waiting out its timeout.
 */

export interface FirewallRule {
  binary: 'iptables' | 'ip6tables';
  chain: 'DOCKER-USER' | 'INPUT';
  destination: string;
}

export const METADATA_RULES: readonly FirewallRule[] = [
  // Routed off the node, as on every cloud: the forwarded path, where Docker leaves room for users.
  { binary: 'iptables', chain: 'DOCKER-USER', destination: '169.254.169.254/32' },
  // Answered by the node itself (a metadata proxy on the node, or the address bound locally):
  // such packets never cross FORWARD, so DOCKER-USER alone would not see them.
  { binary: 'iptables', chain: 'INPUT', destination: '169.254.169.254/32' },
  { binary: 'ip6tables', chain: 'DOCKER-USER', destination: 'fd00:ec2::254/128' },
  { binary: 'ip6tables', chain: 'INPUT', destination: 'fd00:ec2::254/128' },
];

/** `-C` checks, `-I` inserts first in the chain, `-D` deletes one copy. `-w 5`: wait for the xtables lock. */
export function ruleArgs(rule: FirewallRule, op: '-C' | '-I' | '-D'): string[] {
  return ['-w', '5', op, rule.chain, '-i', `${BRIDGE_PREFIX}+`, '-d', rule.destination, '-j', 'REJECT'];
}

/** What a container on a Berth bridge can do with the metadata address. */
export type MetadataAccess =
  /** The rules are in place. `ipv6: false`: only IPv4's (Berth's networks have no IPv6 anyway). */
  | { kind: 'blocked'; ipv6: boolean }
  /** `--allow-metadata`: reachable on purpose; rules an earlier run added are removed. */
  | { kind: 'allowed' }
  /** The rules could not be added (no iptables, not root, no DOCKER-USER chain): reachable. */
  | { kind: 'unprotected'; reason: string };

export type CommandResult = { code: number; output: string };
export type RunCommand = (file: string, args: string[]) => Promise<CommandResult>;

/** Applies (or, when allowed, removes) the rules; idempotent, so it is safe to repeat. */
export async function applyMetadataRules(
  allow: boolean,
  run: RunCommand,
  rules: readonly FirewallRule[] = METADATA_RULES,
): Promise<MetadataAccess> {
  if (allow) {
    for (const rule of rules) {
      // Bounded: a rule added twice (by hand, or two agents) is deleted twice.
      for (let i = 0; i < 8 && (await run(rule.binary, ruleArgs(rule, '-C'))).code === 0; i++)
        await run(rule.binary, ruleArgs(rule, '-D'));
    }
    return { kind: 'allowed' };
  }
  const failed = new Map<FirewallRule, string>();
  for (const rule of rules) {
    if ((await run(rule.binary, ruleArgs(rule, '-C'))).code === 0) continue;
    const inserted = await run(rule.binary, ruleArgs(rule, '-I'));
    if (inserted.code !== 0) failed.set(rule, inserted.output.trim() || `exit code ${inserted.code}`);
  }
  const v4 = [...failed].find(([rule]) => rule.binary === 'iptables');
  if (v4) {
    const [rule, output] = v4;
    return { kind: 'unprotected', reason: `${rule.binary} ${ruleArgs(rule, '-I').join(' ')}: ${output}` };
  }
  const ipv6 =
    rules.some((r) => r.binary === 'ip6tables') && ![...failed.keys()].some((r) => r.binary === 'ip6tables');
  return { kind: 'blocked', ipv6 };
}

/** Runs a command; a missing binary is exit code 127, as a shell would say. */
export const runCommand: RunCommand = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!error) return resolve({ code: 0, output });
      const code = typeof error.code === 'number' ? error.code : error.code === 'ENOENT' ? 127 : 1;
      resolve({ code, output: output || errorMessage(error) });
    });
  });

export interface MetadataGuardOptions {
  allow: boolean;
  log: Logger;
  run?: RunCommand;
  /** How often the rules are checked again: a firewall reload (firewalld) flushes them. Default 60 s. */
  recheckMs?: number;
}

/**
 * Applies the rules at start and, once they are in place, checks them again now and then. Says
 * once, at warn level, when containers can reach the metadata address although they should not,
 * and once when that ends. Never stops the agent: a laptop running `npm start` without root
 * still runs pods.
 */
export class MetadataGuard {
  private timer: NodeJS.Timeout | undefined;
  private last: MetadataAccess | undefined;
  private checking: Promise<MetadataAccess> | undefined;
  /** IPv6 rules that could not be added at start are not tried again every minute. */
  private rules: readonly FirewallRule[] = METADATA_RULES;
  private readonly run: RunCommand;

  constructor(private readonly o: MetadataGuardOptions) {
    this.run = o.run ?? runCommand;
  }

  get access(): MetadataAccess | undefined {
    return this.last;
  }

  async start(): Promise<MetadataAccess> {
    const access = await this.check();
    // Not root, or no iptables: that does not change while the agent runs, so it is said once.
    if (access.kind === 'blocked') {
      this.timer = setInterval(() => void this.check(), this.o.recheckMs ?? 60_000);
      this.timer.unref();
    }
    return access;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check at a time: iptables waits for its lock, so a slow one must not pile up. */
  private check(): Promise<MetadataAccess> {
    this.checking ??= this.checkNow().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkNow(): Promise<MetadataAccess> {
    const access = await applyMetadataRules(this.o.allow, this.run, this.rules);
    if (access.kind === 'blocked' && !access.ipv6)
      this.rules = this.rules.filter((r) => r.binary === 'iptables');
    const before = this.last;
    this.last = access;
    if (before?.kind === access.kind) return access;
    const { log } = this.o;
    if (access.kind === 'unprotected') {
      log.warn(
        'containers can reach the cloud metadata address 169.254.169.254 (and the credentials of this VM): ' +
          'the firewall rule that blocks it could not be added; run berth-agent as root, ' +
          'or start it with --allow-metadata to accept this',
        { reason: access.reason },
      );
    } else if (access.kind === 'allowed') {
      log.info('containers may reach the cloud metadata address (--allow-metadata)');
    } else {
      log.info('containers cannot reach the cloud metadata address', {
        ipv4: '169.254.169.254',
        ipv6: access.ipv6 ? 'fd00:ec2::254' : 'no ip6tables rule (Berth networks are IPv4-only)',
      });
    }
    return access;
  }
}
