import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from './http-fetch.ts';

describe('httpFetch', () => {
  let base = '';
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
    res.writeHead(req.url === '/missing' ? 404 : 200, { etag: '"v1"', 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        method: req.method,
        auth: req.headers.authorization,
        body: Buffer.concat(chunks).toString(),
      }),
    );
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('sends method, headers and body; reads status, headers and JSON', async () => {
    const res = await httpFetch(`${base}/x`, {
      method: 'POST',
      headers: { authorization: 'Bearer t' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe('"v1"');
    expect(await res.json()).toEqual({ method: 'POST', auth: 'Bearer t', body: '{"a":1}' });
    expect((await httpFetch(`${base}/missing`)).status).toBe(404);
  });

  it('rejects like fetch when unreachable or aborted', async () => {
    await expect(httpFetch('http://127.0.0.1:1/')).rejects.toThrow('fetch failed');
    await expect(httpFetch(`${base}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
  });
});
