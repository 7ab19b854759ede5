import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimEngine } from './engine-claim.ts';

describe('claimEngine', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-claim-'));
    dirs.push(d);
    return d;
  };

  it('lets one live process hold an engine, and the next one have it once released', () => {
    const d = dir();
    const first = claimEngine({ dir: d, engine: 'unix:///a.sock', pid: process.pid });
    expect(first.claimed).toBe(true);
    // Another process (this test's parent stands in for one that is alive) is refused.
    const second = claimEngine({ dir: d, engine: 'unix:///a.sock', pid: process.ppid });
    expect(second).toMatchObject({ claimed: false, heldBy: process.pid });
    // Another engine is another claim.
    expect(claimEngine({ dir: d, engine: 'unix:///b.sock', pid: process.ppid }).claimed).toBe(true);
    if (first.claimed) first.release();
    expect(claimEngine({ dir: d, engine: 'unix:///a.sock', pid: process.ppid }).claimed).toBe(true);
  });

  it('takes over a claim whose process is gone', () => {
    const d = dir();
    // Claimed by a process that no longer exists (pids stay below 2^22 on Linux).
    expect(claimEngine({ dir: d, engine: 'unix:///a.sock', pid: 4_194_305 }).claimed).toBe(true);
    expect(claimEngine({ dir: d, engine: 'unix:///a.sock', pid: process.pid }).claimed).toBe(true);
    expect(claimEngine({ dir: d, engine: 'unix:///a.sock', pid: process.ppid })).toMatchObject({
      claimed: false,
      heldBy: process.pid,
    });
  });
});
