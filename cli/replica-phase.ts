import type { Replica } from './resources.ts';

/**
 * A replica's phase as `berth get replicas` and `describe` show it: while its init containers run,
 * Kubernetes' `Init:N/M` (the agent's message starts with it), `Init:CrashLoopBackOff` while one is
 * backing off, or `Init:Error` once one failed for good; otherwise the phase itself.
 */
export function replicaPhase(r: Pick<Replica, 'phase' | 'message' | 'initContainers'>): string | undefined {
  const progress = /^Init:[^:\s]+/.exec(r.message ?? '')?.[0];
  if (!progress || !r.initContainers?.length || (r.phase !== 'Starting' && r.phase !== 'Failed'))
    return r.phase;
  if (r.initContainers.some((c) => c?.reason === 'CrashLoopBackOff')) return 'Init:CrashLoopBackOff';
  return progress;
}
