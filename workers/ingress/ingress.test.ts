import { describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../http/client-address.ts';
import type { Endpoint, ServiceRoute } from '../verbs/services.ts';
import { Ingress, IngressState } from './ingress.ts';
import type { FetchFn } from './proxy.ts';

const route: ServiceRoute = {
  namespace: 'default',
  name: 'web',
  hosts: ['web.test'],
  spec: {
    selector: { app: 'web' },
    ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
    hosts: ['web.test'],
  },
};
const ep = (i: number): Endpoint => ({
  replica: `web-${i}`,
  deployment: 'web',
  revision: 1,
  node: 'n',
  address: '10.0.0.1',
  port: 31000 + i,
});

function setup(endpoints: Endpoint[], fetchImpl?: FetchFn) {
  let now = 0;
  let reads = 0;
  let current = endpoints;
  const hits: string[] = [];
  const ingress = new Ingress({
    source: {
      routes: async () => [route],
      endpoints: async () => {
        reads++;
        return current;
      },
    },
    state: new IngressState(1000, () => now),
    fetch:
      fetchImpl ??
      (async (url) => {
        hits.push(url);
        return new Response(url);
      }),
  });
  return {
    ingress,
    hits,
    reads: () => reads,
    set: (e: Endpoint[]) => {
      current = e;
    },
    tick: (ms: number) => {
      now += ms;
    },
    get: () => ingress.handle(new Request('http://web.test/x'), route),
  };
}

describe('Ingress', () => {
  it('shares what it learnt between per-request instances over one state (Workers)', async () => {
    const state = new IngressState();
    let loads = 0;
    const perRequest = () =>
      new Ingress({
        state,
        source: {
          routes: async () => {
            loads++;
            return [route];
          },
          endpoints: async () => [ep(1), ep(2)],
        },
        fetch: async (url) => new Response(url),
      });
    expect(await perRequest().route('web.test')).toBe(route);
    expect(await perRequest().route('api.test')).toBeUndefined();
    const ports = [];
    for (let i = 0; i < 4; i++)
      ports.push(
        new URL(await (await perRequest().handle(new Request('http://web.test/'), route)).text()).port,
      );
    expect(loads).toBe(1);
    expect(ports).toEqual(['31001', '31002', '31001', '31002']);
  });

  it('routes by host, exact or not at all', async () => {
    const s = setup([ep(1)]);
    expect(await s.ingress.route('web.test')).toBe(route);
    expect(await s.ingress.route('api.test')).toBeUndefined();
  });

  it('spreads requests round robin over the ready endpoints', async () => {
    const s = setup([ep(1), ep(2), ep(3)]);
    for (let i = 0; i < 6; i++) await s.get();
    const ports = s.hits.map((u) => new URL(u).port);
    expect(ports).toEqual(['31001', '31002', '31003', '31001', '31002', '31003']);
  });

  it('reads endpoints once per TTL, and again right after a change goes by', async () => {
    const s = setup([ep(1)]);
    await s.get();
    await s.get();
    expect(s.reads()).toBe(1);
    s.ingress.observe('POST', '/v1/agent/status', 204);
    await s.get();
    expect(s.reads()).toBe(2);
    s.ingress.observe('GET', '/v1/agent/assignments', 304);
    s.ingress.observe('GET', '/v1/namespaces/default/services', 200);
    s.ingress.observe('PUT', '/v1/namespaces/default/services/web', 422);
    await s.get();
    expect(s.reads()).toBe(2);
    s.ingress.observe('GET', '/v1/agent/assignments', 200);
    await s.get();
    expect(s.reads()).toBe(3);
    s.tick(1000);
    await s.get();
    expect(s.reads()).toBe(4);
  });

  it('answers 503 problem+json with Retry-After when no endpoint is ready', async () => {
    const s = setup([]);
    const res = await s.get();
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({
      code: 'UNAVAILABLE',
      detail: 'service "default/web" has no ready endpoints',
    });
  });

  it('retries elsewhere when an endpoint refuses, then passes over it while others remain', async () => {
    const hits: string[] = [];
    const s = setup([ep(1), ep(2), ep(3)], async (url) => {
      hits.push(url);
      if (url.includes(':31001/')) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      return new Response('ok');
    });
    for (let i = 0; i < 6; i++) expect((await s.get()).status).toBe(200);
    expect(hits.filter((u) => u.includes(':31001/'))).toHaveLength(1);
    s.tick(5000);
    s.set([ep(1)]);
    s.ingress.invalidate();
    // The only endpoint left is tried again even if it failed before: there is nothing better.
    const res = await s.get();
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      code: 'UNAVAILABLE',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('X-Forwarded-For toward endpoints', () => {
  const capture = (trusted: string) => {
    const sent: (string | null)[] = [];
    const ingress = new Ingress({
      source: { routes: async () => [route], endpoints: async () => [ep(1)] },
      fetch: async (_url, init) => {
        sent.push(new Headers(init.headers).get('x-forwarded-for'));
        return new Response('ok');
      },
      trustedProxies: parseTrustedProxies(trusted),
    });
    const send = async (peer: string | undefined, header?: string) => {
      const req = new Request('http://web.test/', header ? { headers: { 'x-forwarded-for': header } } : {});
      await ingress.handle(req, route, ingress.forwardedFor(peer, header));
      return sent.at(-1);
    };
    return send;
  };

  it('replaces what an untrusted client claims with its own address', async () => {
    const send = capture('');
    expect(await send('203.0.113.7', '6.6.6.6')).toBe('203.0.113.7');
    expect(await send('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(await send(undefined, '6.6.6.6')).toBeNull();
  });

  it('keeps the hops a trusted proxy reported, from the real client on, and appends the proxy', async () => {
    const send = capture('10.0.0.0/8');
    // The client wrote 6.6.6.6 itself; the proxy appended the address it saw.
    expect(await send('10.0.0.2', '6.6.6.6, 198.51.100.20')).toBe('198.51.100.20, 10.0.0.2');
    expect(await send('10.0.0.2', '198.51.100.20, 10.0.0.9')).toBe('198.51.100.20, 10.0.0.9, 10.0.0.2');
    expect(await send('10.0.0.2')).toBe('10.0.0.2');
    // A peer outside the trusted blocks is the client, whatever it forwards.
    expect(await send('203.0.113.7', '198.51.100.20')).toBe('203.0.113.7');
  });
});
