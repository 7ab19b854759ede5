import { describe, expect, it } from 'vitest';
import { hostPart, type Target } from '../../common/http-forwarding.ts';
import { downstreamHeaders, type FetchFn, forward, upstreamHeaders } from './proxy.ts';

const A: Target = { address: '10.0.0.1', port: 31001 };
const B: Target = { address: '10.0.0.2', port: 31002 };
const ctx = { forwardedFor: '203.0.113.7', proto: 'https', host: 'web.example.com:8443' };

type Call = { url: string; init: RequestInit & { duplex?: 'half' }; body?: string };

/** A fake fetch: `plan` answers each call in turn with a Response or a thrown error. */
function fakeFetch(plan: ((call: Call) => Promise<Response> | Response)[]) {
  const calls: Call[] = [];
  const fn: FetchFn = async (url, init) => {
    const call: Call = { url, init };
    calls.push(call);
    const step = plan[calls.length - 1];
    if (!step) throw new Error(`unexpected fetch #${calls.length}`);
    return step(call);
  };
  return { fn, calls };
}

const refused = () => {
  throw new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  });
};
const readBody = async (call: Call) => {
  call.body = await new Response(call.init.body as ReadableStream).text();
  return new Response(`got ${call.body}`);
};

function request(method: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  return new Request('http://web.example.com:8443/a/b?x=1&y=2', {
    method,
    headers: init.headers,
    ...(init.body !== undefined
      ? {
          body: new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode(init.body));
              c.close();
            },
          }),
          duplex: 'half',
        }
      : {}),
  } as RequestInit);
}

describe('upstream request headers', () => {
  it('drops hop-by-hop headers, those named in Connection, and proxy-*', () => {
    const h = upstreamHeaders(
      new Headers({
        connection: 'keep-alive, X-Trace-Hop',
        'keep-alive': 'timeout=5',
        'x-trace-hop': '1',
        te: 'trailers',
        trailer: 'x-checksum',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        'proxy-authorization': 'Basic eA==',
        'proxy-connection': 'keep-alive',
        'proxy-anything': 'x',
        accept: 'text/html',
        authorization: 'Bearer end-to-end',
        cookie: 'a=1',
      }),
      ctx,
    );
    const names = [...h.keys()].sort();
    expect(names).toEqual([
      'accept',
      'authorization',
      'cookie',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
    ]);
  });

  it('sets X-Forwarded-* itself, overriding what the client claims, and never forwards Host or Expect', () => {
    const h = upstreamHeaders(
      new Headers({
        host: 'web.example.com:8443',
        expect: '100-continue',
        'x-forwarded-for': '1.2.3.4',
        'x-forwarded-proto': 'gopher',
        'x-forwarded-host': 'evil.example',
      }),
      ctx,
    );
    expect(h.get('x-forwarded-for')).toBe('203.0.113.7');
    expect(h.get('x-forwarded-proto')).toBe('https');
    expect(h.get('x-forwarded-host')).toBe('web.example.com:8443');
    expect(h.has('host')).toBe(false);
    expect(h.has('expect')).toBe(false);
  });

  it('omits X-Forwarded-For when the runtime does not know the client address', () => {
    const h = upstreamHeaders(new Headers({ 'x-forwarded-for': '1.2.3.4' }), {
      ...ctx,
      forwardedFor: undefined,
    });
    expect(h.has('x-forwarded-for')).toBe(false);
  });
});

