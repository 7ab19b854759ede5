import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedPair, issue, makeCa } from '../../test/support/certificates.ts';
import { ConfigError } from '../config.ts';
import { keepTlsFresh, plainHttpWarning, readTls } from './tls-files.ts';

const quiet = { debugEnabled: false, debug() {}, info() {}, warn() {}, error() {} };

describe('the control plane’s certificate files', () => {
  let dir: string;
  let ca: IssuedPair;
  let first: IssuedPair;
  let second: IssuedPair;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    ca = makeCa(dir);
    first = issue(dir, ca, ['berth.example.test', '127.0.0.1'], 'first');
    second = issue(dir, ca, ['*.example.test'], 'second');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a pair, and names the name a local client checks', () => {
    const tls = readTls({ certFile: first.certFile, keyFile: first.keyFile });
    expect(tls.subject).toContain('DNS:berth.example.test');
    expect(tls.notAfter.getTime()).toBeGreaterThan(Date.now());
    expect(tls.localName('berth.example.test')).toBe('berth.example.test');
    expect(tls.localName('elsewhere.test')).toBe('berth.example.test');
    expect(tls.localName(undefined)).toBe('berth.example.test');
    expect(tls.selfSigned).toBe(false);
    expect(readTls({ certFile: ca.certFile, keyFile: ca.keyFile }).selfSigned).toBe(true);
    const wildcard = readTls({ certFile: second.certFile, keyFile: second.keyFile });
    expect(wildcard.localName(undefined)).toBe('berth.example.test');
  });

  it('refuses a key that is not the certificate’s, a missing file and a non-certificate, saying which', () => {
    const bad = (certFile: string, keyFile: string) => {
      try {
        readTls({ certFile, keyFile });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad(first.certFile, second.keyFile)).toMatch(/is not the key of the certificate/);
    expect(bad(join(dir, 'absent.crt'), first.keyFile)).toMatch(/cannot read/);
    expect(bad(first.keyFile, first.keyFile)).toMatch(/BERTH_TLS_CERT_FILE .*not a PEM certificate/);
  });

  it('serves a pair replaced on disk to new connections, and keeps the old one when the new is broken', async () => {
    const live = { certFile: join(dir, 'live.crt'), keyFile: join(dir, 'live.key') };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    const material = readTls(live);
    const server: Server = createServer({ cert: material.cert, key: material.key }, (_q, s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const served = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          { port, host: '127.0.0.1', ca: ca.cert, servername: 'berth.example.test' },
          () => {
            resolve(socket.getPeerX509Certificate()!.fingerprint256);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    const errors: string[] = [];
    const stop = keepTlsFresh(server, live, { ...quiet, error: (m) => errors.push(m) }, 20);
    try {
      expect(await served()).toBe(new X509Certificate(first.cert).fingerprint256);
      // A renewal: both files replaced.
      copyFileSync(second.certFile, live.certFile);
      copyFileSync(second.keyFile, live.keyFile);
      const want = new X509Certificate(second.cert).fingerprint256;
      for (let i = 0; i < 200 && (await served()) !== want; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await served()).toBe(want);
      // Half a renewal (the key of another pair): logged, the served one stays.
      copyFileSync(first.keyFile, live.keyFile);
      for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(errors[0]).toMatch(/not reloaded/);
      expect(await served()).toBe(want);
    } finally {
      stop();
      await new Promise((r) => server.close(r));
    }
  });

  it('warns of plain HTTP beyond loopback only', () => {
    expect(plainHttpWarning('0.0.0.0')).toMatch(/plain HTTP on 0\.0\.0\.0/);
    expect(plainHttpWarning('10.0.0.5')).toBeDefined();
    expect(plainHttpWarning('127.0.0.1')).toBeUndefined();
    expect(plainHttpWarning('localhost')).toBeUndefined();
    expect(plainHttpWarning('::1')).toBeUndefined();
  });
});
