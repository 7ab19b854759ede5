import { createSocket, type Socket } from 'node:dgram';
import * as dns from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceMap } from '../../common/agent-protocol.ts';
import { dnsZone } from './dns-answer.ts';
import { respond, systemUpstreams, type Upstream } from './dns-server.ts';

const map: ServiceMap = {
  clusterDomain: 'cluster.local',
  endpointCidr: '10.250.0.0/16',
  services: [
    {
      namespace: 'shop',
      name: 'backend',
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      ports: [],
      endpoints: [],
    },
    {
      namespace: 'shop',
      name: 'ext',
      type: 'ExternalName',
      externalName: 'api.example.test',
      ports: [],
      endpoints: [],
    },
  ],
};
const zone = dnsZone(map, () => undefined);

let upstream: Socket;
let upstreams: Upstream[];
beforeAll(async () => {
  upstream = createSocket('udp4');
  upstream.on('message', (msg, r) => {
    const q = dns.decode(msg);
    const question = q.questions![0]!;
    upstream.send(
      dns.encode({
        type: 'response',
        id: q.id ?? 0,
        flags: dns.RECURSION_AVAILABLE,
        questions: q.questions ?? [],
        answers: [{ type: 'A', name: question.name, ttl: 300, data: '198.51.100.9' }],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  upstreams = [{ host: '127.0.0.1', port: upstream.address().port }];
});
afterAll(() => upstream.close());

const query = (name: string, type: 'A' | 'AAAA' = 'A') =>
  dns.encode({
    type: 'query',
    id: 4242,
    flags: dns.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
  });

describe('respond', () => {
  it('answers a cluster name itself: authoritative, same id, the question echoed', async () => {
    const out = dns.decode(
      (await respond(query('backend.shop.svc.cluster.local'), 'shop', zone, upstreams))!,
    );
    expect(out).toMatchObject({ id: 4242, rcode: 'NOERROR', flag_aa: true, flag_rd: true });
    expect(out.answers).toMatchObject([{ type: 'A', data: '10.96.0.10', ttl: 5 }]);
  });

  it('says NXDOMAIN for an unknown cluster name, without asking upstream', async () => {
    const out = dns.decode((await respond(query('nope.shop.svc.cluster.local'), 'shop', zone, []))!);
    expect(out).toMatchObject({ rcode: 'NXDOMAIN' });
  });

  it('relays other names to the upstream, answer and TTL as it gave them', async () => {
    const out = dns.decode((await respond(query('www.example.test'), 'shop', zone, upstreams))!);
    expect(out.id).toBe(4242);
    expect(out.answers).toMatchObject([
      { type: 'A', name: 'www.example.test', data: '198.51.100.9', ttl: 300 },
    ]);
  });

  it("answers an ExternalName with its CNAME and the target's records from upstream", async () => {
    const out = dns.decode((await respond(query('ext.shop.svc.cluster.local'), 'shop', zone, upstreams))!);
    expect(out.answers).toMatchObject([
      { type: 'CNAME', name: 'ext.shop.svc.cluster.local', data: 'api.example.test' },
      { type: 'A', name: 'api.example.test', data: '198.51.100.9' },
    ]);
  });

  it('truncates a UDP answer longer than the client takes, so that it asks over TCP, where it gets all', async () => {
    const many = dnsZone(
      {
        ...map,
        services: [
          {
            namespace: 'shop',
            name: 'db',
            type: 'ClusterIP',
            headless: true,
            ports: [],
            endpoints: Array.from({ length: 60 }, (_, i) => ({
              replica: `db-${i}`,
              node: 'n',
              address: '192.0.2.1',
              hostPorts: [],
            })),
          },
        ],
      },
      (_s, replica) => `10.250.0.${Number(replica.slice(3)) + 1}`,
    );
    const udp = dns.decode((await respond(query('db.shop.svc.cluster.local'), 'shop', many, []))!);
    expect(udp).toMatchObject({ flag_tc: true, answers: [] });
    const tcp = dns.decode((await respond(query('db.shop.svc.cluster.local'), 'shop', many, [], 'tcp'))!);
    expect(tcp.answers).toHaveLength(60);
    expect(tcp).toMatchObject({ flag_tc: false });
  });

  it('drops what is not a query', async () => {
    expect(await respond(Buffer.from('nonsense'), 'shop', zone, upstreams)).toBeUndefined();
  });
});

describe('systemUpstreams', () => {
  it("reads the node's IPv4 nameservers", async () => {
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/berth-resolv-');
    await writeFile(
      `${dir}/resolv.conf`,
      'search x\nnameserver 10.0.0.53\nnameserver ::1\nnameserver 127.0.0.53\n',
    );
    expect(systemUpstreams(`${dir}/resolv.conf`)).toEqual([
      { host: '10.0.0.53', port: 53 },
      { host: '127.0.0.53', port: 53 },
    ]);
  });
});
