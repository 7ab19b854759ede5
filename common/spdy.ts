import { Deflate, Inflate, Z_SYNC_FLUSH } from 'pako';

/**
 * SPDY/3.1 framing, as far as Kubernetes' streams use it: kubectl's port-forward speaks it, over a
 * WebSocket since 1.31 (`SPDY/3.1+portforward.k8s.io`) and over an upgraded HTTP connection
 * before. Frames in, frames out; no flow control (Kubernetes' SPDY library keeps no windows, and
 * ignores WINDOW_UPDATE and SETTINGS). Pure and runtime-neutral (no Buffer).
 *
 * Each direction's header blocks are one zlib stream, with a preset dictionary, flushed at the end
 * of every block: the reader and writer below each hold their side's stream for the connection.
 */

export type SpdyHeaders = Record<string, string[]>;

export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Uint8Array }
  | { type: 'syn_stream'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  /** SETTINGS, WINDOW_UPDATE and types this side has no use for: read and dropped. */
  | { type: 'ignored'; frameType: number };

export const RST = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  cancel: 5,
  internalError: 6,
} as const;

/** The largest frame SPDY can describe (a 24-bit length). */
const MAX_FRAME = (1 << 24) - 1;
/** Header blocks larger than this, once inflated, are refused (a few names and numbers are expected). */
const MAX_HEADER_BLOCK = 64 * 1024;
/** Data frames written are cut to this size, as Kubernetes' own copies do. */
export const DATA_CHUNK = 32 * 1024;

const TYPE = { synStream: 1, synReply: 2, rstStream: 3, ping: 6, goAway: 7, headers: 8 } as const;

export class SpdyProtocolError extends Error {}

/** Reads frames from the bytes of one connection, whatever sizes they arrive in. */
export class SpdyReader {
  private pending: Uint8Array = new Uint8Array(0);
  private readonly headerStream = new HeaderInflater();

  /** The frames `bytes` completes; throws SpdyProtocolError on bytes that are not SPDY/3. */
  push(bytes: Uint8Array): SpdyFrame[] {
    this.pending = concat(this.pending, bytes);
    const frames: SpdyFrame[] = [];
    let at = 0;
    while (this.pending.length - at >= 8) {
      const view = new DataView(this.pending.buffer, this.pending.byteOffset + at);
      const length = view.getUint32(4) & 0xffffff;
      if (this.pending.length - at - 8 < length) break;
      const flags = view.getUint8(4);
      const body = this.pending.subarray(at + 8, at + 8 + length);
      const first = view.getUint32(0);
      frames.push(
        first & 0x80000000
          ? this.control((first >>> 16) & 0x7fff, first & 0xffff, flags, body)
          : { type: 'data', streamId: first & 0x7fffffff, fin: (flags & 1) !== 0, data: body.slice() },
      );
      at += 8 + length;
    }
    this.pending = this.pending.slice(at);
    return frames;
  }

  private control(version: number, type: number, flags: number, body: Uint8Array): SpdyFrame {
    if (version !== 3) throw new SpdyProtocolError(`SPDY version ${version} is not spoken here (3 is)`);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const need = (n: number) => {
      if (body.length < n) throw new SpdyProtocolError(`a control frame of type ${type} is too short`);
    };
    const fin = (flags & 1) !== 0;
    switch (type) {
      case TYPE.synStream:
        need(10);
        return {
          type: 'syn_stream',
          streamId: view.getUint32(0) & 0x7fffffff,
          fin,
          headers: this.headerStream.read(body.subarray(10)),
        };
      case TYPE.synReply:
      case TYPE.headers:
        need(4);
        return {
          type: type === TYPE.synReply ? 'syn_reply' : 'headers',
          streamId: view.getUint32(0) & 0x7fffffff,
          fin,
          headers: this.headerStream.read(body.subarray(4)),
        };
      case TYPE.rstStream:
        need(8);
        return { type: 'rst_stream', streamId: view.getUint32(0) & 0x7fffffff, status: view.getUint32(4) };
      case TYPE.ping:
        need(4);
        return { type: 'ping', id: view.getUint32(0) };
      case TYPE.goAway:
        need(4);
        return {
          type: 'goaway',
          lastGoodStreamId: view.getUint32(0) & 0x7fffffff,
          status: body.length >= 8 ? view.getUint32(4) : 0,
        };
      default:
        return { type: 'ignored', frameType: type };
    }
  }
}

/** Writes the frames of one connection's side (its header blocks share one zlib stream). */
export class SpdyWriter {
  private readonly headerStream = new HeaderDeflater();

  synStream(streamId: number, headers: SpdyHeaders, fin = false): Uint8Array {
    const block = this.headerStream.write(headers);
    const body = new Uint8Array(10 + block.length);
    const view = new DataView(body.buffer);
    view.setUint32(0, streamId & 0x7fffffff);
    body.set(block, 10);
    return controlFrame(TYPE.synStream, fin ? 1 : 0, body);
  }

  synReply(streamId: number, headers: SpdyHeaders = {}, fin = false): Uint8Array {
    const block = this.headerStream.write(headers);
    const body = new Uint8Array(4 + block.length);
    new DataView(body.buffer).setUint32(0, streamId & 0x7fffffff);
    body.set(block, 4);
    return controlFrame(TYPE.synReply, fin ? 1 : 0, body);
  }

