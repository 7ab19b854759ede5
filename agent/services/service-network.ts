import type Docker from 'dockerode';
import type { MapRoute, MapService, ServiceMap } from '../../common/agent-protocol.ts';
import { LABEL_NAMESPACE } from '../labels.ts';
import { errorMessage, type Logger } from '../log.ts';
import { type RunCommand, runCommand } from '../metadata-guard.ts';
import { NETWORK_PREFIX } from '../namespace-network.ts';
import type { LocalEndpoint } from '../pod-runner.ts';
import { type DnsZone, dnsZone, reachable, serviceKey } from './dns-answer.ts';
import { DnsServer, systemUpstreams, type Upstream } from './dns-server.ts';
import { EndpointPicker, type Target } from './endpoint-picker.ts';
import { HeadlessAddresses } from './headless-addresses.ts';
import { chainName, NatChain, type RedirectRule, type RestoreCommand, runRestore } from './nat-rules.ts';
import type { IngressBackends } from './node-ingress.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { UdpProxy } from './udp-proxy.ts';

/**
 * Services inside the cluster on this node: applies a service map as listeners on each namespace
 * bridge's gateway (a DNS server, one proxy per reachable service port) and on the node address
 * (NodePorts), plus the nat rules that send containers' packets to them. A new map is diffed
 * against what runs: unchanged listeners stay (their endpoints are read per connection), so open
 * connections are never cut by an unrelated change.
 *
 * ```
 *  disabled (no iptables, not root) ── says so once, pods run anyway
 *  waiting (no map yet) ──map──▶ routing ──map──▶ routing ──stop──▶ stopped (rules removed)
 * ```
 */

/**
 * The address containers send DNS to: link-local and the same on every bridge and node, so it
 * can be in a container's spec before its namespace's network (and gateway) exists; a REDIRECT
 * on each bridge sends it to that namespace's DNS listener (NodeLocal DNSCache's address).
 */
export const DNS_ADDRESS = '169.254.20.10';

const RESYNC_MS = 30_000;

/** A container's resolv.conf, as Kubernetes writes a pod's. */
export interface ContainerDns {
  servers: string[];
  search: string[];
  options: string[];
}

export function containerDns(domain: string, namespace: string): ContainerDns {
  return {
    servers: [DNS_ADDRESS],
    search: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain],
    options: ['ndots:5'],
  };
}

/** A namespace's Docker bridge on this engine. */
export interface Bridge {
  namespace: string;
  bridge: string;
  gateway: string;
}

/** Berth's namespace networks on the engine, with their bridge interface and gateway. */
export async function dockerBridges(docker: Docker): Promise<Bridge[]> {
  const networks = await docker.listNetworks({ filters: { label: [LABEL_NAMESPACE] } });
  const out: Bridge[] = [];
  for (const n of networks) {
    const namespace = n.Labels?.[LABEL_NAMESPACE];
    const bridge = n.Options?.['com.docker.network.bridge.name'];
    const gateway = n.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(':'))?.Gateway;
    if (namespace && bridge && gateway && n.Name === `${NETWORK_PREFIX}${namespace}`)
      out.push({ namespace, bridge, gateway });
  }
  return out;
}

export interface ServiceNetworkOptions {
  log: Logger;
  /** This node's name: which endpoints are local replicas. */
  node: string;
  /** Where NodePorts listen (the address the agent registered with, or --node-port-address). */
  nodeAddress: string;
  /** What tells this agent from others on the machine (engine and node): names its chain. */
  identity: string;
  listBridges: () => Promise<Bridge[]>;
  run?: RunCommand;
  restore?: RestoreCommand;
  /** Where names outside the cluster go (default: the node's /etc/resolv.conf). */
  upstreams?: () => readonly Upstream[];
}

type Listener = TcpProxy | UdpProxy;

interface PortListener {
  listener: Listener;
  rule: Omit<RedirectRule, 'bridge' | 'toPort'>;
}

interface BridgeState extends Bridge {
  dns: DnsServer;
  listeners: Map<string, PortListener>;
}

/** Where a listener's connections go: a service port, maybe pinned to one endpoint (headless). */
interface Route {
  service: string;
  protocol: 'TCP' | 'UDP';
  port: number;
  replica?: string;
}

