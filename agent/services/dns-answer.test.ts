import { describe, expect, it } from 'vitest';
import type { MapService, ServiceMap } from '../../common/agent-protocol.ts';
import { answerQuestion, type DnsDecision, dnsZone } from './dns-answer.ts';

const svc = (s: Partial<MapService> & Pick<MapService, 'name'>): MapService => ({
  namespace: 'shop',
  type: 'ClusterIP',
  ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
  endpoints: [],
  ...s,
});

const map: ServiceMap = {
  clusterDomain: 'cluster.local',
  endpointCidr: '10.250.0.0/16',
  services: [
    svc({ name: 'backend', clusterIP: '10.96.0.10' }),
    svc({
      name: 'db',
      headless: true,
      endpoints: [
        { replica: 'db-0', node: 'n1', address: '192.0.2.1', hostPorts: [30001] },
        { replica: 'db-1', node: 'n2', address: '192.0.2.2', hostPorts: [30002] },
      ],
    }),
    svc({ name: 'ext', type: 'ExternalName', externalName: 'api.example.com.', ports: [] }),
    svc({ name: 'private', namespace: 'vault', clusterIP: '10.96.0.20', reachableFrom: ['ops'] }),
    svc({ name: 'open', namespace: 'tools', clusterIP: '10.96.0.30' }),
  ],
};
const headless: Record<string, string> = { 'db-0': '10.250.0.1', 'db-1': '10.250.0.2' };
const zone = dnsZone(map, (_s, replica) => headless[replica]);
const ask = (name: string, type = 'A', from = 'shop') => answerQuestion(zone, from, { name, type });
const data = (d: DnsDecision) =>
  d.kind === 'answer' ? d.answers.map((a) => ('data' in a ? a.data : undefined)) : d.kind;

describe('answerQuestion', () => {
  it('answers the full name of a service with its cluster IP, whatever the case or trailing dot', () => {
    expect(data(ask('backend.shop.svc.cluster.local'))).toEqual(['10.96.0.10']);
    expect(data(ask('Backend.Shop.SVC.cluster.local.'))).toEqual(['10.96.0.10']);
    const d = ask('backend.shop.svc.cluster.local');
    expect(d.kind === 'answer' && d.answers[0]).toMatchObject({ type: 'A', ttl: 5 });
  });

  it('says NXDOMAIN to what the search list makes of short names until it reaches the full name', () => {
    // `backend.shop` searched in `shop.svc.cluster.local` first, then `svc.cluster.local`.
    expect(ask('backend.shop.shop.svc.cluster.local')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(ask('backend.shop.svc.svc.cluster.local')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(ask('backend.cluster.local')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(ask('nothing.shop.svc.cluster.local')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(ask('cluster.local')).toMatchObject({ rcode: 'NXDOMAIN' });
  });

  it('answers an existing name with no records of other types (NODATA), never NXDOMAIN', () => {
    // musl asks A and AAAA at once and gives up on an NXDOMAIN for either.
    expect(ask('backend.shop.svc.cluster.local', 'AAAA')).toEqual({
      kind: 'answer',
      rcode: 'NOERROR',
      answers: [],
      additionals: [],
    });
  });

  it('forwards names outside the cluster domain', () => {
    expect(ask('example.com')).toEqual({ kind: 'forward' });
    expect(ask('backend')).toEqual({ kind: 'forward' });
    expect(ask('notcluster.local')).toEqual({ kind: 'forward' });
  });

  it('hides a service from namespaces outside reachableFrom, and shows it to those in it', () => {
    expect(ask('private.vault.svc.cluster.local', 'A', 'shop')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(data(ask('private.vault.svc.cluster.local', 'A', 'ops'))).toEqual(['10.96.0.20']);
    expect(data(ask('private.vault.svc.cluster.local', 'A', 'vault'))).toEqual(['10.96.0.20']);
    expect(data(ask('open.tools.svc.cluster.local', 'A', 'shop'))).toEqual(['10.96.0.30']);
  });

  it('answers a headless service with one address per endpoint, and each endpoint by its own name', () => {
    expect(data(ask('db.shop.svc.cluster.local'))).toEqual(['10.250.0.1', '10.250.0.2']);
    expect(data(ask('10-250-0-2.db.shop.svc.cluster.local'))).toEqual(['10.250.0.2']);
    expect(ask('10-250-0-9.db.shop.svc.cluster.local')).toMatchObject({ rcode: 'NXDOMAIN' });
  });

  it('answers SRV for a named port: the service name for a cluster IP, each endpoint for a headless one', () => {
    const d = ask('_http._tcp.backend.shop.svc.cluster.local', 'SRV');
    expect(d).toMatchObject({
      rcode: 'NOERROR',
      answers: [{ type: 'SRV', data: { port: 80, target: 'backend.shop.svc.cluster.local' } }],
      additionals: [{ type: 'A', name: 'backend.shop.svc.cluster.local', data: '10.96.0.10' }],
    });
    const h = ask('_http._tcp.db.shop.svc.cluster.local', 'SRV');
    expect(h.kind === 'answer' && h.answers.map((a) => a.type === 'SRV' && a.data.target)).toEqual([
      '10-250-0-1.db.shop.svc.cluster.local',
      '10-250-0-2.db.shop.svc.cluster.local',
    ]);
    expect(h.kind === 'answer' && h.additionals.map((a) => 'data' in a && a.data)).toEqual([
      '10.250.0.1',
      '10.250.0.2',
    ]);
    expect(ask('_http._udp.backend.shop.svc.cluster.local', 'SRV')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(ask('_grpc._tcp.backend.shop.svc.cluster.local', 'SRV')).toMatchObject({ rcode: 'NXDOMAIN' });
  });

  it('answers an ExternalName with a CNAME whose target is looked up upstream', () => {
    expect(ask('ext.shop.svc.cluster.local')).toEqual({
      kind: 'external',
      cname: { type: 'CNAME', name: 'ext.shop.svc.cluster.local', ttl: 5, data: 'api.example.com' },
      target: 'api.example.com',
    });
    expect(data(ask('ext.shop.svc.cluster.local', 'CNAME'))).toEqual(['api.example.com']);
  });
});
