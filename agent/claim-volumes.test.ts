import { describe, expect, it } from 'vitest';
import type { ReleasedClaim } from '../common/agent-protocol.ts';
import { createLogger } from '../common/logger.ts';
import { ClaimVolumes, claimMounts, type VolumeRemoval } from './claim-volumes.ts';

const claim = { uid: '7c778863-31fd-490f-9416-9f4269cfbd15', namespace: 'shop', claimName: 'data' };

describe('claimMounts', () => {
  it('mounts a claim as its labelled Docker volume, read-only when the mount or the claim says so', () => {
    const a = {
      volumes: [
        { name: 'data', persistentVolumeClaim: { ...claim, readOnly: false } },
        { name: 'ro', persistentVolumeClaim: { ...claim, readOnly: true } },
        { name: 'scratch', emptyDir: { medium: '' as const } },
      ],
    };
    const mounts = claimMounts(
      a,
      {
        volumeMounts: [
          { name: 'data', mountPath: '/data', readOnly: false },
          { name: 'data', mountPath: '/view', readOnly: true },
          { name: 'ro', mountPath: '/ro', readOnly: false },
          { name: 'scratch', mountPath: '/tmp/x', readOnly: false },
        ],
      },
      'vm-1',
    );
    const labels = {
      'berth.dev/claim-namespace': 'shop',
      'berth.dev/claim-name': 'data',
      'berth.dev/claim-uid': claim.uid,
      'berth.dev/node': 'vm-1',
    };
    const source = `berth-pvc-${claim.uid}`;
    expect(mounts).toEqual([
      { source, target: '/data', readOnly: false, volume: { labels } },
      { source, target: '/view', readOnly: true, volume: { labels } },
      { source, target: '/ro', readOnly: true, volume: { labels } },
    ]);
  });
});

describe('ClaimVolumes', () => {
  const released: ReleasedClaim = {
    uid: claim.uid,
    namespace: 'shop',
    name: 'data',
    volume: `berth-pvc-${claim.uid}`,
  };
  const settle = () => new Promise((r) => setTimeout(r, 30));

  it("removes a released claim's volume once, only if it is this node's, retries while in use, then confirms", async () => {
    const answers: VolumeRemoval[] = ['in-use', 'removed'];
    const asked: { name: string; labels: Record<string, string> }[] = [];
    const confirmed: string[][] = [];
    const volumes = new ClaimVolumes({
      node: 'vm-1',
      log: createLogger('silent'),
      retryMs: 5,
      removeVolume: async (name, labels) => {
        asked.push({ name, labels });
        return answers.shift() ?? 'absent';
      },
      confirm: async (uids) => {
        confirmed.push(uids);
      },
    });
    // Listed by two answers in a row: one removal at a time.
    volumes.release([released]);
    volumes.release([released]);
    await settle();
    expect(asked).toHaveLength(2);
    expect(asked[0]).toEqual({
      name: released.volume,
      labels: { 'berth.dev/claim-uid': claim.uid, 'berth.dev/node': 'vm-1' },
    });
    expect(confirmed).toEqual([[claim.uid]]);
    // Listed again (the confirmation was lost): already absent, confirmed again.
    volumes.release([released]);
    await settle();
    expect(confirmed).toEqual([[claim.uid], [claim.uid]]);
    // Nothing listed: nothing removed.
    volumes.release(undefined);
    volumes.release([]);
    await settle();
    expect(asked).toHaveLength(3);
  });
});
