import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';
import { run } from './main.ts';
import { type CapturedIo, captureIo, StubServer } from './testing/stub-server.ts';

let stub: StubServer;
let io: CapturedIo;

beforeEach(async () => {
  stub = await new StubServer().start();
  io = captureIo();
  io.env.BERTH_SERVER = stub.url;
  io.env.BERTH_TOKEN = 'tok';
});
afterEach(() => stub.stop());

const berth = (...argv: string[]) => run(argv, io);
const base = {
  namespace: 'default',
  source: 'acme',
  notBefore: null,
  nextAttemptAt: '2026-03-02T00:00:00.000Z',
  orders: 1,
  failures: 0,
  lastError: null,
};
const items = [
  {
    ...base,
    host: 'shop.example.com',
    status: 'Ready',
    issuer: 'R11',
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-04-01T00:00:00.000Z',
  },
  {
    ...base,
    host: 'blog.example.com',
    status: 'Failed',
    issuer: null,
    notAfter: null,
    orders: 2,
    failures: 2,
    lastError: 'Invalid response from http://blog.example.com/.well-known/acme-challenge/x: 404',
  },
];

describe('berth get certificates', () => {
  it('lists host, issuer, not-after, status and the last error', async () => {
    stub.on('GET', '/v1/certificates', { status: 200, body: { items } });
    expect(await berth('get', 'certificates')).toBe(EXIT.OK);
    const lines = io.output().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+ISSUER\s+NOT-AFTER\s+STATUS\s+LAST-ERROR$/);
    expect(lines[1]).toMatch(/^shop\.example\.com\s+R11\s+2026-04-01T00:00:00\.000Z\s+Ready\s+<none>$/);
    expect(lines[2]).toMatch(/^blog\.example\.com\s+<none>\s+<none>\s+Failed\s+Invalid response from/);
  });

  it('shows one host, and says when there is none', async () => {
    stub.on('GET', '/v1/certificates', { status: 200, body: { items } });
    expect(await berth('get', 'cert', 'shop.example.com', '-o', 'name')).toBe(EXIT.OK);
    expect(io.output().trim()).toBe('certificate/shop.example.com');
    expect(await berth('get', 'certificates', 'nope.example.com')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toContain('no certificate for host "nope.example.com"');
  });
});

describe('wildcard hosts', () => {
  it('lists and shows a wildcard certificate like any host, and its events', async () => {
    const wildcard = {
      ...base,
      host: '*.apps.example.com',
      status: 'Failed',
      issuer: null,
      notAfter: null,
      failures: 1,
      lastError: 'Cloudflare: Invalid access token (code 9109)',
    };
    stub.on('GET', '/v1/certificates', { status: 200, body: { items: [...items, wildcard] } });
    expect(await berth('get', 'certificates')).toBe(EXIT.OK);
    expect(io.output().trimEnd().split('\n')[3]).toMatch(
      /^\*\.apps\.example\.com\s+<none>\s+<none>\s+Failed\s+Cloudflare: Invalid access token \(code 9109\)$/,
    );
    expect(await berth('get', 'cert', '*.apps.example.com', '-o', 'name')).toBe(EXIT.OK);
    expect(io.output().trim().split('\n').at(-1)).toBe('certificate/*.apps.example.com');
    stub.on('GET', '/v1/namespaces/default/events', { status: 200, body: { items: [] } });
    expect(await berth('get', 'events', '--for', 'certificate/*.apps.example.com')).toBe(EXIT.OK);
    expect(stub.requests.at(-1)?.query.get('object')).toBe('certificate/*.apps.example.com');
  });
});

describe('berth get events --for certificate/HOST', () => {
  it("lists a host's certificate events", async () => {
    stub.on('GET', '/v1/namespaces/default/events', {
      status: 200,
      body: {
        items: [
          {
            object: 'certificate/shop.example.com',
            type: 'Warning',
            reason: 'CertificateFailed',
            message: 'renewal failed',
            createdAt: '2026-01-01T00:00:00Z',
          },
        ],
      },
    });
    expect(await berth('get', 'events', '--for', 'certificate/shop.example.com')).toBe(EXIT.OK);
    expect(io.output()).toContain('CertificateFailed');
    expect(stub.requests.at(-1)?.query.get('object')).toBe('certificate/shop.example.com');
  });
});
