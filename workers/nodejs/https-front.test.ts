import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { httpsFront } from './https-front.ts';

/** Stand-ins for secure contexts: the front only passes them on. */
const ctx = (name: string) => ({ name }) as unknown as SecureContext;

function front(hosts: Map<string, SecureContext>) {
  const woken: number[] = [];
  const f = httpsFront({
    source: { hosts, wake: () => woken.push(1), answer: async () => undefined },
    api: undefined,
    apiRedirectHosts: [],
    httpsPort: () => 8443,
    hstsSeconds: 600,
    log: createLogger('silent'),
  });
  const sni = (name: string) =>
    new Promise<SecureContext | undefined>((resolve) => f.tls.SNICallback(name, (_e, c) => resolve(c)));
  /** What plain HTTP answers for `host`: the redirect's location, or undefined when passed on. */
  const plain = async (host: string) => {
    let location: string | undefined;
    const res = {
      writeHead: (_s: number, h: Record<string, string>) => {
        location = h.location;
        return { end: () => {} };
      },
    } as unknown as ServerResponse;
    const handled = await f.plain({ url: '/x', headers: { host } } as IncomingMessage, res);
    return handled ? location : undefined;
  };
  return { woken, sni, plain };
}

describe('HTTPS front with a wildcard certificate', () => {
  const hosts = new Map([
    ['*.apps.example.com', ctx('wildcard')],
    ['own.apps.example.com', ctx('own')],
  ]);

  it('serves the wildcard one label below without looking for a certificate of its own', async () => {
    const f = front(hosts);
    expect(await f.sni('a.apps.example.com')).toEqual(ctx('wildcard'));
    expect(await f.sni('own.apps.example.com')).toEqual(ctx('own'));
    expect(f.woken).toHaveLength(0);
    // Two labels below: nothing to serve yet, so the manager is asked to look now.
    expect(await f.sni('b.a.apps.example.com')).toBeUndefined();
    expect(f.woken).toHaveLength(1);
  });

  it('redirects plain HTTP for a name the wildcard covers, and passes others on', async () => {
    const f = front(hosts);
    expect(await f.plain('a.apps.example.com')).toBe('https://a.apps.example.com:8443/x');
    expect(await f.plain('b.a.apps.example.com')).toBeUndefined();
    expect(await f.plain('apps.example.com')).toBeUndefined();
  });
});
