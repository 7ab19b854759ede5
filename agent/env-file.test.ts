import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forgetJoinToken, withoutJoinToken } from './env-file.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-env-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FILE = [
  '# berth-agent configuration',
  'BERTH_SERVER=https://cp.example.com',
  'BERTH_JOIN_TOKEN=berth_j_secret',
  'BERTH_NAME=vm-1',
  'BERTH_ENV_FILE=/etc/berth/agent.env',
  '',
].join('\n');

describe('forgetJoinToken', () => {
  it('rewrites the file without the token line, keeping every other line and the mode', async () => {
    const path = join(dir, 'agent.env');
    await writeFile(path, FILE, { mode: 0o600 });
    expect(await forgetJoinToken(path, new Date('2026-01-02T03:04:05Z'))).toBe(true);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('berth_j_secret');
    expect(text.split('\n')).toEqual([
      '# berth-agent configuration',
      'BERTH_SERVER=https://cp.example.com',
      '# The join token was removed by berth-agent once the node held its credential (2026-01-02T03:04:05.000Z).',
      'BERTH_NAME=vm-1',
      'BERTH_ENV_FILE=/etc/berth/agent.env',
      '',
    ]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // Atomic: written beside it and renamed, nothing left behind.
    expect(await readdir(dir)).toEqual(['agent.env']);
    // Nothing more to remove: the file is left alone.
    const before = (await stat(path)).mtimeMs;
    expect(await forgetJoinToken(path)).toBe(false);
    expect((await stat(path)).mtimeMs).toBe(before);
  });

  it('keeps a mode other than 0600 as it was, and leaves a missing file missing', async () => {
    const path = join(dir, 'agent.env');
    await writeFile(path, FILE);
    await chmod(path, 0o640);
    expect(await forgetJoinToken(path)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await forgetJoinToken(join(dir, 'absent.env'))).toBe(false);
    expect(await readdir(dir)).toEqual(['agent.env']);
  });

  it('finds the token however the line is written, and nothing that only looks like it', () => {
    const now = new Date(0);
    for (const line of [
      'BERTH_JOIN_TOKEN=x',
      '  BERTH_JOIN_TOKEN = x',
      'export BERTH_JOIN_TOKEN=x',
      'BERTH_JOIN_TOKEN=',
    ])
      expect(withoutJoinToken(`A=1\n${line}\n`, now)).not.toContain('BERTH_JOIN_TOKEN');
    for (const text of ['# BERTH_JOIN_TOKEN=x\n', 'MY_BERTH_JOIN_TOKEN=x\n', 'BERTH_JOIN_TOKENS=x\n'])
      expect(withoutJoinToken(text, now)).toBeUndefined();
  });
});
