import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeCertificates } from '../../common/agent-protocol.ts';
import { issue, makeCa } from '../../test/support/certificates.ts';
import type { CertificatesResult } from '../api-client.ts';
import { createLogger } from '../log.ts';
import { NodeCertificateSet } from './node-certificates.ts';

describe("the node's certificate set", () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-node-certs-'));
  let set: NodeCertificates;
  beforeAll(() => {
    const ca = makeCa(dir);
    const pair = issue(dir, ca, ['shop.example.com'], 'shop');
    set = {
      certificates: [
        { host: 'shop.example.com', certPem: pair.cert, keyPem: readFileSync(pair.keyFile, 'utf8') },
        { host: 'broken.example.com', certPem: 'not a certificate', keyPem: 'nor a key' },
      ],
      hstsSeconds: 60,
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const keeper = (answers: (CertificatesResult | Error)[], seen: (string | undefined)[] = []) =>
    new NodeCertificateSet({
      fetch: async (etag) => {
        seen.push(etag);
        const next = answers.shift() ?? { kind: 'unchanged' };
        if (next instanceof Error) throw next;
        return next;
      },
      dataDir: dir,
      server: 'https://berth.example.com',
      log: createLogger('silent'),
      refreshMs: 20,
    });
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  };

  it('serves the pairs Node accepts, asks again with the ETag, and saves the set (0600)', async () => {
    const seen: (string | undefined)[] = [];
    const first = keeper([{ kind: 'changed', etag: '"c-1"', body: set }], seen);
    const abort = new AbortController();
    await first.start(abort.signal);
    await until(() => first.hosts.size === 1 && seen.length >= 2);
    abort.abort();
    await first.stopped();
    expect([...first.hosts.keys()]).toEqual(['shop.example.com']);
    expect(first.hstsSeconds).toBe(60);
    expect(seen.slice(0, 2)).toEqual([undefined, '"c-1"']);
    expect(statSync(join(dir, 'certificates.json')).mode & 0o777).toBe(0o600);
  });

  it('serves the saved set at start while the control plane is away, and keeps it on errors', async () => {
    const seen: (string | undefined)[] = [];
    const again = keeper([new Error('connect ECONNREFUSED'), new Error('connect ECONNREFUSED')], seen);
    const abort = new AbortController();
    await again.start(abort.signal);
    expect([...again.hosts.keys()]).toEqual(['shop.example.com']);
    await until(() => seen.length >= 3);
    expect(again.hosts.size).toBe(1);
    expect(seen[0]).toBe('"c-1"');
    abort.abort();
    await again.stopped();
  });

  it('does not serve a set saved for another control plane', async () => {
    const other = new NodeCertificateSet({
      fetch: async () => ({ kind: 'unchanged' }),
      dataDir: dir,
      server: 'https://other.example.com',
      log: createLogger('silent'),
      refreshMs: 20,
    });
    const abort = new AbortController();
    await other.start(abort.signal);
    expect(other.hosts.size).toBe(0);
    abort.abort();
    await other.stopped();
  });
});