describe('downstream response headers', () => {
  it('drops hop-by-hop headers and keeps every Set-Cookie separately', () => {
    const upstream = new Headers({
      connection: 'close, x-hop',
      'x-hop': 'y',
      'keep-alive': 'timeout=1',
      'x-app': 'kept',
    });
    upstream.append('set-cookie', 'a=1; Path=/');
    upstream.append('set-cookie', 'b=2; Path=/');
    const h = downstreamHeaders(upstream);
    expect(h.has('connection')).toBe(false);
    expect(h.has('x-hop')).toBe(false);
    expect(h.has('keep-alive')).toBe(false);
    expect(h.get('x-app')).toBe('kept');
    expect(h.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('drops Content-Encoding and Content-Length of a body fetch already decoded, keeps unknown codings', () => {
    const decoded = downstreamHeaders(new Headers({ 'content-encoding': 'gzip', 'content-length': '20' }));
    expect(decoded.has('content-encoding')).toBe(false);
    expect(decoded.has('content-length')).toBe(false);
    const raw = downstreamHeaders(new Headers({ 'content-encoding': 'zz-custom', 'content-length': '20' }));
    expect(raw.get('content-encoding')).toBe('zz-custom');
    expect(raw.get('content-length')).toBe('20');
  });
});

describe('forward', () => {
  it('sends method, path and query to the first target without following redirects, and streams the answer back', async () => {
    const f = fakeFetch([() => new Response('moved', { status: 302, headers: { location: '/elsewhere' } })]);
    const out = await forward(request('GET'), [A, B], ctx, f.fn);
    expect(out.ok && out.response.status).toBe(302);
    expect(out.ok && out.response.headers.get('location')).toBe('/elsewhere');
    expect(out.ok && (await out.response.text())).toBe('moved');
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.url).toBe('http://10.0.0.1:31001/a/b?x=1&y=2');
    expect(f.calls[0]!.init).toMatchObject({ method: 'GET', redirect: 'manual' });
    expect(f.calls[0]!.init.body).toBeUndefined();
  });

  it('retries an idempotent request once on the next target when the connection fails', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'DELETE']) {
      const f = fakeFetch([refused, () => new Response('from B')]);
      const out = await forward(request(method), [A, B], ctx, f.fn);
      expect(out.ok, method).toBe(true);
      expect(out.ok && out.target).toBe(B);
      expect(f.calls.map((c) => c.url)).toEqual([
        'http://10.0.0.1:31001/a/b?x=1&y=2',
        'http://10.0.0.2:31002/a/b?x=1&y=2',
      ]);
    }
  });

  it('retries a PUT with a body when the failed attempt read none of it, and sends the whole body', async () => {
    const f = fakeFetch([refused, readBody]);
    const out = await forward(request('PUT', { body: 'payload' }), [A, B], ctx, f.fn);
    expect(out.ok && (await out.response.text())).toBe('got payload');
    expect(f.calls[1]!.init.duplex).toBe('half');
  });

  it('does not retry a PUT whose body was already partly sent', async () => {
    const f = fakeFetch([
      async (call) => {
        const reader = (call.init.body as ReadableStream).getReader();
        await reader.read();
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        });
      },
      () => new Response('should not be called'),
    ]);
    const out = await forward(request('PUT', { body: 'payload' }), [A, B], ctx, f.fn);
    expect(out).toMatchObject({ ok: false, reason: 'unreachable', attempts: 1 });
    expect(f.calls).toHaveLength(1);
  });

  it('never retries POST or PATCH, with or without a body', async () => {
    for (const [method, body] of [
      ['POST', 'x'],
      ['POST', undefined],
      ['PATCH', 'x'],
    ] as const) {
      const f = fakeFetch([refused, () => new Response('no')]);
      const out = await forward(request(method, body === undefined ? {} : { body }), [A, B], ctx, f.fn);
      expect(out, method).toMatchObject({ ok: false, reason: 'unreachable', attempts: 1 });
      expect(f.calls).toHaveLength(1);
    }
  });

  it('streams a POST body through untouched', async () => {
    const f = fakeFetch([readBody]);
    const out = await forward(request('POST', { body: 'hello' }), [A], ctx, f.fn);
    expect(out.ok && (await out.response.text())).toBe('got hello');
  });

  it('tries at most twice, and only once with a single target', async () => {
    const three = fakeFetch([refused, refused, () => new Response('third')]);
    expect(await forward(request('GET'), [A, B, A], ctx, three.fn)).toMatchObject({ ok: false, attempts: 2 });
    const one = fakeFetch([refused, () => new Response('again')]);
    expect(await forward(request('GET'), [A], ctx, one.fn)).toMatchObject({ ok: false, attempts: 1 });
  });

  it('does not retry when the client went away', async () => {
    const abort = new AbortController();
    const req = new Request('http://web.example.com/', { signal: abort.signal });
    const f = fakeFetch([
      () => {
        abort.abort();
        throw new DOMException('aborted', 'AbortError');
      },
      () => new Response('no'),
    ]);
    expect(await forward(req, [A, B], ctx, f.fn)).toMatchObject({
      ok: false,
      reason: 'aborted',
      attempts: 1,
    });
  });

  it('brackets IPv6 endpoint addresses', () => {
    expect(hostPart('fd00::1')).toBe('[fd00::1]');
    expect(hostPart('10.0.0.1')).toBe('10.0.0.1');
  });
});