  /** `data` as frames of at most DATA_CHUNK bytes; `fin` on the last (an empty frame when no data). */
  data(streamId: number, data: Uint8Array, fin = false): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (let at = 0; at < data.length || (frames.length === 0 && fin); at += DATA_CHUNK) {
      const part = data.subarray(at, at + DATA_CHUNK);
      const last = at + DATA_CHUNK >= data.length;
      const frame = new Uint8Array(8 + part.length);
      const view = new DataView(frame.buffer);
      view.setUint32(0, streamId & 0x7fffffff);
      view.setUint32(4, ((fin && last ? 1 : 0) << 24) | part.length);
      frame.set(part, 8);
      frames.push(frame);
      if (part.length === 0) break;
    }
    return frames;
  }

  rstStream(streamId: number, status: number): Uint8Array {
    const body = new Uint8Array(8);
    const view = new DataView(body.buffer);
    view.setUint32(0, streamId & 0x7fffffff);
    view.setUint32(4, status);
    return controlFrame(TYPE.rstStream, 0, body);
  }

  ping(id: number): Uint8Array {
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, id);
    return controlFrame(TYPE.ping, 0, body);
  }

  goAway(lastGoodStreamId: number, status = 0): Uint8Array {
    const body = new Uint8Array(8);
    const view = new DataView(body.buffer);
    view.setUint32(0, lastGoodStreamId & 0x7fffffff);
    view.setUint32(4, status);
    return controlFrame(TYPE.goAway, 0, body);
  }
}

function controlFrame(type: number, flags: number, body: Uint8Array): Uint8Array {
  if (body.length > MAX_FRAME) throw new SpdyProtocolError('a control frame is too large');
  const frame = new Uint8Array(8 + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 0x80000000 | (3 << 16) | type);
  view.setUint32(4, (flags << 24) | body.length);
  frame.set(body, 8);
  return frame;
}

/** The reading side's header stream: each block continues the same zlib stream. */
class HeaderInflater {
  private readonly inflate = new Inflate({ dictionary: SPDY3_DICTIONARY });
  private out: Uint8Array[] = [];

  constructor() {
    this.inflate.onData = (chunk) => this.out.push(chunk);
  }

  read(block: Uint8Array): SpdyHeaders {
    this.out = [];
    this.inflate.push(block, Z_SYNC_FLUSH);
    if (this.inflate.err) throw new SpdyProtocolError(`a header block does not inflate: ${this.inflate.msg}`);
    const bytes = this.out.reduce((all, c) => concat(all, c), new Uint8Array(0));
    if (bytes.length > MAX_HEADER_BLOCK) throw new SpdyProtocolError('a header block is too large');
    return parseHeaderBlock(bytes);
  }
}

/** The writing side's header stream, flushed after every block so the peer can read it at once. */
class HeaderDeflater {
  private readonly deflate = new Deflate({ dictionary: SPDY3_DICTIONARY });
  private out: Uint8Array[] = [];

  constructor() {
    this.deflate.onData = (chunk) => this.out.push(chunk);
  }

  write(headers: SpdyHeaders): Uint8Array {
    this.out = [];
    this.deflate.push(headerBlock(headers), Z_SYNC_FLUSH);
    return this.out.reduce((all, c) => concat(all, c), new Uint8Array(0));
  }
}

/** Count, then each name and its values (joined by NUL), every length a 32-bit big-endian number. */
function headerBlock(headers: SpdyHeaders): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const entries = Object.entries(headers);
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return b;
  };
  parts.push(u32(entries.length));
  for (const [name, values] of entries) {
    const n = enc.encode(name.toLowerCase());
    const v = enc.encode(values.join('\0'));
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return parts.reduce((all, p) => concat(all, p), new Uint8Array(0));
}

function parseHeaderBlock(bytes: Uint8Array): SpdyHeaders {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  let at = 0;
  const u32 = () => {
    if (at + 4 > bytes.length) throw new SpdyProtocolError('a header block ends early');
    const n = view.getUint32(at);
    at += 4;
    return n;
  };
  const text = (n: number) => {
    if (at + n > bytes.length) throw new SpdyProtocolError('a header block ends early');
    const s = dec.decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  const headers: SpdyHeaders = {};
  for (let count = u32(); count > 0; count--) {
    const name = text(u32()).toLowerCase();
    headers[name] = [...(headers[name] ?? []), ...text(u32()).split('\0')];
  }
  return headers;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * SPDY/3's preset dictionary for header compression (the protocol's constant, 1,423 bytes): these
 * words, each after its length as a 32-bit number, then this text.
 */
const SPDY3_DICTIONARY: Uint8Array = (() => {
  const words =
    'options head post put delete trace accept accept-charset accept-encoding accept-language ' +
    'accept-ranges age allow authorization cache-control connection content-base content-encoding ' +
    'content-language content-length content-location content-md5 content-range content-type date ' +
    'etag expect expires from host if-match if-modified-since if-none-match if-range ' +
    'if-unmodified-since last-modified location max-forwards pragma proxy-authenticate ' +
    'proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade ' +
    'user-agent vary via warning www-authenticate method get status';
  // One word has a space in it.
  const after = 'version HTTP/1.1 url public set-cookie keep-alive origin';
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 ' +
    'Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service ' +
    'UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, ' +
    'Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,' +
    'application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch' +
    'charset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const word of [...words.split(' '), '200 OK', ...after.split(' ')]) {
    const w = enc.encode(word);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, w.length);
    parts.push(len, w);
  }
  parts.push(enc.encode(tail));
  return parts.reduce((all, p) => concat(all, p), new Uint8Array(0));
})();

/** For tests: the dictionary's bytes. */
export const spdyDictionaryForTest = (): Uint8Array => SPDY3_DICTIONARY;
