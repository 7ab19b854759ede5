import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { glob, globRegExp, readManifests } from './manifest-files.ts';
import { captureIo } from './testing/stub-server.ts';

describe('globRegExp', () => {
  it.each([
    ['*.yaml', 'web.yaml', true],
    ['*.yaml', 'deploy/web.yaml', false],
    ['deploy/**/*.yaml', 'deploy/web.yaml', true],
    ['deploy/**/*.yaml', 'deploy/a/b/web.yaml', true],
    ['deploy/**', 'deploy/a/b', true],
    ['web.y?ml', 'web.yml', false],
    ['web.y?ml', 'web.yaml', true],
    ['[ab].yaml', 'a.yaml', true],
    ['[!ab].yaml', 'a.yaml', false],
    ['a+b.yaml', 'a+b.yaml', true],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(globRegExp(pattern).test(path)).toBe(expected);
  });
});

describe('readManifests', () => {
  let dir: string;
  const secret = (name: string) => `apiVersion: berth.dev/v1\nkind: Secret\nmetadata: {name: ${name}}\n`;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-files-'));
    await mkdir(join(dir, 'deploy', 'prod'), { recursive: true });
    await writeFile(join(dir, 'deploy', 'web.yaml'), secret('web'));
    await writeFile(join(dir, 'deploy', 'prod', 'api.yml'), secret('api'));
    await writeFile(join(dir, 'deploy', 'README.md'), '# not a manifest');
  });

  it('expands globs relative to the working directory, sorted', async () => {
    expect((await glob('deploy/**/*.y*ml', dir)).map((p) => p.slice(dir.length + 1))).toEqual([
      'deploy/prod/api.yml',
      'deploy/web.yaml',
    ]);
    const files = await readManifests(['deploy/**/*.yml'], captureIo({ cwd: dir }));
    expect(files.map((f) => f.source)).toEqual(['deploy/prod/api.yml']);
  });

  it('reads the manifests of a directory (not recursive), skipping other files', async () => {
    const files = await readManifests(['deploy'], captureIo({ cwd: dir }));
    expect(files.map((f) => f.source)).toEqual(['deploy/web.yaml']);
  });

  it('says which path is missing or matches nothing', async () => {
    await expect(readManifests(['nope.yaml'], captureIo({ cwd: dir }))).rejects.toThrow(
      /nope\.yaml does not exist/,
    );
    await expect(readManifests(['*.json'], captureIo({ cwd: dir }))).rejects.toThrow(
      /no files match \*\.json/,
    );
    await expect(readManifests([], captureIo({ cwd: dir }))).rejects.toThrow(/no manifests given/);
  });
});
