import { describe, expect, it } from 'vitest';
import type { Replica } from '../../common/wire/replica.ts';
import type { KubeObject } from './objects.ts';
import { kubeReplicaSets, POD_TEMPLATE_HASH, podTemplateHash, revisionIdentity } from './replica-sets.ts';
import { TABLE_COLUMNS, toTable } from './tables.ts';

const T0 = '2026-01-01T00:00:00.000Z';

const template = (image: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image }] },
});

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'd-uid',
    resourceVersion: '9',
    creationTimestamp: T0,
    annotations: {
      'deployment.kubernetes.io/revision': '2',
      'kubernetes.io/change-cause': 'image 2',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    },
  },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template('r/web:2') },
  status: {},
};

const replica = (id: string, revision: number, ready: boolean, desired: 'running' | 'stopped' = 'running') =>
  ({ id, revision, ready, desired, deployment: 'web' }) as Replica;

describe('ReplicaSets from revisions', () => {
  it('writes hashes as Kubernetes does: its safe alphabet, stable, up to 10 characters', () => {
    const h = podTemplateHash('0123456789abcdef');
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(podTemplateHash('0123456789abcdef')).toBe(h);
    expect(podTemplateHash('fedcba9876543210')).not.toBe(h);
    // 0x01234567 = 19088743: each digit's character code, modulo 27, picks its letter.
    expect(h).toBe([...'19088743'].map((d) => 'bcdfghjklmnpqrstvwxz2456789'[d.charCodeAt(0) % 27]).join(''));
  });

  it('makes one per revision, the current wanting the replicas, an old one what it still runs', () => {
    const sets = kubeReplicaSets(
      deployment,
      [
        { revision: 2, templateHash: 'bbbbbbbb00000000', template: template('r/web:2'), createdAt: T0 },
        { revision: 1, templateHash: 'aaaaaaaa00000000', template: template('r/web:1'), createdAt: T0 },
      ],
      [
        replica('a', 1, true),
        replica('b', 2, true),
        replica('c', 2, false),
        replica('d', 1, false, 'stopped'),
      ],
    );
    expect(sets.map((s) => s.metadata.annotations?.['deployment.kubernetes.io/revision'])).toEqual([
      '1',
      '2',
    ]);
    const [old, current] = sets as [KubeObject, KubeObject];
    const oldId = revisionIdentity({ name: 'web', uid: 'd-uid' }, 'aaaaaaaa00000000');
    expect(old.metadata).toMatchObject({
      name: oldId.name,
      uid: oldId.uid,
      labels: { app: 'web', [POD_TEMPLATE_HASH]: oldId.hash },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true },
      ],
    });
    expect(old.spec).toMatchObject({
      replicas: 1,
      selector: { matchLabels: { app: 'web', [POD_TEMPLATE_HASH]: oldId.hash } },
    });
    expect(old.status).toMatchObject({ replicas: 1, readyReplicas: 1 });
    expect(current.spec).toMatchObject({ replicas: 3 });
    expect(current.status).toMatchObject({ replicas: 2, readyReplicas: 1, availableReplicas: 1 });
    // The Deployment's own annotations go to its current template's ReplicaSet, not its bookkeeping.
    expect(current.metadata.annotations).toEqual({
      'kubernetes.io/change-cause': 'image 2',
      'deployment.kubernetes.io/revision': '2',
      'deployment.kubernetes.io/desired-replicas': '3',
    });
    expect(old.metadata.annotations?.['kubernetes.io/change-cause']).toBeUndefined();
  });

  it('prints DESIRED CURRENT READY and the wide columns', () => {
    const [rs] = kubeReplicaSets(
      deployment,
      [{ revision: 2, templateHash: 'bbbbbbbb00000000', template: template('r/web:2'), createdAt: T0 }],
      [replica('b', 2, true)],
    );
    expect(TABLE_COLUMNS.ReplicaSet!.map((c) => c.name)).toEqual([
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Age',
      'Containers',
      'Images',
      'Selector',
    ]);
    const hash = rs!.metadata.labels![POD_TEMPLATE_HASH];
    expect(toTable('ReplicaSet', [rs!], '9', new Date(Date.parse(T0) + 60_000)).rows[0]!.cells).toEqual([
      rs!.metadata.name,
      3,
      1,
      1,
      '60s',
      'web',
      'r/web:2',
      `app=web,pod-template-hash=${hash}`,
    ]);
  });
});
