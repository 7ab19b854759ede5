import { RST, SpdyProtocolError, SpdyReader, SpdyWriter } from './spdy.ts';

/**
 * The server's side of Kubernetes' port-forward protocol (`portforward.k8s.io` over SPDY/3.1),
 * as the kubelet speaks it. kubectl opens two streams for every connection it accepts locally,
 * with the same `requestID` header: `streamType: error` and `streamType: data`, both carrying
 * the pod's `port`. The data stream carries the connection's bytes both ways; the error stream
 * carries a message when the connection to the pod cannot be made or breaks, and ends (empty)
 * when it is over. kubectl waits for the data stream's end from this side, resets it, then waits
 * for the error stream's end: both are always ended here.
 *
 * Pure: bytes in (`receive`), bytes out (the `write` given), and one `open` per connection; the
 * runtime moves the bytes, and the meeting with the agent is the caller's.
 */

/** kubectl 1.31 and later: SPDY inside a WebSocket; binary messages are pieces of the SPDY bytes. */
export const PORT_FORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';

/** kubectl's side of one forwarded connection. */
export interface KubectlConnection {
  /** Bytes from the pod. */
  send(data: Uint8Array): void;
  /** The pod closed its side: kubectl's copy to its local client ends. */
  end(): void;
  /** The connection could not be made, or broke: kubectl prints `message` and goes on serving. */
  fail(message: string): void;
}

/** The pod's side of one forwarded connection, which the caller provides. */
export interface PodConnection {
  /** Bytes from kubectl's local client. */
  write(data: Uint8Array): void;
  /** kubectl's local client closed its side. */
  end(): void;
  /** The connection is over from kubectl's side (reset, or the whole session ended): drop it. */
  close(): void;
}

export type OpenConnection = (port: number, requestId: string, kubectl: KubectlConnection) => PodConnection;

/** Connections open at once in one session; kubectl opens one per local client. */
export const MAX_CONNECTIONS = 128;

interface Request {
  id: string;
  errorStream?: number;
  dataStream?: number;
  port?: string;
  /** kubectl opened the data stream with nothing to send (its FIN on the SYN_STREAM). */
  dataFin?: boolean;
  pod?: PodConnection;
  /** This side has ended its data stream (and with it the error stream). */
  ended: boolean;
}

export class PortForwardServer {
  private readonly reader = new SpdyReader();
  private readonly writer = new SpdyWriter();
  private readonly requests = new Map<string, Request>();
  private readonly byStream = new Map<number, Request>();
  private closed = false;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly open: OpenConnection,
  ) {}

  /** Connections open now. */
  get connections(): number {
    return [...this.requests.values()].filter((r) => r.pod && !r.ended).length;
  }

  /** kubectl's bytes; throws SpdyProtocolError when they are not the protocol (close the session). */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    for (const frame of this.reader.push(bytes)) {
      switch (frame.type) {
        case 'syn_stream':
          this.stream(frame.streamId, frame.headers, frame.fin);
          break;
        case 'data': {
          const r = this.byStream.get(frame.streamId);
          // The error stream is kubectl's to read only; data there means nothing.
          if (!r || frame.streamId !== r.dataStream || r.ended) break;
          if (frame.data.length) r.pod?.write(frame.data);
          if (frame.fin) r.pod?.end();
          break;
        }
        case 'rst_stream': {
          const r = this.byStream.get(frame.streamId);
          if (r && frame.streamId === r.dataStream) this.forget(r, true);
          break;
        }
        case 'ping':
          this.write(this.writer.ping(frame.id));
          break;
        case 'goaway':
          this.close();
          return;
        default:
          break;
      }
    }
  }

  /** The session is over (kubectl's connection closed): every connection is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.requests.values()) r.pod?.close();
    this.requests.clear();
    this.byStream.clear();
  }

  private stream(streamId: number, headers: Record<string, string[]>, fin: boolean): void {
    if (streamId === 0 || this.byStream.has(streamId))
      throw new SpdyProtocolError(`stream ${streamId} reused`);
    const type = headers.streamtype?.[0];
    if (type !== 'error' && type !== 'data') {
      this.write(this.writer.rstStream(streamId, RST.protocolError));
      return;
    }
    // kubectl names each pair; the oldest clients did not, and the kubelet pairs theirs by stream id.
    const id = headers.requestid?.[0] ?? String(type === 'error' ? streamId : streamId - 2);
    let r = this.requests.get(id);
    if (!r) {
      r = { id, ended: false };
      this.requests.set(id, r);
    }
    if ((type === 'error' ? r.errorStream : r.dataStream) !== undefined)
      throw new SpdyProtocolError(`request ${id} opened its ${type} stream twice`);
    if (type === 'error') r.errorStream = streamId;
    else r.dataStream = streamId;
    r.port = headers.port?.[0] ?? r.port;
    this.byStream.set(streamId, r);
    this.write(this.writer.synReply(streamId));
    if (type === 'data') r.dataFin = fin;
    if (r.errorStream === undefined || r.dataStream === undefined) return;
    this.start(r);
    // A data stream opened already finished: kubectl's client sent nothing and closed its side.
    if (r.dataFin) r.pod?.end();
  }

  private start(r: Request): void {
    const kubectl = this.kubectlSide(r);
    const port = Number(r.port);
    if (!/^\d{1,5}$/.test(r.port ?? '') || port < 1 || port > 65535)
      kubectl.fail(`invalid port "${r.port ?? ''}": a port-forward needs a port between 1 and 65535`);
    else if (this.connections >= MAX_CONNECTIONS)
      kubectl.fail(`more than ${MAX_CONNECTIONS} connections are open in this port-forward`);
    else r.pod = this.open(port, r.id, kubectl);
  }

  private kubectlSide(r: Request): KubectlConnection {
    const done = () => {
      if (r.ended || this.closed) return true;
      r.ended = true;
      return false;
    };
    return {
      send: (data) => {
        if (r.ended || this.closed || r.dataStream === undefined) return;
        for (const f of this.writer.data(r.dataStream, data)) this.write(f);
      },
      end: () => {
        if (done()) return;
        for (const f of this.writer.data(r.dataStream!, new Uint8Array(0), true)) this.write(f);
        for (const f of this.writer.data(r.errorStream!, new Uint8Array(0), true)) this.write(f);
      },
      fail: (message) => {
        if (done()) return;
        const text = new TextEncoder().encode(message);
        for (const f of this.writer.data(r.errorStream!, text, true)) this.write(f);
        for (const f of this.writer.data(r.dataStream!, new Uint8Array(0), true)) this.write(f);
        r.pod?.close();
      },
    };
  }

  /** kubectl reset the data stream: the connection is over; the error stream is ended if it was not. */
  private forget(r: Request, reset: boolean): void {
    r.pod?.close();
    if (reset && !r.ended && r.errorStream !== undefined) {
      r.ended = true;
      for (const f of this.writer.data(r.errorStream, new Uint8Array(0), true)) this.write(f);
    }
    this.requests.delete(r.id);
    if (r.errorStream !== undefined) this.byStream.delete(r.errorStream);
    if (r.dataStream !== undefined) this.byStream.delete(r.dataStream);
  }
}
