import { createHash } from 'node:crypto';

/**
 * Each namespace's containers live on their own Docker bridge network, so a container cannot
 * reach or spoof another namespace's containers (Docker isolates bridge networks from each other)
 * while the containers of one namespace still reach each other. Names are derived, never stored:
 * every agent on an engine agrees on them, and a restarted agent finds the networks it made.
 */

/** Every Berth bridge interface starts so: one firewall rule (`-i bth+`) matches them all. */
export const BRIDGE_PREFIX = 'bth';
/** Docker network names of namespaces: `berth-ns-<namespace>`. */
export const NETWORK_PREFIX = 'berth-ns-';

/** A namespace's network as a container spec carries it: plain data, part of the spec hash. */
export interface NamespaceNetwork {
  namespace: string;
  /** The Docker network's name (unique per engine). */
  name: string;
}

export function namespaceNetwork(namespace: string): NamespaceNetwork {
  return { namespace, name: `${NETWORK_PREFIX}${namespace}` };
}

/**
 * The Linux bridge interface of a namespace's network on one engine: `bth` and 12 hex digits of a
 * hash, since interface names hold at most 15 characters and a namespace name up to 63. Interface
 * names are shared by the whole machine, so the engine goes into the hash too (`engine`: its ID
 * and data root; engines that share /etc/docker share an ID): two engines on one machine (a
 * test's own dockerd beside the system's) never take over each other's bridge.
 */
export function bridgeName(engine: string, namespace: string): string {
  const digest = createHash('sha256').update(`${engine}\n${namespace}`).digest('hex').slice(0, 12);
  return `${BRIDGE_PREFIX}${digest}`;
}