export class ServiceNetwork {
  private state: 'waiting' | 'routing' | 'disabled' | 'stopped' = 'waiting';
  private map: ServiceMap | undefined;
  private mapKey = '';
  private services = new Map<string, MapService>();
  private zone: DnsZone = { domain: 'cluster.local', services: new Map(), headless: new Map() };
  private headless: HeadlessAddresses | undefined;
  private headlessByKey = new Map<string, string>();
  private readonly bridges = new Map<string, BridgeState>();
  private readonly nodePorts = new Map<string, { route: string; listener: Listener }>();
  private readonly pickers = new Map<string, EndpointPicker>();
  private localReady: ReadonlySet<string> | undefined;
  private localEndpoints: ReadonlyMap<string, LocalEndpoint> = new Map();
  private readonly nat: NatChain;
  private syncing: Promise<void> = Promise.resolve();
  private pending = false;
  private readonly upstreams: () => readonly Upstream[];
  private resync: NodeJS.Timeout | undefined;

  constructor(private readonly o: ServiceNetworkOptions) {
    this.nat = new NatChain(chainName(o.identity), o.run ?? runCommand, o.restore ?? runRestore);
    const system = systemUpstreams();
    this.upstreams = o.upstreams ?? (() => system);
  }

  get chain(): string {
    return this.nat.chain;
  }

  /** true once the rules can be written; false (said once, at warn level) when they cannot. */
  async start(saved?: ServiceMap): Promise<boolean> {
    try {
      await this.nat.apply([]);
    } catch (e) {
      this.state = 'disabled';
      this.o.log.warn(
        'services are not reachable inside the cluster on this node (no cluster DNS, no service addresses): ' +
          'the iptables rules could not be written; run berth-agent as root with iptables to have them',
        { reason: errorMessage(e) },
      );
      return false;
    }
    if (saved) await this.apply(saved);
    // A namespace network removed (pruned) or made by another agent of this engine is noticed here.
    this.resync = setInterval(() => void this.bridgesChanged(), RESYNC_MS);
    this.resync.unref();
    return true;
  }

  /** The resolv.conf settings for a namespace's new containers; undefined until a map is known. */
  dnsFor(namespace: string): ContainerDns | undefined {
    if (this.state !== 'routing' || !this.map) return undefined;
    return containerDns(this.map.clusterDomain, namespace);
  }

  /** The ingress routes of the map in use (none before one is known). */
  routes(): MapRoute[] {
    return this.map?.routes ?? [];
  }

  /** A new map; unchanged maps cost nothing. */
  apply(map: ServiceMap): Promise<void> {
    if (this.state === 'disabled' || this.state === 'stopped') return Promise.resolve();
    const key = JSON.stringify(map);
    if (key === this.mapKey) return this.syncing;
    this.mapKey = key;
    this.map = map;
    this.state = 'routing';
    this.services = new Map(map.services.map((s) => [serviceKey(s.namespace, s.name), s]));
    this.allocateHeadless(map);
    this.zone = dnsZone(map, (s, replica) =>
      this.headlessByKey.get(`${serviceKey(s.namespace, s.name)}/${replica}`),
    );
    return this.sync();
  }

  /** A namespace network appeared or went: listeners follow. */
  bridgesChanged(): Promise<void> {
    if (this.state !== 'routing') return Promise.resolve();
    return this.sync();
  }

  /**
   * The replicas of this node that are in rotation (ready, not told to stop): the agent knows
   * before the control plane's map says so. Local endpoints not in it get no new connections.
   */
  setLocal(ready: ReadonlySet<string>, endpoints: ReadonlyMap<string, LocalEndpoint> = new Map()): void {
    this.localReady = ready;
    this.localEndpoints = endpoints;
  }

