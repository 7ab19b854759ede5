import { connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { EndpointPicker, type Target } from './endpoint-picker.ts';
import { TcpProxy } from './tcp-proxy.ts';

const log = createLogger('silent');
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** An endpoint that answers `<name>:<what it read>` once the client half-closes. */
async function endpoint(name: string): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('end', () => s.end(`${name}:${got}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => server.close());
  return (server.address() as { port: number }).port;
}

/** An endpoint that accepts and hangs up without a byte: a userland port proxy before a dead container. */
async function hangsUp(): Promise<number> {
  const server: Server = createServer((s) => {
    s.once('data', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => server.close());
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: connecting is refused. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => s.end(text));
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

async function proxy(targets: Target[], picker = new EndpointPicker()): Promise<number> {
  const p = new TcpProxy({
    host: '127.0.0.1',
    port: 0,
    targets: () => targets,
    picker,
    affinitySeconds: () => undefined,
    log,
  });
  const port = await p.listen();
  closers.push(() => p.close());
  return port;
}

describe('TcpProxy', () => {
  it('pipes both ways and honours a half-close: the client ends, the answer still comes', async () => {
    const port = await proxy([{ key: 'a', host: '127.0.0.1', port: await endpoint('a') }]);
    expect(await ask(port, 'hello')).toBe('a:hello');
  });

  it('balances over the endpoints', async () => {
    const port = await proxy([
      { key: 'a', host: '127.0.0.1', port: await endpoint('a') },
      { key: 'b', host: '127.0.0.1', port: await endpoint('b') },
    ]);
    const answers = [await ask(port, 'x'), await ask(port, 'x'), await ask(port, 'x'), await ask(port, 'x')];
    expect(answers.sort()).toEqual(['a:x', 'a:x', 'b:x', 'b:x']);
  });

  it('tries the next endpoint when one refuses, and passes over the refusing one afterwards', async () => {
    const picker = new EndpointPicker();
    const port = await proxy(
      [
        { key: 'gone', host: '127.0.0.1', port: await closedPort() },
        { key: 'b', host: '127.0.0.1', port: await endpoint('b') },
      ],
      picker,
    );
    for (let i = 0; i < 4; i++) expect(await ask(port, 'x')).toBe('b:x');
    expect(
      picker.order(
        [
          { key: 'gone', host: '', port: 1 },
          { key: 'b', host: '', port: 2 },
        ],
        'c',
      )[0]?.key,
    ).toBe('b');
  });

  it('resets the client when no endpoint is there', async () => {
    const port = await proxy([]);
    await expect(ask(port, 'x')).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  it('sends the same bytes to the next endpoint when one accepts and hangs up without answering', async () => {
    const picker = new EndpointPicker();
    const port = await proxy(
      [
        { key: 'dead', host: '127.0.0.1', port: await hangsUp() },
        { key: 'b', host: '127.0.0.1', port: await endpoint('b') },
      ],
      picker,
    );
    expect(await ask(port, 'PING')).toBe('b:PING');
    // And the one that hung up is passed over for the next connection.
    expect(await ask(port, 'again')).toBe('b:again');
  });
});
