import { describe, expect, it } from 'vitest';
import type { Deployment, Replica } from './resources.ts';
import { assessSnapshot as assessRollout, type Snapshot } from './rollout-watch.ts';

const done: Deployment = {
  metadata: { name: 'web', generation: 4 },
  spec: { replicas: 3 },
  status: {
    observedGeneration: 4,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    revision: 5,
    conditions: [{ type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable' }],
  },
};

function snap(
  patch: { spec?: Deployment['spec']; status?: Deployment['status'] } = {},
  extra: Partial<Snapshot> = {},
): Snapshot {
  return {
    name: 'web',
    deployment: {
      ...done,
      spec: { ...done.spec, ...patch.spec },
      status: { ...done.status, ...patch.status },
    },
    replicas: [],
    newEvents: [],
    rollbackGraceOver: false,
    ...extra,
  };
}

const progressing = (reason: string, status: 'True' | 'False' = 'True', message?: string) => ({
  conditions: [{ type: 'Progressing' as const, status, reason, message }],
});

describe('assessRollout', () => {
  it('is complete when the new revision is available and every replica is updated and ready', () => {
    expect(assessRollout(snap())).toEqual({
      phase: 'Complete',
      state: 'complete',
      reason: 'NewRevisionAvailable',
      progress: 1,
      message: 'deployment "web" successfully rolled out (revision 5)',
    });
  });

  it('is complete for zero replicas', () => {
    expect(
      assessRollout(
        snap({
          spec: { replicas: 0 },
          status: { replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0 },
        }),
      ).state,
    ).toBe('complete');
  });

  const waiting: [string, Parameters<typeof snap>[0], RegExp][] = [
    [
      'the spec change is not observed yet',
      { status: { observedGeneration: 3 } },
      /spec update to be observed/,
    ],
    [
      'replicas are not updated yet',
      { status: { updatedReplicas: 1 } },
      /1 of 3 new replicas have been updated/,
    ],
    ['old replicas remain', { status: { replicas: 4 } }, /1 old replicas are pending termination/],
    [
      'updated replicas are not ready',
      { status: { readyReplicas: 2 } },
      /2 of 3 updated replicas are available/,
    ],
    ['the condition lags', { status: progressing('ReplicaSetUpdated') }, /to be marked complete/],
    ['there is no status yet', { status: { observedGeneration: undefined } }, /spec update to be observed/],
  ];
  for (const [name, patch, message] of waiting) {
    it(`waits while ${name}`, () => {
      const a = assessRollout(snap(patch));
      expect(a.state).toBe('waiting');
      expect(a.message).toMatch(message);
    });
  }

  it('fails on ProgressDeadlineExceeded', () => {
    const a = assessRollout(
      snap({ status: { updatedReplicas: 1, ...progressing('ProgressDeadlineExceeded', 'False', 'stuck') } }),
    );
    expect(a).toMatchObject({
      phase: 'Failed',
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: 'ProgressDeadlineExceeded: stuck',
    });
  });

  it('with autoRollback, waits for the rollback after the deadline, then reports it', () => {
    const stuck = {
      spec: { replicas: 3, autoRollback: true },
      status: progressing('ProgressDeadlineExceeded', 'False'),
    };
    expect(assessRollout(snap(stuck)).state).toBe('waiting');
    expect(assessRollout(snap(stuck, { rollbackGraceOver: true })).reason).toBe('ProgressDeadlineExceeded');
    expect(
      assessRollout(snap(stuck, { newEvents: [{ reason: 'RolledBack', message: 'to revision 4' }] })),
    ).toMatchObject({
      phase: 'Failed',
      state: 'failed',
      reason: 'RolledBack',
      message: 'rolled back: to revision 4',
    });
  });

  it('fails on a RolledBack event even when the status looks complete', () => {
    expect(assessRollout(snap({}, { newEvents: [{ reason: 'RolledBack' }] })).reason).toBe('RolledBack');
  });

  it('fails fast on a Failed replica of the new revision only', () => {
    const failed = (r: Replica) => assessRollout(snap({ status: { updatedReplicas: 1 } }, { replicas: [r] }));
    expect(
      failed({
        id: 'r1',
        revision: 5,
        node: 'n1',
        phase: 'Failed',
        message: 'Error response from daemon: pull access denied',
      }),
    ).toMatchObject({
      phase: 'Failed',
      state: 'failed',
      reason: 'ImagePullFailed',
      message: 'image pull failure of replica r1 on node n1: Error response from daemon: pull access denied',
    });
    expect(
      failed({ id: 'r1', revision: 5, node: 'n1', phase: 'Failed', message: 'exit code 1' }).reason,
    ).toBe('ReplicaFailed');
    expect(failed({ id: 'r0', revision: 4, node: 'n1', phase: 'Failed', message: 'pull failed' }).state).toBe(
      'waiting',
    );
  });

  it('fails on a paused deployment rather than waiting forever', () => {
    expect(
      assessRollout(snap({ spec: { replicas: 3, paused: true }, status: { updatedReplicas: 0 } })),
    ).toMatchObject({ phase: 'Paused', state: 'failed', reason: 'DeploymentPaused' });
  });
});
