import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetJoinToken } from '../../agent/env-file.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const script = join(repo, 'infra', 'install-agent.sh');

let dir: string;
let bundle: string;
const bundleSource = 'console.log(JSON.stringify(process.argv.slice(2)));\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-install-'));
  bundle = join(dir, 'berth-agent.mjs');
  await writeFile(bundle, bundleSource);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the installer with only PATH inherited, so a developer's BERTH_* variables cannot leak in. */
async function install(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('bash', [script, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function mode(path: string) {
  return (await stat(path)).mode & 0o777;
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(`/${rel}`);
  }
  return out.sort();
}

describe('infra/install-agent.sh --root', () => {
  it('writes the bundle, wrapper, env file, unit and data dir with the right modes', async () => {
    const root = join(dir, 'full');
    const r = await install([
      '--root',
      root,
      '--server',
      'https://berth.example.com/',
      '--join-token',
      'jt_abc.DEF-123',
      '--name',
      'vm-1',
      '--labels',
      'region=eu,berth.dev/tier=web',
      '--address',
      '10.0.0.5',
      '--bundle',
      bundle,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    expect(await listFiles(root)).toEqual([
      '/etc/berth/agent.env',
      '/etc/systemd/system/berth-agent.service',
      '/usr/local/bin/berth-agent',
      '/usr/local/lib/berth/berth-agent.mjs',
    ]);

    const installedBundle = join(root, 'usr/local/lib/berth/berth-agent.mjs');
    expect(await readFile(installedBundle, 'utf8')).toBe(bundleSource);
    expect(await mode(installedBundle)).toBe(0o644);

    const envPath = join(root, 'etc/berth/agent.env');
    expect(await mode(envPath)).toBe(0o600);
    expect(parseEnvFile(await readFile(envPath, 'utf8'))).toEqual({
      BERTH_SERVER: 'https://berth.example.com',
      BERTH_JOIN_TOKEN: 'jt_abc.DEF-123',
      BERTH_NAME: 'vm-1',
      BERTH_LABELS: 'region=eu,berth.dev/tier=web',
      BERTH_ADDRESS: '10.0.0.5',
      BERTH_DATA_DIR: '/var/lib/berth-agent',
      BERTH_ENV_FILE: '/etc/berth/agent.env',
    });

    const unitPath = join(root, 'etc/systemd/system/berth-agent.service');
    const unit = await readFile(unitPath, 'utf8');
    expect(unit).toBe(await readFile(join(repo, 'infra/berth-agent.service'), 'utf8'));
    expect(await mode(unitPath)).toBe(0o644);
    for (const line of [
      'After=docker.service network-online.target',
      'EnvironmentFile=/etc/berth/agent.env',
      'ExecStart=/usr/local/bin/berth-agent',
      'Restart=always',
      // The agent exits 78 when its node was deleted or reset: it must stay down, not loop.
      'RestartPreventExitStatus=78',
      'WantedBy=multi-user.target',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }

    expect(await mode(join(root, 'var/lib/berth-agent'))).toBe(0o700);
  });

  it('installs a wrapper that runs the bundle with Node and passes the arguments through', async () => {
    const root = join(dir, 'wrapper');
    const r = await install([
      '--root',
      root,
      '--server',
      'http://cp:8080',
      '--join-token',
      't',
      '--name',
      'n',
      '--bundle',
      bundle,
    ]);
    expect(r.code).toBe(0);
    const wrapperPath = join(root, 'usr/local/bin/berth-agent');
    expect(await mode(wrapperPath)).toBe(0o755);
    const wrapper = await readFile(wrapperPath, 'utf8');
    expect(wrapper.startsWith('#!/bin/sh\n')).toBe(true);
    expect(wrapper).toContain('"/usr/local/lib/berth/berth-agent.mjs" "$@"');

    // The wrapper names the bundle's path on the target machine; point a copy at the scratch root.
    const local = join(dir, 'wrapper-local');
    await writeFile(local, wrapper.replace('/usr/local/lib/berth/', `${join(root, 'usr/local/lib/berth')}/`));
    await chmod(local, 0o755);
    const { stdout } = await run(local, ['--version', 'a b']);
    expect(JSON.parse(stdout)).toEqual(['--version', 'a b']);
  });

  it('takes its settings from BERTH_* variables and defaults the optional ones to empty', async () => {
    const root = join(dir, 'env');
    const r = await install(['--root', root, '--bundle', bundle], {
      BERTH_SERVER: 'https://cp.example.com',
      BERTH_JOIN_TOKEN: 'tok',
      BERTH_NAME: 'edge-2',
    });
    expect(r.code).toBe(0);
    expect(parseEnvFile(await readFile(join(root, 'etc/berth/agent.env'), 'utf8'))).toEqual({
      BERTH_SERVER: 'https://cp.example.com',
      BERTH_JOIN_TOKEN: 'tok',
      BERTH_NAME: 'edge-2',
      BERTH_LABELS: '',
      BERTH_ADDRESS: '',
      BERTH_DATA_DIR: '/var/lib/berth-agent',
      BERTH_ENV_FILE: '/etc/berth/agent.env',
    });
  });

  it('re-installs in place: a new bundle and token replace the old ones, nothing is left behind', async () => {
    const root = join(dir, 'again');
    const base = ['--root', root, '--server', 'https://cp', '--name', 'n'];
    expect((await install([...base, '--join-token', 'first', '--bundle', bundle])).code).toBe(0);
    const newer = join(dir, 'newer.mjs');
    await writeFile(newer, '// v2\n');
    expect((await install([...base, '--join-token', 'second', '--bundle', newer])).code).toBe(0);
    expect(await readFile(join(root, 'usr/local/lib/berth/berth-agent.mjs'), 'utf8')).toBe('// v2\n');
    const env = parseEnvFile(await readFile(join(root, 'etc/berth/agent.env'), 'utf8'));
    expect(env.BERTH_JOIN_TOKEN).toBe('second');
    expect(await mode(join(root, 'etc/berth/agent.env'))).toBe(0o600);
    expect((await listFiles(root)).length).toBe(4);
  });

  it('writes an env file the agent strips of its join token once registered, mode kept', async () => {
    const root = join(dir, 'strip');
    const r = await install([
      '--root',
      root,
      '--server',
      'https://cp',
      '--join-token',
      'berth_j_spent-once',
      '--name',
      'n',
      '--bundle',
      bundle,
    ]);
    expect(r.code).toBe(0);
    const envPath = join(root, 'etc/berth/agent.env');
    const before = parseEnvFile(await readFile(envPath, 'utf8'));
    // The agent learns the file's path from the file itself (systemd passes it as BERTH_ENV_FILE).
    expect(before.BERTH_ENV_FILE).toBe('/etc/berth/agent.env');
    expect(await forgetJoinToken(envPath)).toBe(true);
    const after = parseEnvFile(await readFile(envPath, 'utf8'));
    const { BERTH_JOIN_TOKEN, ...rest } = before;
    expect(BERTH_JOIN_TOKEN).toBe('berth_j_spent-once');
    expect(after).toEqual(rest);
    expect(await readFile(envPath, 'utf8')).not.toContain('berth_j_spent-once');
    expect(await mode(envPath)).toBe(0o600);
    expect(await readdir(join(root, 'etc/berth'))).toEqual(['agent.env']);
  });

  it('re-installs a node that holds its credential without a join token', async () => {
    const root = join(dir, 'upgrade');
    const base = ['--root', root, '--server', 'https://cp', '--name', 'n', '--bundle', bundle];
    const refused = await install(base);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--join-token is required');
    await mkdir(join(root, 'var/lib/berth-agent'), { recursive: true });
    await writeFile(join(root, 'var/lib/berth-agent/node.json'), '{"nodeToken":"berth_n_x"}');
    const r = await install(base);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const env = parseEnvFile(await readFile(join(root, 'etc/berth/agent.env'), 'utf8'));
    expect(env).not.toHaveProperty('BERTH_JOIN_TOKEN');
    expect(env).toMatchObject({ BERTH_SERVER: 'https://cp', BERTH_NAME: 'n' });
  });

  describe('--bundle-url', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/agent/berth-agent.mjs') res.end(bundleSource);
        else res.writeHead(404).end('not found');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('downloads the bundle', async () => {
      const root = join(dir, 'url');
      const r = await install([
        '--root',
        root,
        '--server',
        base,
        '--join-token',
        't',
        '--name',
        'n',
        '--bundle-url',
        `${base}/agent/berth-agent.mjs`,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(await readFile(join(root, 'usr/local/lib/berth/berth-agent.mjs'), 'utf8')).toBe(bundleSource);
    });

    it('fails clearly, installing nothing, when the download fails', async () => {
      const root = join(dir, 'url-404');
      const r = await install([
        '--root',
        root,
        '--server',
        base,
        '--join-token',
        't',
        '--name',
        'n',
        '--bundle-url',
        `${base}/missing.mjs`,
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`could not download the agent bundle from ${base}/missing.mjs`);
      await expect(stat(root)).rejects.toThrow();
    });
  });

  it.each([
    [['--server', 'ftp://cp'], '--server must be an http(s) URL'],
    [['--server', 'https://cp/"; rm -rf /'], '--server must be an http(s) URL'],
    [['--join-token', 'a b'], '--join-token holds unexpected characters'],
    [['--name', 'Not_A_Label'], "node name 'Not_A_Label' is not a DNS-1123 label"],
    [['--labels', 'region=eu,=x'], "label '=x' must look like key=value"],
    [['--address', '10.0.0.1;reboot'], '--address must be an IP address'],
    [['--bundle', '/nonexistent/berth-agent.mjs'], "bundle '/nonexistent/berth-agent.mjs' does not exist"],
    [['--node', 'node'], '--node must be an absolute path'],
    [['--frobnicate', '1'], "unknown option '--frobnicate'"],
    [['--server'], '--server needs a value'],
  ])('rejects %j before writing anything', async (bad, message) => {
    const root = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await install([
      '--root',
      root,
      '--server',
      'https://cp',
      '--join-token',
      't',
      '--name',
      'n',
      '--bundle',
      bundle,
      ...bad,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    await expect(stat(root)).rejects.toThrow();
  });

  it('requires the server and the join token', async () => {
    const root = join(dir, 'missing');
    const noServer = await install(['--root', root, '--join-token', 't', '--bundle', bundle]);
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toContain('--server URL is required');
    const noToken = await install(['--root', root, '--server', 'https://cp', '--bundle', bundle]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('--join-token is required');
  });

  it('refuses a Node older than 20 and says what is needed', async () => {
    const oldNode = join(dir, 'node18');
    await writeFile(oldNode, '#!/bin/sh\nif [ "$1" = -p ]; then echo 18; else echo v18.19.0; fi\n');
    await chmod(oldNode, 0o755);
    const root = join(dir, 'old-node');
    const r = await install([
      '--root',
      root,
      '--server',
      'https://cp',
      '--join-token',
      't',
      '--name',
      'n',
      '--bundle',
      bundle,
      '--node',
      oldNode,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is Node v18.19.0; berth-agent needs Node 20 or newer');
    await expect(stat(root)).rejects.toThrow();
  });
});
