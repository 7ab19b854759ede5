import type { Answer } from 'dns-packet';
import type { MapService, ServiceMap } from '../../common/agent-protocol.ts';

/**
 * What the node's DNS says to a question from one namespace's containers: pure, from the service
 * map and the node-local addresses of headless endpoints. Names under the cluster domain are
 * Berth's to answer (NXDOMAIN when unknown or out of the asker's reach); every other name goes to
 * the node's own resolvers, so external names keep working. The names are Kubernetes':
 * `<svc>.<ns>.svc.<domain>` (the search list of a container makes `<svc>`, `<svc>.<ns>` and
 * `<svc>.<ns>.svc` into it), `_<port>._<proto>.<svc>.<ns>.svc.<domain>` (SRV), and for a headless
 * service `<a-b-c-d>.<svc>.<ns>.svc.<domain>`, one name per endpoint address.
 */

/** Short: endpoints change, and a cached answer outlives the change by at most this. */
export const DNS_TTL_SECONDS = 5;

export interface DnsQuestion {
  name: string;
  type: string;
}

export type DnsDecision =
  /** Berth's own answer: authoritative. NOERROR with no answers is "no record of that type". */
  | { kind: 'answer'; rcode: 'NOERROR' | 'NXDOMAIN'; answers: Answer[]; additionals: Answer[] }
  /** Not a cluster name: ask the node's resolvers. */
  | { kind: 'forward' }
  /** ExternalName: the CNAME, then the target's records as the node's resolvers give them. */
  | { kind: 'external'; cname: Answer; target: string };

/** A headless service's endpoint as DNS names it: its node-local address. */
export interface HeadlessEndpoint {
  address: string;
}

/** The map prepared for lookups; made once per map (and allocation), asked per question. */
export interface DnsZone {
  domain: string;
  services: ReadonlyMap<string, MapService>;
  /** By `<ns>/<svc>`: the node-local addresses of a headless service's endpoints. */
  headless: ReadonlyMap<string, readonly HeadlessEndpoint[]>;
}

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** `headlessAddress(service, replica)`: the node-local address given to that endpoint, if any. */
export function dnsZone(
  map: ServiceMap,
  headlessAddress: (service: MapService, replica: string) => string | undefined,
): DnsZone {
  const services = new Map<string, MapService>();
  const headless = new Map<string, HeadlessEndpoint[]>();
  for (const s of map.services) {
    const key = serviceKey(s.namespace.toLowerCase(), s.name.toLowerCase());
    services.set(key, s);
    if (!s.headless) continue;
    const addresses: HeadlessEndpoint[] = [];
    for (const e of s.endpoints) {
      const address = headlessAddress(s, e.replica);
      if (address) addresses.push({ address });
    }
    headless.set(key, addresses);
  }
  return { domain: normalize(map.clusterDomain), services, headless };
}

/** May a container of `namespace` reach the service (by name and by address)? */
export function reachable(service: MapService, namespace: string): boolean {
  return (
    service.namespace === namespace ||
    service.reachableFrom === undefined ||
    service.reachableFrom.includes(namespace)
  );
}

export function answerQuestion(zone: DnsZone, asker: string, q: DnsQuestion): DnsDecision {
  const name = normalize(q.name);
  const { domain } = zone;
  if (name !== domain && !name.endsWith(`.${domain}`)) return { kind: 'forward' };
  const labels = name === domain ? [] : name.slice(0, -domain.length - 1).split('.');
  // Everything Berth names ends in `<svc>.<ns>.svc`; the rest of the domain does not exist.
  if (labels.length < 3 || labels[labels.length - 1] !== 'svc') return nxdomain();
  const [svcName, ns] = [labels[labels.length - 3]!, labels[labels.length - 2]!];
  const service = zone.services.get(serviceKey(ns, svcName));
  if (!service || !reachable(service, asker)) return nxdomain();
  const serviceName = `${svcName}.${ns}.svc.${domain}`;
  const prefix = labels.slice(0, -3);
  const endpoints = zone.headless.get(serviceKey(ns, svcName)) ?? [];

  if (prefix.length === 0) {
    if (service.type === 'ExternalName' && service.externalName) {
      const target = normalize(service.externalName);
      const cname: Answer = { type: 'CNAME', name: serviceName, ttl: DNS_TTL_SECONDS, data: target };
      if (q.type === 'CNAME') return found([cname]);
      return { kind: 'external', cname, target };
    }
    if (service.headless)
      return found(
        addressRecords(
          serviceName,
          endpoints.map((e) => e.address),
          q.type,
        ),
      );
    return found(addressRecords(serviceName, service.clusterIP ? [service.clusterIP] : [], q.type));
  }
  if (prefix.length === 1 && service.headless) {
    // `<a-b-c-d>.<svc>...`: one endpoint of a headless service.
    const endpoint = endpoints.find((e) => dashed(e.address) === prefix[0]);
    if (!endpoint) return nxdomain();
    return found(addressRecords(name, [endpoint.address], q.type));
  }
  if (prefix.length === 2 && prefix[0]!.startsWith('_') && prefix[1]!.startsWith('_')) {
    const portName = prefix[0]!.slice(1);
    const protocol = prefix[1]!.slice(1).toUpperCase();
    const port = service.ports.find((p) => p.name?.toLowerCase() === portName && p.protocol === protocol);
    if (!port || service.type === 'ExternalName') return nxdomain();
    if (q.type !== 'SRV') return found([]);
    return srvAnswers(name, serviceName, service, endpoints, port.port);
  }
  return nxdomain();
}

function srvAnswers(
  name: string,
  serviceName: string,
  service: MapService,
  endpoints: readonly HeadlessEndpoint[],
  port: number,
): DnsDecision {
  if (!service.headless) {
    const srv: Answer = {
      type: 'SRV',
      name,
      ttl: DNS_TTL_SECONDS,
      data: { priority: 0, weight: 100, port, target: serviceName },
    };
    return found([srv], addressRecords(serviceName, service.clusterIP ? [service.clusterIP] : [], 'A'));
  }
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  // Equal weights that add up to 100, as CoreDNS gives them.
  const weight = Math.max(1, Math.floor(100 / Math.max(1, endpoints.length)));
  for (const e of endpoints) {
    const target = `${dashed(e.address)}.${serviceName}`;
    answers.push({ type: 'SRV', name, ttl: DNS_TTL_SECONDS, data: { priority: 0, weight, port, target } });
    additionals.push(...addressRecords(target, [e.address], 'A'));
  }
  return found(answers, additionals);
}

/** A for IPv4 addresses, AAAA for IPv6; other types: none (the name exists, NOERROR). */
function addressRecords(name: string, addresses: readonly string[], type: string): Answer[] {
  const want =
    type === 'A'
      ? (a: string) => !a.includes(':')
      : type === 'AAAA'
        ? (a: string) => a.includes(':')
        : undefined;
  if (!want) return [];
  return addresses
    .filter(want)
    .map((data) => ({ type: type as 'A' | 'AAAA', name, ttl: DNS_TTL_SECONDS, data }));
}

function found(answers: Answer[], additionals: Answer[] = []): DnsDecision {
  return { kind: 'answer', rcode: 'NOERROR', answers, additionals };
}

function nxdomain(): DnsDecision {
  return { kind: 'answer', rcode: 'NXDOMAIN', answers: [], additionals: [] };
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/** `10.0.0.7` → `10-0-0-7`, as Kubernetes names a pod by its address. */
export function dashed(address: string): string {
  return address.replaceAll(/[.:]/g, '-');
}
