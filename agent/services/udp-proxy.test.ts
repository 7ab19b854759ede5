import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { EndpointPicker } from './endpoint-picker.ts';
import { UdpProxy } from './udp-proxy.ts';

const log = createLogger('silent');
const sockets: { close(): void }[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  sockets.push(s);
  return s;
}

describe('UdpProxy', () => {
  it('relays datagrams to one endpoint per client and the replies back from the listener', async () => {
    const endpoint = await bound();
    const seen = new Set<number>();
    endpoint.on('message', (msg, r) => {
      seen.add(r.port);
      endpoint.send(`re:${msg}`, r.port, r.address);
    });
    const proxy = new UdpProxy({
      host: '127.0.0.1',
      port: 0,
      targets: () => [{ key: 'a', host: '127.0.0.1', port: endpoint.address().port }],
      picker: new EndpointPicker(),
      affinitySeconds: () => undefined,
      log,
    });
    const port = await proxy.listen();
    sockets.push(proxy);
    const client = await bound();
    const replies: { text: string; from: number }[] = [];
    client.on('message', (m, r) => replies.push({ text: m.toString(), from: r.port }));
    client.send('one', port, '127.0.0.1');
    client.send('two', port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 200));
    expect(replies.map((r) => r.text).sort()).toEqual(['re:one', 're:two']);
    expect(replies.every((r) => r.from === port)).toBe(true);
    // One session socket for one client.
    expect(seen.size).toBe(1);
  });
});
