import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore } from './state-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('state store', () => {
  it('keeps the credential in a 0600 file and reads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-state-'));
    dirs.push(dir);
    const store = new StateStore(join(dir, 'data'));
    await store.init();
    expect(await store.loadCredential()).toBeUndefined();
    const cred = { server: 'http://x', name: 'n', nodeId: 'id', nodeToken: 'secret', labels: { a: 'b' } };
    await store.saveCredential(cred);
    expect(await store.loadCredential()).toEqual(cred);
    expect((await stat(join(dir, 'data', 'node.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
  });

  it('writes assignments atomically, the last write winning, no temporary file left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-state-'));
    dirs.push(dir);
    const store = new StateStore(dir);
    await store.init();
    const base = { server: 's', name: 'n', replicas: [], savedAt: new Date().toISOString() };
    await Promise.all([1, 2, 3].map((i) => store.saveAssignments({ ...base, etag: `"${i}"` })));
    expect((await store.loadAssignments())?.etag).toBe('"3"');
    expect(await readdir(dir)).toEqual(['assignments.json']);
  });
});
