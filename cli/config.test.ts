import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveConnection, writeConfig } from './config.ts';

let dir: string;
let env: Record<string, string | undefined>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
  env = { BERTH_CONFIG: join(dir, 'config.json') };
  await writeConfig(env, {
    current: 'prod',
    contexts: {
      prod: { server: 'https://berth.example.com', token: 'prod-token', namespace: 'web' },
      staging: { server: 'https://staging.example.com', token: 'staging-token' },
    },
  });
});

describe('resolveConnection', () => {
  it('uses the current context', async () => {
    expect(await resolveConnection({}, env, dir)).toEqual({
      server: 'https://berth.example.com',
      token: 'prod-token',
      namespace: 'web',
      tokenSource: 'context prod',
    });
  });

  it('lets --context, then env, then flags override', async () => {
    expect(await resolveConnection({ context: 'staging' }, env, dir)).toMatchObject({
      server: 'https://staging.example.com',
      token: 'staging-token',
      namespace: 'default',
    });
    expect(
      await resolveConnection({}, { ...env, BERTH_TOKEN: 'env-token', BERTH_NAMESPACE: 'ns' }, dir),
    ).toMatchObject({
      server: 'https://berth.example.com',
      token: 'env-token',
      namespace: 'ns',
    });
    expect(
      await resolveConnection({ token: 'flag', namespace: 'x' }, { ...env, BERTH_TOKEN: 'env-token' }, dir),
    ).toMatchObject({
      token: 'flag',
      namespace: 'x',
    });
  });

  it("never sends a context's token to another server", async () => {
    const c = await resolveConnection({ server: 'https://evil.example.com' }, env, dir);
    expect(c.token).toBeUndefined();
  });

  it('falls back to localhost and the admin token of the local data dir', async () => {
    const local = await mkdtemp(join(tmpdir(), 'berth-local-'));
    await mkdir(join(local, '.berth'));
    await writeFile(join(local, '.berth', 'admin-token'), 'local-admin\n');
    const bare = { BERTH_CONFIG: join(local, 'none.json') };
    expect(await resolveConnection({}, bare, local)).toMatchObject({
      server: 'http://localhost:8080',
      token: 'local-admin',
      namespace: 'default',
    });
    await mkdir(join(local, 'data'));
    await writeFile(join(local, 'data', 'admin-token'), 'other');
    expect((await resolveConnection({}, { ...bare, BERTH_DATA_DIR: 'data' }, local)).token).toBe('other');
    expect(
      (await resolveConnection({ server: 'https://remote.example.com' }, bare, local)).token,
    ).toBeUndefined();
  });

  it('rejects an unknown --context and a server that is not a URL', async () => {
    await expect(resolveConnection({ context: 'nope' }, env, dir)).rejects.toThrow(/no context named "nope"/);
    await expect(resolveConnection({ server: 'berth.example.com' }, env, dir)).rejects.toThrow(
      /http\(s\) URL/,
    );
  });
});
