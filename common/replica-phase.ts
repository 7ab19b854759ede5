import type { Lenient } from './wire/meta.ts';
import type { Replica } from './wire/replica.ts';

/** What replicaPhase reads of a replica: the API's, as the CLI and the dashboard hold it (leniently). */
export type ReplicaPhaseInput = Pick<Lenient<Replica>, 'phase' | 'message' | 'initContainers'>;

/**
 * A replica's phase as `berth get replicas`, `describe` and the dashboard show it: while its init
 * containers run, Kubernetes' `Init:N/M` (the agent's message starts with it),
 * `Init:CrashLoopBackOff` while one is backing off, or `Init:Error` once one failed for good;
 * otherwise the phase itself.
 *
 * Self-contained (type imports only, nothing from outside the function): the dashboard serves it to the
 * browser as its source text, as it does common/rollout.ts's assessRollout.
 */
export function replicaPhase(r: ReplicaPhaseInput): string | undefined {
  const progress = /^Init:[^:\s]+/.exec(r.message ?? '')?.[0];
  if (!progress || !r.initContainers?.length || (r.phase !== 'Starting' && r.phase !== 'Failed'))
    return r.phase;
  if (r.initContainers.some((c) => c?.reason === 'CrashLoopBackOff')) return 'Init:CrashLoopBackOff';
  return progress;
}
