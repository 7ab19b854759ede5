import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleHandler } from '../common/deployment.ts';
import { runHook } from './hooks.ts';
import type { ProbeContext } from './probes.ts';

describe('runHook', () => {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.statusCode = req.url === '/fail' ? 500 : 200;
    res.end();
  });
  let ctx: ProbeContext;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    ctx = { ports: [], hostPorts: [{ containerPort: 8080, hostPort: port }], address: '127.0.0.1' };
  });
  afterAll(() => server.close());
  const noExec = async () => 0;
  const get = (path: string): LifecycleHandler => ({ httpGet: { path, port: 8080, scheme: 'HTTP' } });

  it('httpGet reaches the pod; any answer is a success, as the kubelet only delivers it', async () => {
    expect(await runHook(get('/drain'), ctx, noExec, 1000)).toEqual({ ok: true });
    expect(await runHook(get('/fail'), ctx, noExec, 1000)).toEqual({ ok: true });
    expect(paths).toEqual(['/drain', '/fail']);
    const nowhere = { ...ctx, hostPorts: [] };
    expect(await runHook(get('/x'), nowhere, noExec, 1000)).toMatchObject({ ok: false });
  });

  it('exec fails on a non-zero exit and on its timeout', async () => {
    const calls: [string[], number][] = [];
    const exec = async (cmd: string[], timeoutMs: number) => {
      calls.push([cmd, timeoutMs]);
      if (cmd[0] === 'slow') throw new Error(`command timed out after ${timeoutMs} ms`);
      return cmd[0] === 'true' ? 0 : 3;
    };
    expect(await runHook({ exec: { command: ['true'] } }, ctx, exec, 5000)).toEqual({ ok: true });
    expect(await runHook({ exec: { command: ['false'] } }, ctx, exec, 5000)).toEqual({
      ok: false,
      detail: 'command exited with 3',
    });
    expect(await runHook({ exec: { command: ['slow'] } }, ctx, exec, 700)).toEqual({
      ok: false,
      detail: 'command timed out after 700 ms',
    });
    expect(calls.map(([, t]) => t)).toEqual([5000, 5000, 700]);
  });

  it('sleep sleeps, bounded by the timeout; an abort ends any hook at once', async () => {
    let t0 = performance.now();
    expect(await runHook({ sleep: { seconds: 1 } }, ctx, noExec, 5000)).toEqual({ ok: true });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    t0 = performance.now();
    expect(await runHook({ sleep: { seconds: 60 } }, ctx, noExec, 300)).toMatchObject({ ok: false });
    expect(performance.now() - t0).toBeLessThan(5000);

    const abort = new AbortController();
    const never = () => new Promise<number>(() => {});
    t0 = performance.now();
    setTimeout(() => abort.abort(), 100);
    expect(await runHook({ exec: { command: ['x'] } }, ctx, never, 60_000, abort.signal)).toEqual({
      ok: false,
      detail: 'aborted',
    });
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
