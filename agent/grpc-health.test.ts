import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Probe } from '../common/deployment.ts';
import {
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  grpcFrame,
  grpcHealthCheck,
  readGrpcFrame,
} from './grpc-health.ts';
import { runProbe } from './probes.ts';
import { GrpcHealthServer } from './testing/grpc-health-server.ts';

describe('the health messages', () => {
  it('encodes and decodes HealthCheckRequest and HealthCheckResponse as protobuf does', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(0));
    expect(encodeHealthCheckRequest('db')).toEqual(Buffer.from([0x0a, 2, 0x64, 0x62]));
    const long = 'x'.repeat(300);
    expect(decodeHealthCheckRequest(encodeHealthCheckRequest(long))).toBe(long);
    expect(encodeHealthCheckResponse(1)).toEqual(Buffer.from([0x08, 1]));
    expect(decodeHealthCheckResponse(Buffer.from([0x08, 2]))).toBe(2);
    // UNKNOWN is the default: no bytes. Unknown fields are skipped.
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe(0);
    expect(decodeHealthCheckResponse(Buffer.from([0x12, 1, 0x41, 0x08, 1]))).toBe(1);
    expect(decodeHealthCheckResponse(Buffer.from([0x08]))).toBeUndefined();
    expect(readGrpcFrame(grpcFrame(Buffer.from([0x08, 1])))).toEqual(Buffer.from([0x08, 1]));
    expect(readGrpcFrame(Buffer.from([0, 0, 0, 0, 5, 1]))).toBeUndefined();
  });
});

describe('grpc probes against a health server', () => {
  let server: GrpcHealthServer;
  const target = () => ({ host: '127.0.0.1', port: server.port });

  beforeAll(async () => {
    server = await GrpcHealthServer.start();
    server.statuses.set('db', 2);
    server.statuses.set('cache', 1);
  });
  afterAll(() => server.close());

  it('SERVING passes, for the whole server and for a named service', async () => {
    expect(await grpcHealthCheck(target(), '', 1000)).toEqual({ ok: true });
    expect(await grpcHealthCheck(target(), 'cache', 1000)).toEqual({ ok: true });
    expect(server.asked.slice(-2)).toEqual(['', 'cache']);
  });

  it('NOT_SERVING and an unknown service fail, saying so', async () => {
    expect(await grpcHealthCheck(target(), 'db', 1000)).toEqual({
      ok: false,
      detail: 'service unhealthy (responded with "NOT_SERVING")',
    });
    expect(await grpcHealthCheck(target(), 'nope', 1000)).toEqual({
      ok: false,
      detail: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    });
  });

  it('a server that does not answer fails after timeoutSeconds', async () => {
    server.silent = true;
    try {
      const t0 = performance.now();
      const outcome = await grpcHealthCheck(target(), '', 300);
      expect(outcome).toEqual({ ok: false, detail: 'timeout: health rpc did not complete within 300 ms' });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    } finally {
      server.silent = false;
    }
  });

  it('nothing listening, and an HTTP/1 server, fail', async () => {
    const closed = await GrpcHealthServer.start();
    const port = closed.port;
    await closed.close();
    const refused = await grpcHealthCheck({ host: '127.0.0.1', port }, '', 1000);
    expect(refused.ok).toBe(false);
    expect(refused.detail).toMatch(/ECONNREFUSED/);

    const http1 = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => http1.listen(0, '127.0.0.1', r));
    try {
      const outcome = await grpcHealthCheck(
        { host: '127.0.0.1', port: (http1.address() as AddressInfo).port },
        '',
        1000,
      );
      expect(outcome.ok).toBe(false);
    } finally {
      http1.close();
    }
  });

  it('runProbe speaks grpc to the published port of the probed container port', async () => {
    const ctx = {
      ports: [],
      hostPorts: [{ containerPort: 9000, hostPort: server.port }],
      address: '127.0.0.1',
    };
    const probe = (service?: string) =>
      Probe.parse({ grpc: { port: 9000, ...(service ? { service } : {}) } });
    const exec = async () => 0;
    expect(await runProbe(probe(), ctx, exec)).toEqual({ ok: true });
    expect(await runProbe(probe('db'), ctx, exec)).toMatchObject({ ok: false, detail: /NOT_SERVING/ });
  });
});
