import { describe, expect, it } from 'vitest';
import { assessRollout } from './rollout.ts';
import type { Deployment } from './wire/deployment.ts';
import type { Lenient } from './wire/meta.ts';

type Status = NonNullable<Lenient<Deployment>['status']>;

const done: Status = {
  observedGeneration: 4,
  replicas: 3,
  updatedReplicas: 3,
  readyReplicas: 3,
  availableReplicas: 3,
  unavailableReplicas: 0,
  revision: 5,
  conditions: [{ type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable' }],
};

function deployment(status: Partial<Status> = {}, spec: Lenient<Deployment>['spec'] = {}) {
  return {
    metadata: { name: 'web', generation: 4 },
    spec: { replicas: 3, ...spec },
    status: { ...done, ...status },
  } satisfies Lenient<Deployment>;
}

const progressing = (reason: string, status: 'True' | 'False' = 'True') => ({
  conditions: [{ type: 'Progressing' as const, status, reason, message: 'controller says' }],
});

describe('the rollout rule', () => {
  it('is complete only when the controller says so and every count agrees', () => {
    expect(assessRollout(deployment())).toEqual({
      phase: 'Complete',
      reason: 'NewRevisionAvailable',
      message: 'deployment "web" successfully rolled out (revision 5)',
      progress: 1,
    });
  });

  // Each row breaks exactly one part of the rule; none of them is complete.
  const notYet: [string, Partial<Status>, Lenient<Deployment>['spec'], string][] = [
    ['the controller has not seen this generation', { observedGeneration: 3 }, {}, 'SpecNotObserved'],
    ['no status at all', { observedGeneration: undefined }, {}, 'SpecNotObserved'],
    ['replicas still run the old revision', { updatedReplicas: 2 }, {}, 'ReplicasUpdating'],
    ['old replicas are left', { replicas: 4 }, {}, 'OldReplicasTerminating'],
    // kubectl's rule (available >= updated) calls this done; not every wanted replica is available.
    [
      'a scale-down is in flight',
      { replicas: 5, updatedReplicas: 5, availableReplicas: 5 },
      {},
      'OldReplicasTerminating',
    ],
    ['updated replicas are not available yet', { availableReplicas: 2 }, {}, 'ReplicasBecomingAvailable'],
    [
      'the counts agree but the controller has not marked it',
      progressing('ReplicaSetUpdated'),
      {},
      'AwaitingCompletion',
    ],
  ];
  for (const [what, status, spec, reason] of notYet) {
    it(`is progressing while ${what}`, () => {
      expect(assessRollout(deployment(status, spec))).toMatchObject({ phase: 'Progressing', reason });
    });
  }

  it('reports progress as the share of wanted replicas that are updated and available', () => {
    expect(assessRollout(deployment({ updatedReplicas: 2, availableReplicas: 1 })).progress).toBeCloseTo(
      1 / 3,
    );
    expect(assessRollout(deployment({ replicas: 0, updatedReplicas: 0 }, { replicas: 0 })).progress).toBe(1);
  });

  it('fails on the progress deadline, once the controller has seen the generation', () => {
    expect(assessRollout(deployment(progressing('ProgressDeadlineExceeded', 'False')))).toMatchObject({
      phase: 'Failed',
      reason: 'ProgressDeadlineExceeded',
      message: 'ProgressDeadlineExceeded: controller says',
    });
    // A condition from the previous generation says nothing about the new spec.
    expect(
      assessRollout(
        deployment({ observedGeneration: 3, ...progressing('ProgressDeadlineExceeded', 'False') }),
      ),
    ).toMatchObject({ phase: 'Progressing', reason: 'SpecNotObserved' });
    // Waiting for autoRollback only when the caller asks to.
    const auto = deployment(progressing('ProgressDeadlineExceeded', 'False'), { autoRollback: true });
    expect(assessRollout(auto).phase).toBe('Failed');
    expect(assessRollout(auto, { awaitingRollback: true })).toMatchObject({
      phase: 'Progressing',
      reason: 'AwaitingRollback',
    });
  });

  it('is paused whatever the counts say, and deleted when the object is gone', () => {
    expect(assessRollout(deployment({}, { paused: true }))).toMatchObject({
      phase: 'Paused',
      reason: 'DeploymentPaused',
    });
    expect(assessRollout(null, { name: 'web' })).toMatchObject({
      phase: 'Deleted',
      message: 'deployment "web" was deleted',
    });
  });

  it('fails at once on a Failed replica of the current revision, not of an older one or one being stopped', () => {
    const status = {
      updatedReplicas: 1,
      availableReplicas: 0,
      readyReplicas: 0,
      ...progressing('ReplicaSetUpdated'),
    };
    const replica = { id: 'web-5-a', node: 'vm-1', phase: 'Failed' as const, message: 'exit code 1' };
    expect(assessRollout(deployment(status), { replicas: [{ ...replica, revision: 5 }] })).toMatchObject({
      phase: 'Failed',
      reason: 'ReplicaFailed',
      message: 'replica web-5-a on node vm-1 failed: exit code 1',
    });
    expect(assessRollout(deployment(status), { replicas: [{ ...replica, revision: 4 }] }).phase).toBe(
      'Progressing',
    );
    expect(
      assessRollout(deployment(status), { replicas: [{ ...replica, revision: 5, desired: 'stopped' }] })
        .phase,
    ).toBe('Progressing');
  });

  it('fails on a RolledBack event even when the deployment looks complete again', () => {
    expect(
      assessRollout(deployment(), { newEvents: [{ reason: 'RolledBack', message: 'to revision 4' }] }),
    ).toMatchObject({ phase: 'Failed', reason: 'RolledBack', message: 'rolled back: to revision 4' });
  });
});
