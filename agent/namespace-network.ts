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
  /** The Docker network's name. */
  name: string;
  /**
   * The Linux bridge interface: `bth` and 12 hex digits of a hash of the namespace, since
   * interface names hold at most 15 characters and a namespace name up to 63.
   */
  bridge: string;
}

export function namespaceNetwork(namespace: string): NamespaceNetwork {
  const digest = createHash('sha256').update(namespace).digest('hex').slice(0, 12);
  return { namespace, name: `${NETWORK_PREFIX}${namespace}`, bridge: `${BRIDGE_PREFIX}${digest}` };
}