  /** Closes every listener and removes the rules (connections already piped go on). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasDisabled = this.state === 'disabled';
    this.state = 'stopped';
    clearInterval(this.resync);
    await this.syncing;
    for (const b of this.bridges.values()) this.closeBridge(b);
    this.bridges.clear();
    for (const n of this.nodePorts.values()) n.listener.close();
    this.nodePorts.clear();
    if (!wasDisabled) await this.nat.remove().catch(() => {});
  }

  /**
   * Where the node ingress sends a route's requests: the endpoints of that service port, in the
   * same rotation (and with the same passing over of refusing endpoints) as its cluster address.
   */
  readonly ingressBackends: IngressBackends = {
    order: (route, client) => {
      const r: Route = {
        service: serviceKey(route.namespace, route.service),
        protocol: 'TCP',
        port: route.port,
      };
      const affinity = this.services.get(r.service)?.affinitySeconds;
      return this.picker(r)
        .order(this.targets(r), client, affinity)
        .map((t) => ({ address: t.host, port: t.port, key: t.key }));
    },
    failed: (route, target) => {
      const r: Route = {
        service: serviceKey(route.namespace, route.service),
        protocol: 'TCP',
        port: route.port,
      };
      this.picker(r).refused(target.key);
    },
  };

  /** The endpoints a connection of `route` may go to now. */
  targets(route: Route): Target[] {
    const s = this.services.get(route.service);
    if (!s) return [];
    const i = s.ports.findIndex((p) => p.port === route.port && p.protocol === route.protocol);
    if (i < 0) return [];
    const out: Target[] = [];
    for (const e of s.endpoints) {
      if (route.replica !== undefined && e.replica !== route.replica) continue;
      if (e.node === this.o.node && this.localReady && !this.localReady.has(e.replica)) continue;
      const port = e.hostPorts[i];
      if (!port) continue;
      // A pod of this node is reached on its own network: one hop fewer than its published port.
      const local = e.node === this.o.node ? this.localEndpoints.get(e.replica) : undefined;
      const published = local?.hostPorts.find(
        (h) => h.hostPort === port && (h.protocol ?? 'TCP') === route.protocol,
      );
      if (local && published) out.push({ key: e.replica, host: local.ip, port: published.containerPort });
      else out.push({ key: e.replica, host: e.address, port });
    }
    return out;
  }

  private allocateHeadless(map: ServiceMap): void {
    if (!this.headless || this.headless.cidr !== map.endpointCidr) {
      try {
        this.headless = new HeadlessAddresses(map.endpointCidr);
      } catch (e) {
        this.o.log.warn('headless services get no node-local addresses', { error: errorMessage(e) });
        this.headless = undefined;
      }
    }
    const keys: string[] = [];
    for (const s of map.services)
      if (s.headless)
        for (const e of s.endpoints) keys.push(`${serviceKey(s.namespace, s.name)}/${e.replica}`);
    this.headlessByKey = this.headless ? this.headless.assign(keys) : new Map();
  }

  /** One sync at a time; calls meanwhile make one more, with the latest map. */
  private sync(): Promise<void> {
    if (this.pending) return this.syncing;
    this.pending = true;
    this.syncing = this.syncing.then(async () => {
      this.pending = false;
      if (this.state !== 'routing') return;
      try {
        await this.syncNow();
      } catch (e) {
        this.o.log.warn('applying the service map failed; will retry with the next change', {
          error: errorMessage(e),
        });
      }
    });
    return this.syncing;
  }

  private async syncNow(): Promise<void> {
    const bridges = await this.o.listBridges();
    const seen = new Set<string>();
    for (const b of bridges) {
      seen.add(b.namespace);
      let state = this.bridges.get(b.namespace);
      if (state && (state.gateway !== b.gateway || state.bridge !== b.bridge)) {
        this.closeBridge(state);
        this.bridges.delete(b.namespace);
        state = undefined;
      }
      if (!state) {
        const dns = new DnsServer({
          namespace: b.namespace,
          host: b.gateway,
          zone: () => this.zone,
          upstreams: this.upstreams,
          log: this.o.log,
        });
        try {
          await dns.listen();
        } catch (e) {
          this.o.log.warn('cannot listen on a namespace bridge', { ...b, error: errorMessage(e) });
          continue;
        }
        state = { ...b, dns, listeners: new Map() };
        this.bridges.set(b.namespace, state);
      }
      await this.syncBridge(state);
    }
    for (const [ns, state] of this.bridges)
      if (!seen.has(ns)) {
        this.closeBridge(state);
        this.bridges.delete(ns);
      }
    await this.syncNodePorts();
    await this.nat.apply(this.rules());
  }

