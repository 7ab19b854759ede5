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
  io.env.BERTH_TOKEN = 'admin-token';
});
afterEach(() => stub.stop());

const berth = (...argv: string[]) => run(argv, io);

const rule = {
  apiVersion: 'berth.dev/v1',
  kind: 'TrustRule',
  metadata: { name: 'shop-production', createdAt: '' },
  spec: {
    issuer: 'https://token.actions.githubusercontent.com',
    claims: { repository: 'acme/shop', environment: 'production' },
    role: 'deployer',
    namespaces: ['shop'],
    ttlSeconds: 900,
  },
};

describe('trust rules and token exchanges in the CLI', () => {
  it('lists, shows and deletes trust rules (cluster-scoped)', async () => {
    const createdAt = new Date(io.now().getTime() - 120_000).toISOString();
    stub.on('GET', '/v1/trustrules', {
      body: { items: [{ ...rule, metadata: { ...rule.metadata, createdAt } }] },
    });
    expect(await berth('get', 'trustrules', '-o', 'wide')).toBe(EXIT.OK);
    expect(io.output()).toBe(
      [
        'NAME              CLAIMS                                        ROLE       NAMESPACES   TTL    AGE   ISSUER',
        'shop-production   repository=acme/shop,environment=production   deployer   shop         900s   2m    https://token.actions.githubusercontent.com',
        '',
      ].join('\n'),
    );
    stub.on('DELETE', '/v1/trustrules/shop-production', { body: rule });
    expect(await berth('delete', 'trustrule', 'shop-production')).toBe(EXIT.OK);
    expect(stub.sent('DELETE', '/v1/trustrules/shop-production')).toHaveLength(1);
  });

  it('shows token exchanges, refused ones with their reason, and what each exchanged token was for', async () => {
    stub.on('GET', '/v1/events', {
      body: {
        items: [
          {
            id: 1,
            type: 'Warning',
            reason: 'ExchangeRefused',
            object: 'tokenexchange/-',
            message: 'refused (audience): the token is for another audience',
            createdAt: new Date().toISOString(),
          },
        ],
      },
    });
    expect(await berth('get', 'events', '--for', 'tokenexchange')).toBe(EXIT.OK);
    expect(stub.sent('GET', '/v1/events')[0]!.query.get('object')).toBe('tokenexchange');
    expect(io.output()).toMatch(/Warning\s+ExchangeRefused\s+tokenexchange\/-\s+refused \(audience\)/);

    stub.on('GET', '/v1/tokens', {
      body: {
        items: [
          {
            id: 'tok_1',
            name: 'shop-production: repo:acme/shop:environment:production',
            role: 'deployer',
            namespaces: ['shop'],
            createdAt: new Date().toISOString(),
            expiresAt: '2030-01-01T00:15:00.000Z',
            exchange: {
              issuer: 'https://token.actions.githubusercontent.com',
              subject: 'repo:acme/shop:environment:production',
              claims: { repository: 'acme/shop', ref: 'refs/heads/main', environment: 'production' },
              rules: ['shop-production'],
            },
          },
        ],
      },
    });
    const io2 = captureIo({ env: { ...io.env } });
    expect(await run(['token', 'list'], io2)).toBe(EXIT.OK);
    expect(io2.output()).toMatch(/EXCHANGED-FOR\n.*acme\/shop refs\/heads\/main production\n$/);
  });
});
