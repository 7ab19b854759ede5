import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { RunCommand } from '../metadata-guard.ts';

/**
 * The agent's iptables nat rules: REDIRECTs of service addresses (and of the DNS address) arriving
 * on a namespace bridge to the agent's listeners on that bridge's gateway. All of them live in one
 * chain of this agent's own, jumped to from PREROUTING, and are rewritten at once with
 * `iptables-restore --noflush` (the whole chain, so a rule never half-exists); two agents on one
 * machine have two chains and never touch each other's.
 */

export interface RedirectRule {
  /** The namespace bridge the packets arrive on. */
  bridge: string;
  /** The address containers connect to (a cluster IP, a headless endpoint's address). */
  destination: string;
  protocol: 'TCP' | 'UDP';
  port: number;
  /** The listener's port on the bridge's gateway. */
  toPort: number;
}

/** `BERTH-SVC-` and 12 hex digits of what tells this agent from others on the machine (≤ 28 characters). */
export function chainName(identity: string): string {
  return `BERTH-SVC-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}`;
}

/** The iptables-restore input that makes `chain` hold exactly `rules` (sorted: equal sets, equal text). */
export function restoreText(chain: string, rules: readonly RedirectRule[]): string {
  const lines = rules.map((r) => {
    const proto = r.protocol.toLowerCase();
    return `-A ${chain} -i ${r.bridge} -d ${r.destination}/32 -p ${proto} -m ${proto} --dport ${r.port} -j REDIRECT --to-ports ${r.toPort}`;
  });
  lines.sort();
  // With --noflush, a chain declared here is emptied first; the other chains are left alone.
  return ['*nat', `:${chain} - [0:0]`, ...lines, 'COMMIT', ''].join('\n');
}

/** The PREROUTING jump: `-C` checks, `-I` inserts first, `-D` deletes one copy. */
export function jumpArgs(chain: string, op: '-C' | '-I' | '-D'): string[] {
  return ['-w', '5', '-t', 'nat', op, 'PREROUTING', '-j', chain];
}

export type RestoreCommand = (text: string) => Promise<{ code: number; output: string }>;

/** Thin runner: the chain, its jump, and its removal. */
export class NatChain {
  private last: string | undefined;

  constructor(
    readonly chain: string,
    private readonly run: RunCommand,
    private readonly restore: RestoreCommand,
  ) {}

  /** Writes the chain (when its text changed) and makes sure PREROUTING jumps to it. */
  async apply(rules: readonly RedirectRule[]): Promise<void> {
    const text = restoreText(this.chain, rules);
    // No jump: the rules were flushed behind the agent's back (a firewall reload), chain and all.
    const jumps = (await this.run('iptables', jumpArgs(this.chain, '-C'))).code === 0;
    if (text !== this.last || !jumps) {
      const r = await this.restore(text);
      if (r.code !== 0) throw new Error(`iptables-restore: ${r.output.trim() || `exit code ${r.code}`}`);
      this.last = text;
    }
    if (jumps) return;
    const r = await this.run('iptables', jumpArgs(this.chain, '-I'));
    if (r.code !== 0) throw new Error(`iptables ${jumpArgs(this.chain, '-I').join(' ')}: ${r.output.trim()}`);
  }

  /** Removes the jump (every copy) and the chain. */
  async remove(): Promise<void> {
    for (let i = 0; i < 8 && (await this.run('iptables', jumpArgs(this.chain, '-C'))).code === 0; i++)
      await this.run('iptables', jumpArgs(this.chain, '-D'));
    await this.run('iptables', ['-w', '5', '-t', 'nat', '-F', this.chain]);
    await this.run('iptables', ['-w', '5', '-t', 'nat', '-X', this.chain]);
    this.last = undefined;
  }
}

/** `iptables-restore --noflush` fed `text`; a missing binary is exit code 127. */
export const runRestore: RestoreCommand = (text) =>
  new Promise((resolve) => {
    const child = spawn('iptables-restore', ['-w', '5', '--noflush'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ code: e.code === 'ENOENT' ? 127 : 1, output: e.message }),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
    child.stdin.end(text);
  });