  private async syncBridge(b: BridgeState): Promise<void> {
    const wanted = new Map<string, { route: Route; destination: string }>();
    for (const s of this.map?.services ?? []) {
      if (s.type === 'ExternalName' || !reachable(s, b.namespace)) continue;
      const service = serviceKey(s.namespace, s.name);
      for (const p of s.ports) {
        const route = { service, protocol: p.protocol, port: p.port };
        if (s.headless) {
          for (const e of s.endpoints) {
            const address = this.headlessByKey.get(`${service}/${e.replica}`);
            if (address)
              wanted.set(`${service}|${e.replica}|${address}|${p.protocol}|${p.port}`, {
                route: { ...route, replica: e.replica },
                destination: address,
              });
          }
        } else if (s.clusterIP) {
          wanted.set(`${service}|${s.clusterIP}|${p.protocol}|${p.port}`, {
            route,
            destination: s.clusterIP,
          });
        }
      }
    }
    for (const [key, l] of b.listeners)
      if (!wanted.has(key)) {
        l.listener.close();
        b.listeners.delete(key);
      }
    for (const [key, w] of wanted) {
      if (b.listeners.has(key)) continue;
      const listener = this.listener(w.route, b.gateway, 0);
      try {
        await listener.listen();
      } catch (e) {
        this.o.log.warn('cannot listen for a service', { key, error: errorMessage(e) });
        continue;
      }
      b.listeners.set(key, {
        listener,
        rule: { destination: w.destination, protocol: w.route.protocol, port: w.route.port },
      });
    }
  }

  private async syncNodePorts(): Promise<void> {
    const wanted = new Map<string, Route>();
    for (const s of this.map?.services ?? []) {
      if (s.type !== 'NodePort' && s.type !== 'LoadBalancer') continue;
      for (const p of s.ports)
        if (p.nodePort)
          wanted.set(`${p.protocol}|${p.nodePort}`, {
            service: serviceKey(s.namespace, s.name),
            protocol: p.protocol,
            port: p.port,
          });
    }
    for (const [key, n] of this.nodePorts) {
      const route = wanted.get(key);
      if (route && JSON.stringify(route) === n.route) continue;
      n.listener.close();
      this.nodePorts.delete(key);
    }
    for (const [key, route] of wanted) {
      if (this.nodePorts.has(key)) continue;
      const nodePort = Number(key.split('|')[1]);
      const listener = this.listener(route, this.o.nodeAddress, nodePort);
      try {
        await listener.listen();
      } catch (e) {
        this.o.log.warn('cannot listen on a node port', { port: key, error: errorMessage(e) });
        continue;
      }
      this.nodePorts.set(key, { route: JSON.stringify(route), listener });
    }
  }

  /** One rotation per service port, shared by its addresses, its NodePort and the node ingress. */
  private picker(route: Route): EndpointPicker {
    const key = `${route.service}|${route.protocol}|${route.port}`;
    let picker = this.pickers.get(key);
    if (!picker) {
      picker = new EndpointPicker();
      this.pickers.set(key, picker);
    }
    return picker;
  }

  private listener(route: Route, host: string, port: number): Listener {
    const options = {
      host,
      port,
      picker: this.picker(route),
      targets: () => this.targets(route),
      affinitySeconds: () => this.services.get(route.service)?.affinitySeconds,
      log: this.o.log,
    };
    return route.protocol === 'UDP' ? new UdpProxy(options) : new TcpProxy(options);
  }

  private rules(): RedirectRule[] {
    const rules: RedirectRule[] = [];
    for (const b of this.bridges.values()) {
      const dns = { bridge: b.bridge, destination: DNS_ADDRESS, port: 53 };
      rules.push(
        { ...dns, protocol: 'UDP', toPort: b.dns.udpPort },
        { ...dns, protocol: 'TCP', toPort: b.dns.tcpPort },
      );
      for (const l of b.listeners.values())
        rules.push({ ...l.rule, bridge: b.bridge, toPort: l.listener.port });
    }
    return rules;
  }

  private closeBridge(b: BridgeState): void {
    b.dns.close();
    for (const l of b.listeners.values()) l.listener.close();
    b.listeners.clear();
  }
}
