import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseCli, USAGE } from './config.ts';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const r = parseCli(argv, { BERTH_DATA_DIR: '/d', ...env });
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r.config;
};
const problems = (argv: string[], env: Record<string, string> = {}) => {
  try {
    parseCli(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('parseCli', () => {
  it('reads flags, in both --k v and --k=v forms', () => {
    const c = run([
      '--server',
      'https://cp.example.com/',
      '--join-token=abc',
      '--name',
      'vm-1',
      '--labels',
      'region=eu, disk=ssd',
      '--address',
      '10.0.0.5',
      '--data-dir',
      '/var/x',
    ]);
    expect(c).toEqual({
      server: 'https://cp.example.com',
      joinToken: 'abc',
      name: 'vm-1',
      labels: { region: 'eu', disk: 'ssd' },
      address: '10.0.0.5',
      dataDir: '/var/x',
    });
  });

  it('falls back to BERTH_* variables, flags winning', () => {
    const c = run(['--name', 'flag-name'], {
      BERTH_SERVER: 'http://127.0.0.1:8080',
      BERTH_JOIN_TOKEN: 't',
      BERTH_NAME: 'env-name',
      BERTH_LABELS: 'a=b',
      BERTH_ADDRESS: '127.0.0.1',
    });
    expect(c).toMatchObject({
      server: 'http://127.0.0.1:8080',
      joinToken: 't',
      name: 'flag-name',
      labels: { a: 'b' },
      address: '127.0.0.1',
      dataDir: '/d',
    });
  });

  it('the join token is optional (a registered node reuses its credential)', () => {
    expect(run(['--server', 'http://x', '--name', 'n']).joinToken).toBeUndefined();
  });

  it('lists every problem at once, clearly', () => {
    const p = problems([
      '--labels',
      'nokey,bad key=v',
      '--address',
      'not-an-ip',
      '--bogus',
      '--name',
      'Bad_Name',
    ]);
    expect(p).toContain('unknown argument "--bogus" (see --help)');
    expect(p).toContain('--server (or BERTH_SERVER) is required');
    expect(p.some((x) => x.startsWith('--name "Bad_Name" must be a DNS-1123 label'))).toBe(true);
    expect(p).toContain('--labels entry "nokey" must look like key=value');
    expect(p).toContain('--labels key "bad key" is not a valid label key');
    expect(p).toContain('--address must be an IP address, got "not-an-ip"');
  });

  it('rejects a non-URL server and a flag without value', () => {
    expect(problems(['--server', 'cp.example.com', '--name'])).toEqual([
      '--name needs a value',
      '--server must be an http(s) URL, got "cp.example.com"',
      '--name (or BERTH_NAME) is required',
    ]);
  });

  it('reads --pids-limit and --allow-metadata, and their variables', () => {
    const base = ['--server', 'http://x', '--name', 'n'];
    expect(run(base)).not.toHaveProperty('pidsLimit');
    expect(run(base)).not.toHaveProperty('allowMetadata');
    expect(run([...base, '--pids-limit', '512']).pidsLimit).toBe(512);
    expect(run([...base, '--pids-limit=0']).pidsLimit).toBe(0);
    expect(run(base, { BERTH_PIDS_LIMIT: '100' }).pidsLimit).toBe(100);
    // A switch: alone it means true and takes no value, so the next flag is still read.
    expect(run([...base, '--allow-metadata', '--data-dir', '/x'])).toMatchObject({
      allowMetadata: true,
      dataDir: '/x',
    });
    expect(run([...base, '--allow-metadata=false']).allowMetadata).toBeUndefined();
    expect(run(base, { BERTH_ALLOW_METADATA: '1' }).allowMetadata).toBe(true);
    expect(run(base, { BERTH_ALLOW_METADATA: '0' }).allowMetadata).toBeUndefined();
    expect(run([...base, '--allow-metadata=0'], { BERTH_ALLOW_METADATA: '1' }).allowMetadata).toBeUndefined();
  });

  it('reads --node-port-address and --dns-upstream, and refuses what is not an IPv4 address', () => {
    const base = ['--server', 'http://x', '--name', 'n'];
    expect(run([...base, '--node-port-address', '10.0.0.9']).nodePortAddress).toBe('10.0.0.9');
    expect(run(base, { BERTH_DNS_UPSTREAM: '10.0.0.53,127.0.0.1:5353' }).dnsUpstreams).toEqual([
      { host: '10.0.0.53', port: 53 },
      { host: '127.0.0.1', port: 5353 },
    ]);
    expect(run(base)).not.toHaveProperty('dnsUpstreams');
    expect(() => run([...base, '--node-port-address', 'eth0'])).toThrow(
      /--node-port-address must be an IPv4/,
    );
    expect(() => run([...base, '--dns-upstream', 'resolver.local'])).toThrow(/--dns-upstream takes IPv4/);
  });

  it('reads --ca-file (BERTH_CA_FILE) for the control plane’s certificate, and refuses one it cannot use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ca-'));
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dir, 'ca.pem'), pem);
    writeFileSync(join(dir, 'other.txt'), 'hello');
    const base = ['--server', 'https://x', '--name', 'n'];
    expect(run([...base, '--ca-file', join(dir, 'ca.pem')]).serverTls).toEqual({ ca: pem });
    expect(run(base, { BERTH_CA_FILE: join(dir, 'ca.pem') }).serverTls).toEqual({ ca: pem });
    expect(run(base)).not.toHaveProperty('serverTls');
    expect(() => run([...base, '--ca-file', join(dir, 'absent.pem')])).toThrow(/--ca-file .* cannot be read/);
    expect(() => run([...base, '--ca-file', join(dir, 'other.txt')])).toThrow(/holds no PEM certificate/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a pids limit that is not a whole number, and a switch value that is not one', () => {
    const base = ['--server', 'http://x', '--name', 'n'];
    expect(problems([...base, '--pids-limit', '-1'])).toEqual([
      '--pids-limit must be a whole number (0 for no limit), got "-1"',
    ]);
    expect(problems([...base, '--pids-limit', '1.5', '--allow-metadata=maybe'])).toEqual([
      '--pids-limit must be a whole number (0 for no limit), got "1.5"',
      '--allow-metadata takes true or false (or 1 or 0), got "maybe"',
    ]);
    expect(problems(base, { BERTH_PIDS_LIMIT: 'lots', BERTH_ALLOW_METADATA: 'constructor' })).toEqual([
      '--pids-limit must be a whole number (0 for no limit), got "lots"',
      '--allow-metadata takes true or false (or 1 or 0), got "constructor"',
    ]);
  });

  it('documents the new flags and their variables in --help', () => {
    for (const text of [
      '--pids-limit N',
      'BERTH_PIDS_LIMIT',
      'default 4096',
      '--allow-metadata',
      'BERTH_ALLOW_METADATA=1',
    ])
      expect(USAGE).toContain(text);
  });

  it('answers --help and --version', () => {
    expect(parseCli(['--help'], {}).kind).toBe('help');
    expect(parseCli(['--version'], {}).kind).toBe('version');
  });

  it('reads --extended-resource, repeatable, over BERTH_EXTENDED_RESOURCES, and names a bad one', () => {
    const base = ['--server', 'http://cp:8080', '--name', 'gpu-1'];
    const run = (argv: string[], env: Record<string, string> = {}) => {
      const action = parseCli([...base, ...argv], env);
      return action.kind === 'run' ? action.config.extendedResources : undefined;
    };
    expect(
      run(['--extended-resource', 'nvidia.com/gpu=2', '--extended-resource=example.com/dongle=1']),
    ).toEqual({
      'nvidia.com/gpu': 2,
      'example.com/dongle': 1,
    });
    expect(run([], { BERTH_EXTENDED_RESOURCES: 'nvidia.com/gpu=4, example.com/dongle=1' })).toEqual({
      'nvidia.com/gpu': 4,
      'example.com/dongle': 1,
    });
    expect(
      run(['--extended-resource', 'nvidia.com/gpu=1'], { BERTH_EXTENDED_RESOURCES: 'nvidia.com/gpu=4' }),
    ).toEqual({ 'nvidia.com/gpu': 1 });
    expect(run([])).toBeUndefined();
    expect(() => parseCli([...base, '--extended-resource', 'gpu=2'], {})).toThrow(
      /no extended resource name/,
    );
    expect(USAGE).toContain('--extended-resource NAME=COUNT');
  });
});
