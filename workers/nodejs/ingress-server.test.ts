import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { handshake, upstreamRawHeaders } from '../../common/node-proxy.ts';
import { parseTrustedProxies } from '../http/client-address.ts';
import { Ingress } from '../ingress/ingress.ts';

/** The parts of a Node request the header rules read. */
function request(peer: string, headers: [string, string][]): IncomingMessage {
  const lower: Record<string, string> = {};
  for (const [k, v] of headers)
    lower[k.toLowerCase()] = lower[k.toLowerCase()] ? `${lower[k.toLowerCase()]}, ${v}` : v;
  return {
    method: 'GET',
    url: '/',
    rawHeaders: headers.flat(),
    headers: lower,
    socket: { remoteAddress: peer, encrypted: false },
  } as unknown as IncomingMessage;
}

const target = { address: '10.1.0.5', port: 31000 };
const forwardedFor = (raw: string[]) => raw.filter((_, i) => raw[i - 1]?.toLowerCase() === 'x-forwarded-for');

describe('Node ingress: X-Forwarded-For', () => {
  const ingress = new Ingress({
    source: { routes: async () => [], endpoints: async () => [] },
    trustedProxies: parseTrustedProxies('127.0.0.1, 10.0.0.0/8'),
  });
  const headersFor = (peer: string, xff?: string[]) => {
    const req = request(peer, [
      ['Host', 'web.test'],
      ...(xff ?? []).map((v): [string, string] => ['X-Forwarded-For', v]),
    ]);
    const value = ingress.forwardedFor(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    return { http: upstreamRawHeaders(req, target, value), ws: handshake(req, target, value) };
  };

  it('sends only the real peer when it is not a trusted proxy', () => {
    const { http, ws } = headersFor('203.0.113.7', ['6.6.6.6']);
    expect(forwardedFor(http)).toEqual(['203.0.113.7']);
    expect(ws).toContain('x-forwarded-for: 203.0.113.7\r\n');
    expect(ws).not.toContain('6.6.6.6');
  });

  it('behind a trusted proxy, keeps the client it names (across repeated headers) and appends the proxy', () => {
    const { http, ws } = headersFor('127.0.0.1', ['6.6.6.6', '198.51.100.20, 10.0.0.9']);
    expect(forwardedFor(http)).toEqual(['198.51.100.20, 10.0.0.9, 127.0.0.1']);
    expect(ws).toContain('x-forwarded-for: 198.51.100.20, 10.0.0.9, 127.0.0.1\r\n');
    expect(ws).not.toContain('6.6.6.6');
  });
});
