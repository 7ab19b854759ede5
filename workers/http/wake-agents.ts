import type { Context } from 'hono';
import { errorChain } from '../../common/error-chain.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { inBackground } from './in-background.ts';

/**
 * A write bumped these nodes' assignments (and committed): wake their agents' long-polls here,
 * and on the other control-plane copies through NOTIFY, right after the response. Only a hint:
 * a poll that is not woken still finds the new version when it times out.
 */
export function wakeAgents(c: Context<AppEnv>, deps: AppDeps, nodeIds: string[]): void {
  if (nodeIds.length === 0) return;
  if (!deps.publishAssignments) {
    deps.signals.notify(nodeIds);
    return;
  }
  inBackground(
    c,
    deps.publishAssignments(nodeIds).catch((e) => deps.log.warn('notify failed', { error: errorChain(e) })),
  );
}
