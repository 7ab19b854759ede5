import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../app-context.ts';

/**
 * Reconcile these deployments right after the response (the normal path of every write and
 * agent report). On Workers the work is kept alive with `waitUntil`; elsewhere the promise
 * simply runs on, its errors logged by the reconciler.
 */
export function reconcileAfter(c: Context<AppEnv>, deps: AppDeps, deploymentIds: string[]): void {
  const work = deps.reconciler?.reconcileSoon(deploymentIds);
  if (!work) return;
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context outside Workers.
  }
}
