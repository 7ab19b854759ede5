import { errorChain } from '../../common/error-chain.ts';
import type { Logger } from '../../common/logger.ts';
import type { Reconciler } from '../controller/reconciler.ts';

/**
 * The safety-net reconcile of a long-lived process (Node, Deno run locally): a tick every
 * interval, never two at once, at once again when a tick left work.
 */
export function startReconcileLoop(reconciler: Reconciler, intervalMs: number, log: Logger) {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<unknown> = Promise.resolve();
  let failing = false;
  const run = () => {
    if (stopped) return;
    current = reconciler
      .tick()
      .then((r) => {
        if (failing) log.info('reconcile recovered');
        failing = false;
        if (!stopped) timer = setTimeout(run, r.more ? 0 : intervalMs);
      })
      .catch((e) => {
        if (!failing) log.warn('reconcile tick failed; retrying', { error: errorChain(e) });
        failing = true;
        if (!stopped) timer = setTimeout(run, intervalMs);
      });
  };
  timer = setTimeout(run, 0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current.catch(() => {});
    },
  };
}
