import { describe, expect, it } from 'vitest';
import type { ReplicaStatus } from '../common/agent-protocol.ts';
import { diffStatuses, isEmptyDiff } from './status-diff.ts';

const r = (id: string, over: Partial<ReplicaStatus> = {}): ReplicaStatus => ({
  id,
  phase: 'Running',
  ready: true,
  containers: [
    { name: 'web', state: 'running', restartCount: 0, hostPorts: [{ containerPort: 80, hostPort: 3000 }] },
  ],
  ...over,
});

describe('diffStatuses', () => {
  it('sees nothing when only the order differs', () => {
    const d = diffStatuses([r('a'), r('b')], [r('b'), r('a')]);
    expect(isEmptyDiff(d)).toBe(true);
  });

  it('reports new, changed and removed replicas', () => {
    const d = diffStatuses(
      [r('a'), r('b'), r('c')],
      [r('a'), r('b', { ready: false, phase: 'Starting' }), r('d')],
    );
    expect(d).toEqual({ changed: ['b', 'd'], removed: ['c'] });
  });

  it('sees a restart count change deep inside', () => {
    const bumped = r('a');
    bumped.containers[0] = { ...bumped.containers[0]!, restartCount: 1 };
    expect(diffStatuses([r('a')], [bumped]).changed).toEqual(['a']);
  });
});
