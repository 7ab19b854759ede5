import { describe, expect, it } from 'vitest';
import type { DeploymentSpec, PodTemplate } from '../../common/deployment.ts';
import {
  type BatchState,
  type DeploymentRow,
  planBatch,
  type ReplicaRow,
  type RevisionRow,
  settleBatch,
} from './batch-plan.ts';
import type { PlacementOutcome } from './placement.ts';

const NOW = new Date('2026-12-01T12:00:00Z');

const template = (image: string): PodTemplate =>
  ({
    metadata: { labels: { app: 'web' } },
    spec: {
      containers: [
        {
          name: 'web',
          image,
          env: [],
          ports: [],
          resources: { requests: { cpu: '100m', memory: '64Mi' } },
        },
      ],
      restartPolicy: 'Always',
      nodeSelector: { zone: 'a' },
      terminationGracePeriodSeconds: 30,
      drainDelaySeconds: 2,
      imagePullSecrets: [],
    },
  }) as unknown as PodTemplate;

function deployment(
  over: Omit<Partial<DeploymentRow>, 'spec'> & { spec?: Partial<DeploymentSpec> } = {},
): DeploymentRow {
  const { spec, ...rest } = over;
  return {
    id: 'd1',
    kind: 'Deployment',
    ownerCronJobId: null,
    namespace: 'shop',
    name: 'web',
    labels: {},
    annotations: {},
    managedFields: [],
    spec: {
      replicas: 3,
      template: template('web:1'),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      minReadySeconds: 0,
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      paused: false,
      autoRollback: false,
      ...spec,
    } as DeploymentSpec,
    generation: 1,
    resourceVersion: 1,
    status: null,
    createdAt: NOW,
    updatedAt: NOW,
    deletedAt: null,
    reconcileAt: NOW,
    progressAt: NOW,
    ...rest,
  };
}

function revision(n: number, hash: string, image: string): RevisionRow {
  return {
    id: n,
    deploymentId: 'd1',
    revision: n,
    templateHash: hash,
    template: template(image),
    createdAt: NOW,
    availableAt: null,
  };
}

function replica(id: string, over: Partial<ReplicaRow> = {}): ReplicaRow {
  return {
    id,
    deploymentId: 'd1',
    namespace: 'shop',
    deploymentName: 'web',
    revision: 1,
    nodeId: 'n1',
    desired: 'running',
    phase: 'Running',
    ready: true,
    readySince: new Date(NOW.getTime() - 60_000),
    message: null,
    restartCount: 0,
    hostPorts: [],
    containers: [],
    requestCpuMillis: 100,
    requestMemoryBytes: 64 * 2 ** 20,
    requestHostPorts: [],
    createdAt: new Date(NOW.getTime() - 120_000),
    updatedAt: NOW,
    stoppedAt: null,
    serviceEnv: null,
    draining: false,
    defaultMemoryLimitBytes: null,
    configMapData: null,
    requestScalars: null,
    completionIndex: null,
    finishedAt: null,
    ...over,
  };
}

function state(row: DeploymentRow, history: RevisionRow[], pods: ReplicaRow[], hash: string): BatchState {
  return {
    now: NOW,
    rows: [row],
    revisionsOf: new Map([[row.id, history]]),
    replicasOf: new Map([[row.id, pods]]),
    hashes: new Map([[row.id, hash]]),
  };
}

const ids = () => {
  let n = 0;
  return (name: string) => `${name}-${++n}`;
};

const nothingPlaced: PlacementOutcome = { placed: [], unplaced: [] };

