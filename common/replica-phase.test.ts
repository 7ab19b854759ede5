import { describe, expect, it } from 'vitest';
import { replicaPhase } from './replica-phase.ts';

const waiting = { name: 'migrate', state: 'waiting' as const, restartCount: 0, hostPorts: [] };

describe('replicaPhase', () => {
  it('shows Init:N/M while the init containers run, as kubectl does', () => {
    expect(replicaPhase({ phase: 'Starting', message: 'Init:1/2', initContainers: [waiting, waiting] })).toBe(
      'Init:1/2',
    );
    expect(
      replicaPhase({
        phase: 'Starting',
        message: 'Init:0/1: back-off 10s restarting failed container migrate (exit code 1)',
        initContainers: [{ ...waiting, reason: 'CrashLoopBackOff', exitCode: 1, restartCount: 1 }],
      }),
    ).toBe('Init:CrashLoopBackOff');
    expect(
      replicaPhase({
        phase: 'Failed',
        message: 'Init:Error: init container migrate exited with code 3',
        initContainers: [{ ...waiting, state: 'terminated', exitCode: 3 }],
      }),
    ).toBe('Init:Error');
  });

  it('shows the phase otherwise', () => {
    expect(replicaPhase({ phase: 'Running', initContainers: [waiting] })).toBe('Running');
    expect(replicaPhase({ phase: 'Starting', message: 'Init:0/1 looks alike' })).toBe('Starting');
  });
});
