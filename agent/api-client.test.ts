import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './api-client.ts';

/**
 * A control plane behind a network that drops packets: connections are accepted and requests
 * read, but nothing comes back (or the answer stops after its headers). Every call must give
 * up by its deadline, even when the caller passes a signal of its own that never fires.
 */
describe('ApiClient behind a black hole', () => {
  let base = '';
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    held.push(res);
    if (req.url?.startsWith('/half/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"nodeId":');
    }
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  const timeoutMs = 300;
  const never = new AbortController().signal;
  const register = {
    joinToken: 'j',
    name: 'n',
    labels: {},
    capacity: { cpu: 1, memoryBytes: 1 },
    address: '127.0.0.1',
    agentVersion: 't',
  };

  const givesUp = async (call: () => Promise<unknown>, withinMs: number) => {
    const t0 = performance.now();
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = performance.now() - t0;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(0);
    expect((error as ApiError).transient).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(ms).toBeLessThan(withinMs);
  };

  it('gives up on register, status and logs at the deadline, whatever signal the caller passes', async () => {
    const api = new ApiClient(base, 'test', undefined, timeoutMs);
    await givesUp(() => api.register(register, never), 2000);
    await givesUp(() => api.status('t', { replicas: [] }, never), 2000);
    await givesUp(() => api.logs('t', { id: 'x', lines: [] }, never), 2000);
  });

  it('gives a long-poll its wait plus the deadline, then gives up', async () => {
    const api = new ApiClient(base, 'test', undefined, timeoutMs);
    const t0 = performance.now();
    await givesUp(() => api.assignments('t', undefined, 1, never), 3000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1000 + timeoutMs - 20);
  });

  it('gives up on an answer that stops after its headers', async () => {
    const api = new ApiClient(`${base}/half`, 'test', undefined, timeoutMs);
    await givesUp(() => api.register(register, never), 2000);
  });
});
