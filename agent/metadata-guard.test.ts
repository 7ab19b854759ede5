import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';
import {
  applyMetadataRules,
  type CommandResult,
  METADATA_RULES,
  MetadataGuard,
  type RunCommand,
  ruleArgs,
} from './metadata-guard.ts';

/** A firewall in memory: which rules are present, and what each binary answers. */
function firewall(o: { present?: string[]; broken?: Record<string, CommandResult> } = {}) {
  const rules: string[] = [...(o.present ?? [])];
  const calls: string[] = [];
  const run: RunCommand = async (file, args) => {
    const line = `${file} ${args.join(' ')}`;
    calls.push(line);
    const broken = o.broken?.[file];
    if (broken) return broken;
    const op = args[2];
    const rule = `${file} ${args.slice(3).join(' ')}`;
    if (op === '-C') return { code: rules.includes(rule) ? 0 : 1, output: '' };
    if (op === '-I') rules.unshift(rule);
    if (op === '-D') rules.splice(rules.indexOf(rule), 1);
    return { code: 0, output: '' };
  };
  return { rules, calls, run };
}

const key = (i: number) =>
  `${METADATA_RULES[i]!.binary} ${ruleArgs(METADATA_RULES[i]!, '-C').slice(3).join(' ')}`;

describe('metadata firewall rules', () => {
  it('match every Berth bridge and reject the metadata addresses, first in DOCKER-USER and INPUT', () => {
    expect(ruleArgs(METADATA_RULES[0]!, '-I')).toEqual(
      '-w 5 -I DOCKER-USER -i bth+ -d 169.254.169.254/32 -j REJECT'.split(' '),
    );
    expect(METADATA_RULES.map((r) => `${r.binary} ${r.chain} ${r.destination}`)).toEqual([
      'iptables DOCKER-USER 169.254.169.254/32',
      'iptables INPUT 169.254.169.254/32',
      'ip6tables DOCKER-USER fd00:ec2::254/128',
      'ip6tables INPUT fd00:ec2::254/128',
    ]);
  });

  it('adds each missing rule once, and nothing when they are there (idempotent)', async () => {
    const fw = firewall();
    expect(await applyMetadataRules(false, fw.run)).toEqual({ kind: 'blocked', ipv6: true });
    expect(fw.rules).toHaveLength(4);
    const calls = fw.calls.length;
    expect(await applyMetadataRules(false, fw.run)).toEqual({ kind: 'blocked', ipv6: true });
    expect(fw.rules).toHaveLength(4);
    expect(fw.calls.slice(calls).every((c) => c.includes(' -C '))).toBe(true);
  });

  it('is unprotected, with the reason, when iptables is missing or not permitted', async () => {
    const missing = firewall({ broken: { iptables: { code: 127, output: 'spawn iptables ENOENT' } } });
    expect(await applyMetadataRules(false, missing.run)).toEqual({
      kind: 'unprotected',
      reason: expect.stringMatching(/^iptables -w 5 -I DOCKER-USER .*: spawn iptables ENOENT$/),
    });
    const denied = firewall({
      broken: {
        iptables: { code: 4, output: 'iptables v1.8.9 (nf_tables): Permission denied (you must be root)\n' },
      },
    });
    const access = await applyMetadataRules(false, denied.run);
    expect(access.kind === 'unprotected' && access.reason).toMatch(/you must be root\)$/);
  });

  it('stays blocked when only the IPv6 rules fail: Berth networks have no IPv6', async () => {
    const fw = firewall({
      broken: { ip6tables: { code: 1, output: "chain `DOCKER-USER' is incompatible" } },
    });
    expect(await applyMetadataRules(false, fw.run)).toEqual({ kind: 'blocked', ipv6: false });
  });

  it('with --allow-metadata removes the rules an earlier run added (every copy) and adds none', async () => {
    const fw = firewall({ present: [key(0), key(0), key(1)] });
    expect(await applyMetadataRules(true, fw.run)).toEqual({ kind: 'allowed' });
    expect(fw.rules).toEqual([]);
    expect(fw.calls.some((c) => c.includes(' -I '))).toBe(false);
  });
});

describe('MetadataGuard', () => {
  const logger = () => {
    const lines: string[] = [];
    return { lines, log: createLogger('info', (l) => lines.push(l)) };
  };

  it('warns once when containers can reach the metadata address, and never stops the agent', async () => {
    const { lines, log } = logger();
    const fw = firewall({
      broken: { iptables: { code: 4, output: 'Permission denied (you must be root)' } },
    });
    const guard = new MetadataGuard({ allow: false, log, run: fw.run, recheckMs: 5 });
    expect((await guard.start()).kind).toBe('unprotected');
    await new Promise((r) => setTimeout(r, 50));
    guard.stop();
    const warnings = lines.filter((l) => JSON.parse(l).level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/can reach the cloud metadata address 169\.254\.169\.254.*--allow-metadata/);
    expect(warnings[0]).toMatch(/you must be root/);
  });

  it('checks again only the rules it could add: a failed IPv6 rule is not retried every minute', async () => {
    const { log } = logger();
    const fw = firewall({ broken: { ip6tables: { code: 1, output: 'incompatible' } } });
    const guard = new MetadataGuard({ allow: false, log, run: fw.run, recheckMs: 5 });
    expect(await guard.start()).toEqual({ kind: 'blocked', ipv6: false });
    const atStart = fw.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    guard.stop();
    expect(fw.calls.length).toBeGreaterThan(atStart);
    expect(fw.calls.slice(atStart).every((c) => c.startsWith('iptables '))).toBe(true);
    expect(guard.access).toEqual({ kind: 'blocked', ipv6: false });
  });

  it('puts the rules back when a firewall reload flushed them', async () => {
    const { log } = logger();
    const fw = firewall();
    const guard = new MetadataGuard({ allow: false, log, run: fw.run, recheckMs: 5 });
    await guard.start();
    fw.rules.splice(0);
    await new Promise((r) => setTimeout(r, 50));
    guard.stop();
    expect(fw.rules).toHaveLength(4);
  });
});
