import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run } from './main.ts';
import { captureIo } from './testing/stub-server.ts';

describe('berth kubeconfig', () => {
  it('prints a kubeconfig for the server, token and namespace', async () => {
    const io = captureIo();
    const code = await run(
      ['kubeconfig', '--server', 'https://berth.example.com', '--token', 'berth_u_x', '-n', 'shop'],
      io,
    );
    expect(code).toBe(0);
    const config = parse(io.output());
    expect(config['current-context']).toBe('berth-berth.example.com');
    expect(config.clusters[0].cluster.server).toBe('https://berth.example.com');
    expect(config.users[0].user.token).toBe('berth_u_x');
    expect(config.contexts[0].context).toEqual({
      cluster: 'berth-berth.example.com',
      user: 'berth-berth.example.com',
      namespace: 'shop',
    });
    expect(io.errors()).toBe('');
  });

  it('warns that kubectl sends no token over plain http', async () => {
    const io = captureIo();
    await run(['kubeconfig', '--server', 'http://127.0.0.1:8080', '--token', 't'], io);
    expect(io.errors()).toContain('kubectl sends no token over plain http://');
  });
});
