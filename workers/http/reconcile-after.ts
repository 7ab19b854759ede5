import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { inBackground } from './in-background.ts';

/**
 * Reconcile these deployments right after the response (the normal path of every write and
 * agent report); the reconciler logs its own errors.
 */
export function reconcileAfter(c: Context<AppEnv>, deps: AppDeps, deploymentIds: string[]): void {
  const work = deps.reconciler?.reconcileSoon(deploymentIds);
  if (work) inBackground(c, work);
}
