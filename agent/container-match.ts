import type { PlannedContainer } from './container-spec.ts';
import type { ContainerInfo } from './driver/driver.ts';
import { LABEL_CONTAINER, LABEL_SPEC_HASH } from './labels.ts';

/**
 * Which of the containers found on the engine a pod keeps, as pure functions over plain data. The
 * engine is the truth after an agent restart or a missed event; these decide what to take over and
 * what to stop and remove, and pod-runner.ts carries the decision out.
 */

/** What a container of the plan is known by: its name in the pod and the hash of its configuration. */
export type Wanted = Pick<PlannedContainer, 'name' | 'hash'>;

export type StrayReason =
  /** Its container name is not in the pod (any more). */
  | 'not in the pod'
  /** Made from another configuration of the container (the spec-hash label differs). */
  | 'stale configuration'
  /** Another container was already taken for that name (a running one is preferred). */
  | 'duplicate'
  /** A pod member that joined a network namespace other than the adopted owner's, which is gone. */
  | 'network owner gone';

export interface Stray {
  container: ContainerInfo;
  reason: StrayReason;
}

export interface Adoption {
  /** Planned container name → the engine's container taken over for it. */
  adopted: Map<string, ContainerInfo>;
  /** Containers of this replica to stop and remove. */
  strays: Stray[];
}

/**
 * Matches the containers of one replica found on the engine at start-up against the plan (owner
 * first). A container is taken over when its container label names a planned container and its
 * spec hash is that container's; among several, a running one wins. Members are kept only when
 * they joined the network namespace of the owner that is kept: any other namespace is gone.
 * `anyConfiguration`: the spec hash is not compared (the assignment cannot configure the pod, so
 * what was made stays as it was made).
 */
export function matchAdopted(
  plan: readonly Wanted[],
  found: readonly ContainerInfo[],
  anyConfiguration = false,
): Adoption {
  const adopted = new Map<string, ContainerInfo>();
  const strays: Stray[] = [];
  // Stable sort: running first, otherwise in the engine's order.
  for (const info of [...found].sort((x, y) => Number(y.running) - Number(x.running))) {
    const name = info.labels[LABEL_CONTAINER] ?? '';
    const wanted = plan.find((w) => w.name === name);
    if (!wanted) strays.push({ container: info, reason: 'not in the pod' });
    else if (adopted.has(name)) strays.push({ container: info, reason: 'duplicate' });
    else if (!anyConfiguration && info.labels[LABEL_SPEC_HASH] !== wanted.hash)
      strays.push({ container: info, reason: 'stale configuration' });
    else adopted.set(name, info);
  }
  const owner = plan[0] && adopted.get(plan[0].name);
  for (const member of plan.slice(1)) {
    const info = adopted.get(member.name);
    if (info && (!owner || info.networkFrom !== owner.id)) {
      adopted.delete(member.name);
      strays.push({ container: info, reason: 'network owner gone' });
    }
  }
  return { adopted, strays };
}

/**
 * Whether a container met by name (a create that found the name taken) is the one that would be
 * created: the same configuration, in the same owner's network namespace.
 */
export function isSameContainer(
  info: ContainerInfo,
  wanted: Wanted,
  networkFrom: string | undefined,
): boolean {
  return info.labels[LABEL_SPEC_HASH] === wanted.hash && info.networkFrom === networkFrom;
}

/** A container the pod tracks, as far as a listing can confirm it. */
export interface Tracked {
  id: string;
  running: boolean;
}

/**
 * What a listing suggests. A listing is a snapshot that may predate the pod's last start (it is
 * taken outside the pod's step, and applied in the next), so it only raises suspicions: the pod
 * asks the engine about `unlisted` and `stopped` before it believes them.
 */
export interface ListingDiff {
  /** Tracked but not listed: removed behind the agent's back, or created after the listing. */
  unlisted: string[];
  /** Tracked as running, listed as not running: it died while its events were missed, or was started since. */
  stopped: string[];
  /** Listed for this replica but neither tracked nor already being removed: left over, to remove. */
  strays: ContainerInfo[];
}

/**
 * Compares the containers a pod tracks with a listing of the engine (the periodic resync, or after
 * the event stream reconnects). `removing` are ids already on their way out.
 */
export function diffListing(
  tracked: readonly Tracked[],
  removing: ReadonlySet<string>,
  listed: readonly ContainerInfo[],
): ListingDiff {
  const byId = new Map(listed.map((c) => [c.id, c]));
  const unlisted: string[] = [];
  const stopped: string[] = [];
  for (const t of tracked) {
    const info = byId.get(t.id);
    if (!info) unlisted.push(t.id);
    else if (t.running && !info.running) stopped.push(t.id);
  }
  const known = new Set([...tracked.map((t) => t.id), ...removing]);
  const strays = listed.filter((c) => !known.has(c.id));
  return { unlisted, stopped, strays };
}
