import type { AssignedContainer, Assignment, ReleasedClaim } from '../common/agent-protocol.ts';
import { claimVolumeName } from '../common/persistent-volume-claim.ts';
import type { CreateSpec } from './driver/driver.ts';
import { LABEL_NODE } from './labels.ts';
import { errorMessage, type Logger } from './log.ts';

/**
 * PersistentVolumeClaims on this node: each claim is a Docker named volume, made by the engine
 * the first time a container mounts it and labelled with the claim and the node. It outlives
 * every container (removing a container removes only its anonymous volumes), agent restarts and
 * deployments. It is removed on one word only: the control plane listing the claim as released
 * (AssignmentsResponse.releasedClaims), never because the agent lacks a view of it (a restart, a
 * failed poll, a replica it no longer runs).
 */

export const LABEL_CLAIM_NAMESPACE = 'berth.dev/claim-namespace';
export const LABEL_CLAIM_NAME = 'berth.dev/claim-name';
export const LABEL_CLAIM_UID = 'berth.dev/claim-uid';

/** The labels of a claim's volume on this node. */
export function claimVolumeLabels(
  claim: { uid: string; namespace: string; claimName: string },
  node: string,
) {
  return {
    [LABEL_CLAIM_NAMESPACE]: claim.namespace,
    [LABEL_CLAIM_NAME]: claim.claimName,
    [LABEL_CLAIM_UID]: claim.uid,
    [LABEL_NODE]: node,
  };
}

/** The container's mounts of claims: pure. A claim's `readOnly` makes each of its mounts read-only. */
export function claimMounts(
  a: Pick<Assignment, 'volumes'>,
  c: Pick<AssignedContainer, 'volumeMounts'>,
  node: string,
): NonNullable<CreateSpec['mounts']> {
  return (c.volumeMounts ?? []).flatMap((m) => {
    const claim = a.volumes?.find((x) => x.name === m.name)?.persistentVolumeClaim;
    if (!claim) return [];
    return [
      {
        source: claimVolumeName(claim.uid),
        target: m.mountPath,
        readOnly: m.readOnly || claim.readOnly,
        volume: { labels: claimVolumeLabels(claim, node) },
      },
    ];
  });
}

/** What removing a claim's volume came to. */
export type VolumeRemoval = 'removed' | 'absent' | 'in-use';

export interface ClaimVolumesDeps {
  /** Removes the named volume only if it carries these labels (else: 'absent', it is not this claim's). */
  removeVolume(name: string, labels: Record<string, string>): Promise<VolumeRemoval>;
  /** Tells the control plane these claims' volumes are gone. */
  confirm(uids: string[]): Promise<void>;
  node: string;
  log: Logger;
  /** How long to wait before trying a volume in use again (default 5 s). */
  retryMs?: number;
}

/**
 * Removes the volumes of released claims, each once at a time, and confirms them. A volume still
 * in use (a container of the claim not yet removed) is tried again a little later; a failed
 * confirmation is sent again when the claim is listed again.
 */
export class ClaimVolumes {
  private readonly busy = new Set<string>();
  private stopped = false;

  constructor(private readonly deps: ClaimVolumesDeps) {}

  release(list: readonly ReleasedClaim[] | undefined): void {
    for (const claim of list ?? []) {
      if (this.busy.has(claim.uid)) continue;
      this.busy.add(claim.uid);
      void this.remove(claim).finally(() => this.busy.delete(claim.uid));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async remove(claim: ReleasedClaim): Promise<void> {
    const { log } = this.deps;
    const labels = {
      [LABEL_CLAIM_UID]: claim.uid,
      [LABEL_NODE]: this.deps.node,
    };
    for (let attempt = 0; !this.stopped && attempt < 60; attempt++) {
      try {
        const result = await this.deps.removeVolume(claim.volume, labels);
        if (result === 'in-use') {
          await new Promise((r) => setTimeout(r, this.deps.retryMs ?? 5000));
          continue;
        }
        if (result === 'removed')
          log.info('removed the volume of a deleted claim', {
            claim: `${claim.namespace}/${claim.name}`,
            volume: claim.volume,
          });
        await this.deps.confirm([claim.uid]);
        return;
      } catch (e) {
        log.warn('removing the volume of a deleted claim failed', {
          claim: `${claim.namespace}/${claim.name}`,
          error: errorMessage(e),
        });
        return;
      }
    }
  }
}
