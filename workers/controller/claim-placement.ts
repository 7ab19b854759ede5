import type { PodSpec } from '../../common/deployment.ts';

/**
 * PersistentVolumeClaims in placement, as Kubernetes' VolumeBinding and VolumeRestrictions plugins
 * see them, for node-local volumes. Pure: the scheduler asks it, one request after another.
 *
 * - A claim that does not exist, or is being deleted, keeps the replica Pending and says so.
 * - A bound claim pins the replica to the claim's node (the node label berth.dev/node); a
 *   replica that cannot go there waits, with a reason naming the claim and the node (Kubernetes'
 *   "volume node affinity conflict"). If that node is not ready, the replica waits for it: its
 *   data is there.
 * - An unbound claim binds to the node of the first replica placed with it; the replicas after
 *   it in the same call are pinned there as well.
 * - A ReadWriteOncePod claim held by a placed replica keeps every other replica Pending.
 */

/** The label every node carries with its own name (workers/verbs/node-registration.ts). */
const NODE_LABEL = 'berth.dev/node';

/** What of a placement request this module reads (scheduler.ts ReplicaRequest). */
export interface ClaimRequest {
  group: string;
  namespace?: string;
  nodeSelector: Record<string, string>;
  /** The claims the pod mounts, by name. */
  claims?: readonly string[];
}

/** What of a node this module reads (scheduler.ts SchedulerNode). */
interface ClaimNode {
  name: string;
  ready: boolean;
}

/** A claim as placement reads it, under its row lock. */
export interface ClaimView {
  id: string;
  namespace: string;
  name: string;
  nodeName: string | null;
  terminating: boolean;
  /** ReadWriteOncePod: at most one replica at a time. */
  oncePod: boolean;
  /** A replica placed on a node mounts it (counted for oncePod claims only). */
  held: boolean;
}

export const claimKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** The claims a pod mounts, each once, in volume order. */
export function podClaims(spec: Pick<PodSpec, 'volumes'>): string[] {
  const names = new Set<string>();
  for (const v of spec.volumes ?? [])
    if (v.persistentVolumeClaim) names.add(v.persistentVolumeClaim.claimName);
  return [...names];
}

export class ClaimPlacement {
  private readonly nodes: Map<string, ClaimNode>;
  /** Claims bound by this placement, by id: what the caller writes. */
  readonly bound = new Map<string, string>();

  private readonly claims: Map<string, ClaimView>;

  constructor(claims: ReadonlyMap<string, ClaimView>, nodes: readonly ClaimNode[]) {
    // Copies: bindings made here change them, never the caller's.
    this.claims = new Map([...claims].map(([key, claim]) => [key, { ...claim }]));
    this.nodes = new Map(nodes.map((n) => [n.name, n]));
  }

  private claimsOf(req: ClaimRequest): readonly string[] | undefined {
    return req.claims?.length ? req.claims : undefined;
  }

  /** The request as the scheduler must place it (pinned to its claims' node), or why it waits. */
  pin<R extends ClaimRequest>(req: R): R | string {
    const names = this.claimsOf(req);
    if (!names) return req;
    const namespace = req.namespace ?? req.group.slice(0, req.group.indexOf('/'));
    let pinned: { claim: string; node: string } | undefined;
    for (const name of names) {
      const claim = this.claims.get(claimKey(namespace, name));
      if (!claim) return `persistentvolumeclaim "${name}" not found`;
      if (claim.terminating) return `persistentvolumeclaim "${name}" is being deleted`;
      if (claim.oncePod && claim.held)
        return `persistentvolumeclaim "${name}" is ReadWriteOncePod and another replica uses it`;
      if (claim.nodeName === null) continue;
      if (pinned && pinned.node !== claim.nodeName)
        return `persistentvolumeclaims "${pinned.claim}" and "${name}" are bound to different nodes ("${pinned.node}", "${claim.nodeName}")`;
      pinned = { claim: name, node: claim.nodeName };
    }
    if (!pinned) return req;
    const node = this.nodes.get(pinned.node);
    if (!node)
      return `persistentvolumeclaim "${pinned.claim}" is bound to node "${pinned.node}", which is not registered: the replica waits for it (its data is there)`;
    if (!node.ready)
      return `persistentvolumeclaim "${pinned.claim}" is bound to node "${pinned.node}", which is not ready: the replica waits for it (its data is there)`;
    return { ...req, nodeSelector: { ...req.nodeSelector, [NODE_LABEL]: pinned.node } };
  }

  /** The scheduler's reason for a pinned request it could not place, naming the claim and node. */
  explain(req: ClaimRequest, pinnedTo: ClaimRequest, reason: string): string {
    const node = pinnedTo.nodeSelector[NODE_LABEL];
    if (node === undefined || node === req.nodeSelector[NODE_LABEL]) return reason;
    const namespace = req.namespace ?? req.group.slice(0, req.group.indexOf('/'));
    const claim = this.claimsOf(req)?.find(
      (name) => this.claims.get(claimKey(namespace, name))?.nodeName === node,
    );
    return `volume node affinity conflict: persistentvolumeclaim "${claim}" is bound to node "${node}" (${reason})`;
  }

  /** A request was placed on `node`: its unbound claims bind there. */
  placed(req: ClaimRequest, node: ClaimNode): void {
    const names = this.claimsOf(req);
    if (!names) return;
    const namespace = req.namespace ?? req.group.slice(0, req.group.indexOf('/'));
    for (const name of names) {
      const claim = this.claims.get(claimKey(namespace, name));
      if (!claim) continue;
      if (claim.nodeName === null) {
        claim.nodeName = node.name;
        this.bound.set(claim.id, node.name);
      }
      claim.held = true;
    }
  }
}
