import { describe, expect, it } from 'vitest';
import { type KubectlConnection, PortForwardServer } from './port-forward.ts';
import { type SpdyFrame, SpdyProtocolError, SpdyReader, SpdyWriter } from './spdy.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

/** kubectl's side of a session: its frames go in whole or split, the server's come out parsed. */
function session() {
  const client = new SpdyWriter();
  const fromServer = new SpdyReader();
  const frames: SpdyFrame[] = [];
  const pods: { port: number; id: string; kubectl: KubectlConnection; got: string[]; events: string[] }[] =
    [];
  const server = new PortForwardServer(
    (b) => frames.push(...fromServer.push(b)),
    (port, id, kubectl) => {
      const pod = { port, id, kubectl, got: [] as string[], events: [] as string[] };
      pods.push(pod);
      return {
        write: (d) => pod.got.push(text(d)),
        end: () => pod.events.push('end'),
        close: () => pod.events.push('close'),
      };
    },
  );
  /** The two streams kubectl opens for one local connection. */
  const connect = (requestId: string, port: string, errorId: number) => {
    server.receive(
      client.synStream(errorId, { streamtype: ['error'], port: [port], requestid: [requestId] }),
    );
    server.receive(
      client.synStream(errorId + 2, { streamtype: ['data'], port: [port], requestid: [requestId] }),
    );
  };
  return { client, server, frames, pods, connect };
}

describe('SPDY framing', () => {
  it('reads frames split at any byte, header blocks continuing one zlib stream', () => {
    const w = new SpdyWriter();
    const all = [
      w.synStream(1, { streamtype: ['data'], port: ['8080'] }),
      w.synStream(3, { streamtype: ['error'], port: ['8080'], requestid: ['0'] }),
      ...w.data(3, bytes('hello'), true),
      w.ping(7),
      w.rstStream(3, 5),
    ];
    const joined = new Uint8Array(all.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of all) {
      joined.set(f, at);
      at += f.length;
    }
    const r = new SpdyReader();
    const frames: SpdyFrame[] = [];
    for (let i = 0; i < joined.length; i += 3) frames.push(...r.push(joined.subarray(i, i + 3)));
    expect(frames.map((f) => f.type)).toEqual(['syn_stream', 'syn_stream', 'data', 'ping', 'rst_stream']);
    expect(frames[1]).toMatchObject({ streamId: 3, headers: { streamtype: ['error'], requestid: ['0'] } });
    expect(frames[2]).toMatchObject({ streamId: 3, fin: true });
    expect(text((frames[2] as { data: Uint8Array }).data)).toBe('hello');
  });

  it('refuses another protocol version and a header block that does not inflate', () => {
    const frame = new SpdyWriter().ping(1);
    frame[1] = 2;
    expect(() => new SpdyReader().push(frame)).toThrow(SpdyProtocolError);
    const syn = new SpdyWriter().synStream(1, { a: ['b'] });
    syn.fill(0xff, 18);
    expect(() => new SpdyReader().push(syn)).toThrow(SpdyProtocolError);
  });
});

describe('port-forward protocol', () => {
  it('opens one connection per request pair and carries bytes both ways', () => {
    const s = session();
    s.connect('0', '80', 1);
    expect(
      s.frames.filter((f) => f.type === 'syn_reply').map((f) => (f as { streamId: number }).streamId),
    ).toEqual([1, 3]);
    expect(s.pods).toHaveLength(1);
    expect(s.pods[0]).toMatchObject({ port: 80, id: '0' });
    for (const f of s.client.data(3, bytes('GET / HTTP/1.0\r\n\r\n'), true)) s.server.receive(f);
    expect(s.pods[0]!.got.join('')).toBe('GET / HTTP/1.0\r\n\r\n');
    expect(s.pods[0]!.events).toEqual(['end']);

    s.pods[0]!.kubectl.send(bytes('HTTP/1.0 200 OK\r\n\r\nv1'));
    s.pods[0]!.kubectl.end();
    const data = s.frames.filter((f) => f.type === 'data') as Extract<SpdyFrame, { type: 'data' }>[];
    expect(
      data
        .filter((f) => f.streamId === 3)
        .map((f) => text(f.data))
        .join(''),
    ).toBe('HTTP/1.0 200 OK\r\n\r\nv1');
    // Both streams end: the data stream (kubectl's copy ends), then the error stream (no error).
    expect(data.filter((f) => f.fin).map((f) => f.streamId)).toEqual([3, 1]);

    // kubectl resets the data stream once it has read everything; the connection is dropped.
    s.server.receive(s.client.rstStream(3, 5));
    expect(s.pods[0]!.events).toEqual(['end', 'close']);
  });

  it('tells kubectl why a connection failed, on its error stream, and goes on with others', () => {
    const s = session();
    s.connect('0', '80', 1);
    s.connect('1', '81', 5);
    s.pods[0]!.kubectl.fail('error forwarding port 80: connection refused');
    const data = s.frames.filter((f) => f.type === 'data') as Extract<SpdyFrame, { type: 'data' }>[];
    expect(data.find((f) => f.streamId === 1)).toMatchObject({ fin: true });
    expect(text(data.find((f) => f.streamId === 1)!.data)).toMatch(/connection refused/);
    expect(s.pods[0]!.events).toEqual(['close']);
    expect(s.pods[1]!.events).toEqual([]);
    expect(s.server.connections).toBe(1);
  });

  it('refuses a bad port on the error stream without opening anything', () => {
    const s = session();
    s.connect('0', '99999', 1);
    expect(s.pods).toHaveLength(0);
    const err = s.frames.find((f) => f.type === 'data' && f.streamId === 1) as { data: Uint8Array };
    expect(text(err.data)).toMatch(/invalid port "99999"/);
  });

  it('answers pings, and drops every connection when kubectl goes away', () => {
    const s = session();
    s.connect('0', '80', 1);
    s.server.receive(s.client.ping(9));
    expect(s.frames.find((f) => f.type === 'ping')).toEqual({ type: 'ping', id: 9 });
    s.server.receive(s.client.goAway(3));
    expect(s.pods[0]!.events).toEqual(['close']);
  });

  it('pairs the streams of clients that send no request id by their stream ids', () => {
    const s = session();
    s.server.receive(s.client.synStream(1, { streamtype: ['error'], port: ['80'] }));
    s.server.receive(s.client.synStream(3, { streamtype: ['data'], port: ['80'] }));
    expect(s.pods).toMatchObject([{ port: 80, id: '1' }]);
  });
});
