import type { ClientHttp2Session } from 'node:http2';

/**
 * The client side of the standard gRPC health-checking protocol (grpc.health.v1.Health/Check),
 * as Kubernetes' grpc probe speaks it: one unary call over HTTP/2 cleartext, SERVING or not.
 * The request and the response are one tiny protobuf message each, so they are encoded by hand
 * here rather than by a gRPC library (the agent's memory is budgeted). node:http2 itself is loaded
 * at the first grpc probe: it adds 2.5 MB of RSS to an agent that has none.
 *
 *   HealthCheckRequest  { string service = 1; }
 *   HealthCheckResponse { ServingStatus status = 1; }
 *   ServingStatus       UNKNOWN = 0, SERVING = 1, NOT_SERVING = 2, SERVICE_UNKNOWN = 3
 */

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
/** gRPC status codes the outcome names. */
const GRPC_CODES: Record<number, string> = {
  1: 'Canceled',
  2: 'Unknown',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
};
/** A health response is a few bytes; anything much larger is not one. */
const MAX_MESSAGE_BYTES = 64 * 1024;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** Reads a varint at `at`: its value and the offset after it; undefined when truncated. */
function readVarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0, i = at; i < buf.length && shift < 35; shift += 7, i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/** HealthCheckRequest as protobuf; an empty service is the field's default, so it is left out. */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

/** The service a HealthCheckRequest names (for test servers); unknown fields are skipped. */
export function decodeHealthCheckRequest(msg: Buffer): string {
  let service = '';
  eachField(msg, (field, wire, value) => {
    if (field === 1 && wire === 2 && Buffer.isBuffer(value)) service = value.toString('utf8');
  });
  return service;
}

/** HealthCheckResponse as protobuf (UNKNOWN, the default, is no bytes at all). */
export function encodeHealthCheckResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x08]), varint(status)]);
}

/** The ServingStatus of a HealthCheckResponse; undefined when the bytes are not one. */
export function decodeHealthCheckResponse(msg: Buffer): number | undefined {
  let status = 0;
  const ok = eachField(msg, (field, wire, value) => {
    if (field === 1 && wire === 0 && typeof value === 'number') status = value;
  });
  return ok ? status : undefined;
}

/** Walks protobuf fields; false when the message is malformed. */
function eachField(msg: Buffer, fn: (field: number, wire: number, value: number | Buffer) => void): boolean {
  let at = 0;
  while (at < msg.length) {
    const key = readVarint(msg, at);
    if (!key) return false;
    const field = Math.floor(key.value / 8);
    const wire = key.value & 7;
    at = key.next;
    if (wire === 0) {
      const v = readVarint(msg, at);
      if (!v) return false;
      fn(field, wire, v.value);
      at = v.next;
    } else if (wire === 2) {
      const len = readVarint(msg, at);
      if (!len || len.next + len.value > msg.length) return false;
      fn(field, wire, msg.subarray(len.next, len.next + len.value));
      at = len.next + len.value;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > msg.length) return false;
    } else {
      return false;
    }
  }
  return true;
}

/** A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, the bytes. */
export function grpcFrame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** The first message of a gRPC body; undefined when it is incomplete or compressed. */
export function readGrpcFrame(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  return body.length < 5 + len ? undefined : body.subarray(5, 5 + len);
}

export interface HealthOutcome {
  ok: boolean;
  detail?: string;
}

/**
 * One health check of `service` ('' is the whole server) at host:port within timeoutMs. SERVING
 * is a success; any other status, an error status or no answer is a failure that says which, in
 * the words Kubernetes' probe uses. Never rejects.
 */
export async function grpcHealthCheck(
  target: { host: string; port: number },
  service: string,
  timeoutMs: number,
): Promise<HealthOutcome> {
  const { connect } = await import('node:http2');
  const authority = target.host.includes(':')
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  return new Promise((resolve) => {
    let settled = false;
    const session: ClientHttp2Session = connect(`http://${authority}`);
    const finish = (outcome: HealthOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    let connected = false;
    const timer = setTimeout(() => {
      finish({
        ok: false,
        detail: connected
          ? `timeout: health rpc did not complete within ${timeoutMs} ms`
          : `timeout: failed to connect service "${authority}" within ${timeoutMs} ms`,
      });
    }, timeoutMs);
    session.once('connect', () => {
      connected = true;
    });
    session.on('error', (e) => finish({ ok: false, detail: `error: health rpc probe failed: ${e.message}` }));
    const req = session.request({
      ':method': 'POST',
      ':path': HEALTH_CHECK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${Math.max(1, timeoutMs)}m`,
      'user-agent': 'berth-probe/1',
    });
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('response', (h) => {
      headers = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_MESSAGE_BYTES)
        return finish({ ok: false, detail: 'error: health rpc answer is too large' });
      chunks.push(chunk);
    });
    req.on('error', (e) => finish({ ok: false, detail: `error: health rpc probe failed: ${e.message}` }));
    req.on('end', () => finish(verdict(headers, trailers, Buffer.concat(chunks))));
    req.end(grpcFrame(encodeHealthCheckRequest(service)));
  });
}

/** What an answer says: HTTP status, then grpc-status (a trailers-only answer has it in the headers), then the message. */
function verdict(
  headers: Record<string, unknown>,
  trailers: Record<string, unknown>,
  body: Buffer,
): HealthOutcome {
  const httpStatus = Number(headers[':status']);
  if (httpStatus !== 200)
    return {
      ok: false,
      detail: `error: health rpc probe failed: HTTP status ${httpStatus}, not a gRPC server`,
    };
  const code = Number(trailers['grpc-status'] ?? headers['grpc-status'] ?? Number.NaN);
  if (Number.isNaN(code)) return { ok: false, detail: 'error: health rpc probe failed: no grpc-status' };
  if (code !== 0) {
    const message = String(trailers['grpc-message'] ?? headers['grpc-message'] ?? '');
    const name = GRPC_CODES[code] ?? `code ${code}`;
    if (code === 12)
      return {
        ok: false,
        detail: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${message}`,
      };
    return {
      ok: false,
      detail: `error: health rpc probe failed: rpc error: code = ${name} desc = ${message}`,
    };
  }
  const msg = readGrpcFrame(body);
  const status = msg && decodeHealthCheckResponse(msg);
  if (status === undefined)
    return { ok: false, detail: 'error: health rpc probe failed: malformed response' };
  if (status === 1) return { ok: true };
  return { ok: false, detail: `service unhealthy (responded with "${SERVING_STATUS[status] ?? status}")` };
}
