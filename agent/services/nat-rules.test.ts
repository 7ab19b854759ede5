import { describe, expect, it } from 'vitest';
import type { RunCommand } from '../metadata-guard.ts';
import { chainName, jumpArgs, NatChain, restoreText } from './nat-rules.ts';

describe('nat rules', () => {
  it('names a chain per agent identity, short enough for iptables', () => {
    const a = chainName('engine-1\n/var/lib/docker\nnode-a');
    expect(a).toMatch(/^BERTH-SVC-[0-9a-f]{12}$/);
    expect(a.length).toBeLessThanOrEqual(28);
    expect(chainName('engine-2\n/var/lib/docker\nnode-a')).not.toBe(a);
  });

  it('writes the whole chain as iptables-restore input, in a stable order', () => {
    const rules = [
      { bridge: 'bth1', destination: '10.96.0.10', protocol: 'TCP' as const, port: 80, toPort: 40001 },
      { bridge: 'bth0', destination: '169.254.20.10', protocol: 'UDP' as const, port: 53, toPort: 40000 },
    ];
    const text = restoreText('BERTH-SVC-x', rules);
    expect(text).toBe(
      [
        '*nat',
        ':BERTH-SVC-x - [0:0]',
        '-A BERTH-SVC-x -i bth0 -d 169.254.20.10/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 40000',
        '-A BERTH-SVC-x -i bth1 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 40001',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(restoreText('BERTH-SVC-x', [...rules].reverse())).toBe(text);
    expect(restoreText('BERTH-SVC-x', [])).toBe('*nat\n:BERTH-SVC-x - [0:0]\nCOMMIT\n');
  });

  it('jumps from PREROUTING once, rewrites only changed chains, and removes both on stop', async () => {
    const jumps: string[] = [];
    const calls: string[] = [];
    const run: RunCommand = async (_file, args) => {
      calls.push(args.join(' '));
      const op = args[4];
      if (args.join(' ') === jumpArgs('C', '-C').join(' ')) return { code: jumps.length ? 0 : 1, output: '' };
      if (op === '-I') jumps.push('C');
      if (op === '-D') jumps.pop();
      return { code: 0, output: '' };
    };
    const restored: string[] = [];
    const chain = new NatChain('C', run, async (text) => {
      restored.push(text);
      return { code: 0, output: '' };
    });
    await chain.apply([]);
    await chain.apply([]);
    expect(jumps).toEqual(['C']);
    expect(restored).toHaveLength(1);
    await chain.apply([{ bridge: 'b', destination: '10.0.0.1', protocol: 'TCP', port: 1, toPort: 2 }]);
    expect(restored).toHaveLength(2);
    // Flushed behind its back (a firewall reload): the same rules are written again, with the jump.
    jumps.length = 0;
    await chain.apply([{ bridge: 'b', destination: '10.0.0.1', protocol: 'TCP', port: 1, toPort: 2 }]);
    expect(restored).toHaveLength(3);
    expect(jumps).toEqual(['C']);
    await chain.remove();
    expect(jumps).toEqual([]);
    expect(calls.slice(-2)).toEqual(['-w 5 -t nat -F C', '-w 5 -t nat -X C']);
  });

  it('fails when iptables-restore does', async () => {
    const chain = new NatChain(
      'C',
      async () => ({ code: 0, output: '' }),
      async () => ({ code: 4, output: 'denied' }),
    );
    await expect(chain.apply([])).rejects.toThrow(/iptables-restore: denied/);
  });
});