describe('planBatch', () => {
  it('gives a new deployment its first revision and every replica, waiting for a place, without a NewRevision event', () => {
    const plan = planBatch(state(deployment(), [], [], 'h1'), ids());
    expect(plan.newRevisions).toEqual([
      expect.objectContaining({ deploymentId: 'd1', revision: 1, templateHash: 'h1' }),
    ]);
    expect(plan.newReplicas.map((r) => [r.id, r.revision, r.requestCpuMillis, r.requestMemoryBytes])).toEqual(
      [
        ['web-1', 1, 100, 64 * 2 ** 20],
        ['web-2', 1, 100, 64 * 2 ** 20],
        ['web-3', 1, 100, 64 * 2 ** 20],
      ],
    );
    expect(plan.pending.map((p) => [p.replicaId, p.group, p.unsaved, p.nodeSelector])).toEqual([
      ['web-1', 'shop/web', true, { zone: 'a' }],
      ['web-2', 'shop/web', true, { zone: 'a' }],
      ['web-3', 'shop/web', true, { zone: 'a' }],
    ]);
    expect(plan.events.map((e) => e.reason)).not.toContain('NewRevision');
    expect(plan.touchedNodes.size).toBe(0);
  });

  it('numbers a changed template as the next revision, says so, and surges new replicas within maxSurge', () => {
    const running = ['a', 'b', 'c'].map((id) => replica(id, { nodeId: `n-${id}` }));
    const row = deployment({ spec: { template: template('web:2') }, generation: 2 });
    const plan = planBatch(state(row, [revision(1, 'h1', 'web:1')], running, 'h2'), ids());
    expect(plan.newRevisions.map((r) => r.revision)).toEqual([2]);
    expect(plan.events).toContainEqual(
      expect.objectContaining({
        reason: 'NewRevision',
        message: 'created revision 2 for the new pod template',
      }),
    );
    // 25% of 3 rounds up to one surge replica.
    expect(plan.newReplicas.map((r) => r.revision)).toEqual([2]);
    expect(plan.groupCounts.get('shop/web')).toEqual(
      new Map([
        ['n-a', 1],
        ['n-b', 1],
        ['n-c', 1],
      ]),
    );
  });

  it('reuses the revision of a template seen before (a rollback creates no revision)', () => {
    const history = [revision(1, 'h1', 'web:1'), revision(2, 'h2', 'web:2')];
    const plan = planBatch(state(deployment(), history, [], 'h1'), ids());
    expect(plan.newRevisions).toEqual([]);
    expect(plan.newReplicas.every((r) => r.revision === 1)).toBe(true);
  });

  it('gives waiting replicas another chance, with their own requests', () => {
    const waiting = replica('w', { nodeId: null, phase: 'Pending', ready: false, requestCpuMillis: 7 });
    const pods = [replica('a'), replica('b'), waiting];
    const plan = planBatch(state(deployment(), [revision(1, 'h1', 'web:1')], pods, 'h1'), ids());
    expect(plan.newReplicas).toEqual([]);
    expect(plan.pending).toEqual([
      expect.objectContaining({ replicaId: 'w', requests: { cpuMillis: 7, memoryBytes: 64 * 2 ** 20 } }),
    ]);
    expect(plan.pending[0]!.unsaved).toBeUndefined();
  });

  it("records each new replica's host ports from every container of its template, and asks placement for them", () => {
    const base = template('web:1');
    const withPorts = {
      ...base,
      spec: {
        ...base.spec,
        containers: [
          {
            ...base.spec.containers[0]!,
            ports: [
              { containerPort: 80, hostPort: 8080, protocol: 'TCP' },
              { containerPort: 81, protocol: 'TCP' },
              { containerPort: 53, hostPort: 53, protocol: 'UDP' },
            ],
          },
          {
            ...base.spec.containers[0]!,
            name: 'sidecar',
            ports: [
              { containerPort: 9000, hostPort: 9000, protocol: 'TCP' },
              { containerPort: 8080, hostPort: 8080, protocol: 'TCP' },
            ],
          },
        ],
      },
    } as PodTemplate;
    const row = deployment({ spec: { replicas: 1, template: withPorts } });
    const plan = planBatch(state(row, [], [], 'h1'), ids());
    expect(plan.newReplicas.map((r) => r.requestHostPorts)).toEqual([['8080/TCP', '53/UDP', '9000/TCP']]);
    expect(plan.pending.map((p) => p.hostPorts)).toEqual([['8080/TCP', '53/UDP', '9000/TCP']]);

    // A replica that waits keeps asking for what it recorded.
    const waiting = replica('w', {
      nodeId: null,
      phase: 'Pending',
      ready: false,
      requestHostPorts: ['7/UDP'],
    });
    const again = planBatch(
      state(deployment({ spec: { replicas: 1 } }), [revision(1, 'h1', 'web:1')], [waiting], 'h1'),
      ids(),
    );
    expect(again.pending.map((p) => [p.replicaId, p.hostPorts])).toEqual([['w', ['7/UDP']]]);
  });

  it('stops the replicas of a deleted deployment and touches their nodes; deletes the row once none is left', () => {
    const gone = deployment({ deletedAt: NOW });
    const stopping = planBatch(
      state(gone, [revision(1, 'h1', 'web:1')], [replica('a', { nodeId: 'n9' })], 'h1'),
      ids(),
    );
    expect(stopping.stopIds).toEqual(['a']);
    expect([...stopping.touchedNodes]).toEqual(['n9']);
    expect(stopping.deleteIds).toEqual([]);
    const settled = settleBatch(stopping, nothingPlaced, NOW);
    expect(settled.statusRows).toEqual([]);
    expect(settled.deletedDue.map((d) => d.id)).toEqual(['d1']);

    const empty = planBatch(state(gone, [revision(1, 'h1', 'web:1')], [], 'h1'), ids());
    expect(empty.deleteIds).toEqual(['d1']);
    expect(settleBatch(empty, nothingPlaced, NOW).deleteIds).toEqual(['d1']);
  });
});

describe('settleBatch', () => {
  it('reports placements (at most five named) and keeps the rollout due', () => {
    const row = deployment({ spec: { replicas: 7 } });
    const plan = planBatch(state(row, [], [], 'h1'), ids());
    const placement: PlacementOutcome = {
      placed: plan.newReplicas.map((r, i) => ({
        replicaId: r.id,
        nodeId: `n${i}`,
        nodeName: `node-${i}`,
        deploymentId: 'd1',
      })),
      unplaced: [],
    };
    const settled = settleBatch(plan, placement, NOW);
    expect(settled.events).toEqual([
      expect.objectContaining({
        reason: 'Scheduled',
        message:
          'placed 7 replicas: web-1 on node-0, web-2 on node-1, web-3 on node-2, web-4 on node-3, web-5 on node-4 and 2 more',
      }),
    ]);
    expect(settled.statusRows).toHaveLength(1);
    expect(settled.statusRows[0]!.progress_at).toBe(NOW.toISOString());
  });

  it('retries unplaced replicas within five seconds, and warns only when the reason is news', () => {
    const row = deployment({ spec: { replicas: 2 } });
    const plan = planBatch(state(row, [], [], 'h1'), ids());
    const unplaced = (news: boolean): PlacementOutcome => ({
      placed: [],
      unplaced: plan.newReplicas.map((r) => ({
        replicaId: r.id,
        reason: 'no node has 64Mi of memory free',
        deploymentId: 'd1',
        news,
      })),
    });
    const first = settleBatch(plan, unplaced(true), NOW);
    expect(first.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'FailedScheduling',
        message: '2 replicas could not be placed: no node has 64Mi of memory free',
      }),
    ]);
    const due = new Date(first.statusRows[0]!.reconcile_at!).getTime();
    expect(due).toBeLessThanOrEqual(NOW.getTime() + 5000);
    expect(settleBatch(plan, unplaced(false), NOW).events).toEqual([]);
  });
});
