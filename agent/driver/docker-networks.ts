import type Docker from 'dockerode';
import { LABEL_NAMESPACE } from '../labels.ts';
import { bridgeName, type NamespaceNetwork, NETWORK_PREFIX, namespaceNetwork } from '../namespace-network.ts';
import { engineError, statusOf } from './docker-errors.ts';
import { EngineUnavailableError } from './driver.ts';

/**
 * The namespace bridge networks on one Docker Engine (see namespace-network.ts): created when a
 * namespace's first container is, removed by `prune` once none of its containers is left. Several
 * agents may share an engine (tests do), so nothing here assumes it is the only one: a network
 * removed under a create is made again and the create retried.
 */
export class DockerNetworks {
  /** Networks this process made or found, and has not seen removed since. */
  private readonly known = new Set<string>();
  private readonly ensuring = new Map<string, Promise<void>>();
  /** Creates in flight per network: prune leaves those networks alone. */
  private readonly inUse = new Map<string, number>();
  private engine: Promise<string> | undefined;
  /**
   * Awaited when this process first finds or makes a network, before containers join it: the
   * node's services listen on its bridge by then (agent/services). Must not throw.
   */
  onReady: ((net: NamespaceNetwork) => Promise<void>) | undefined;

  constructor(private readonly docker: Docker) {}

  /** Runs `create` (a container create) with `net` present, making it again if it vanished meanwhile. */
  async withNetwork<T>(net: NamespaceNetwork, create: () => Promise<T>): Promise<T> {
    this.inUse.set(net.name, (this.inUse.get(net.name) ?? 0) + 1);
    try {
      await this.ensure(net);
      try {
        return await create();
      } catch (e) {
        if (!isNetworkMissing(e)) throw e;
        this.known.delete(net.name);
        await this.ensure(net);
        return await create();
      }
    } finally {
      const n = (this.inUse.get(net.name) ?? 1) - 1;
      if (n > 0) this.inUse.set(net.name, n);
      else this.inUse.delete(net.name);
    }
  }

  /**
   * A container attached to a network that was removed after the container was created cannot
   * start: make the network again (same name, so the container finds it). false: not one of ours.
   */
  async restoreFor(container: Docker.ContainerInspectInfo): Promise<boolean> {
    const namespace = container.Config?.Labels?.[LABEL_NAMESPACE];
    if (!namespace) return false;
    const net = namespaceNetwork(namespace);
    if (container.HostConfig?.NetworkMode !== net.name) return false;
    this.known.delete(net.name);
    await this.ensure(net);
    return true;
  }

  /** Makes sure the network exists and is Berth's; concurrent calls share one request. */
  ensure(net: NamespaceNetwork): Promise<void> {
    if (this.known.has(net.name)) return Promise.resolve();
    let pending = this.ensuring.get(net.name);
    if (!pending) {
      pending = this.lookUpOrCreate(net)
        .then(() => this.onReady?.(net))
        .finally(() => this.ensuring.delete(net.name));
      this.ensuring.set(net.name, pending);
    }
    return pending;
  }

  /**
   * Removes the namespace networks no container uses any more (running or not, of any node on
   * this engine). Bounded: one listing, then one question per Berth network. Returns the names removed.
   */
  async prune(): Promise<string[]> {
    let networks: Docker.NetworkInspectInfo[];
    try {
      networks = await this.docker.listNetworks({ filters: { label: [LABEL_NAMESPACE] } });
    } catch (e) {
      throw engineError(e);
    }
    const removed: string[] = [];
    for (const n of networks) {
      if (!n.Name.startsWith(NETWORK_PREFIX) || this.inUse.has(n.Name) || this.ensuring.has(n.Name)) continue;
      try {
        const users = await this.docker.listContainers({ all: true, filters: { network: [n.Name] } });
        if (users.length > 0 || this.inUse.has(n.Name)) continue;
        await this.docker.getNetwork(n.Id).remove();
        this.known.delete(n.Name);
        removed.push(n.Name);
      } catch (e) {
        // Gone already (404), or a container joined it meanwhile (403/409 "active endpoints").
        const s = statusOf(e);
        if (s === 404 || s === 403 || s === 409) continue;
        throw engineError(e);
      }
    }
    return removed;
  }

  /**
   * What tells this engine from another on the machine, which bridge names are derived from
   * (asked once): its ID, and its data root, since engines that share /etc/docker share an ID.
   */
  private engineIdentity(): Promise<string> {
    this.engine ??= this.docker.info().then(
      (info: { ID?: string; DockerRootDir?: string }) => `${info.ID ?? ''}\n${info.DockerRootDir ?? ''}`,
      (e: unknown) => {
        this.engine = undefined;
        throw engineError(e);
      },
    );
    return this.engine;
  }

  private async lookUpOrCreate(net: NamespaceNetwork): Promise<void> {
    if (await this.isOurs(net)) {
      this.known.add(net.name);
      return;
    }
    const bridge = bridgeName(await this.engineIdentity(), net.namespace);
    try {
      await this.docker.createNetwork({
        Name: net.name,
        // Without it an engine older than API 1.44 makes a second network of the same name.
        CheckDuplicate: true,
        Driver: 'bridge',
        // IPv4 only: no IPv6 route leads out of the container (nor to fd00:ec2::254).
        EnableIPv6: false,
        Labels: { [LABEL_NAMESPACE]: net.namespace },
        Options: { 'com.docker.network.bridge.name': bridge },
      });
    } catch (e) {
      // Another agent on this engine made it first.
      if (statusOf(e) === 409 && (await this.isOurs(net))) {
        this.known.add(net.name);
        return;
      }
      throw networkCreateError(net, engineError(e));
    }
    this.known.add(net.name);
  }

  /** true: the network exists and is this namespace's; false: absent; throws if someone else's. */
  private async isOurs(net: NamespaceNetwork): Promise<boolean> {
    let info: Docker.NetworkInspectInfo;
    try {
      info = (await this.docker.getNetwork(net.name).inspect()) as Docker.NetworkInspectInfo;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw engineError(e);
    }
    if (info.Name === net.name && info.Labels?.[LABEL_NAMESPACE] === net.namespace) return true;
    throw new Error(
      `a Docker network named ${net.name} exists without the label ${LABEL_NAMESPACE}=${net.namespace}: ` +
        "Berth attaches the namespace's containers to a network of its own; remove or rename that one",
    );
  }
}

/** "network berth-ns-x not found": on create, or on start of a container created before a removal. */
export function isNetworkMissing(e: unknown): boolean {
  const message = e instanceof Error ? engineError(e).message : String(e);
  return /network .* not found/i.test(message);
}

/** Docker's default address pools hold about 30 bridge networks; say so, and what to change. */
const POOLS_EXHAUSTED = /non-overlapping .*address pool|address pools have been fully subnetted/i;

export function networkCreateError(net: NamespaceNetwork, cause: Error): Error {
  if (!POOLS_EXHAUSTED.test(cause.message)) {
    if (cause instanceof EngineUnavailableError) return cause;
    return new Error(`cannot create the network of namespace ${net.namespace}: ${cause.message}`);
  }
  return new Error(
    `cannot create the network of namespace ${net.namespace}: the Docker Engine has no address pool left ` +
      '(its default pools hold about 30 bridge networks, and Berth makes one per namespace on this node); ' +
      'give it more in /etc/docker/daemon.json, e.g. "default-address-pools": [{"base": "10.208.0.0/12", "size": 24}], ' +
      `then restart Docker (engine: ${cause.message})`,
  );
}
