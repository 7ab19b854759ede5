import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { DatabaseHandle } from '../../db/database.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { createApp } from '../app.ts';
import type { AppDeps } from '../app-context.ts';
import type { FailureLimiter } from '../auth/failure-limiter.ts';
import { createReconciler, type Reconciler } from '../controller/reconciler.ts';
import { createLogger, type Logger } from '../logger.ts';
import { NodeSignals } from '../signals.ts';
import type { EdgeSettings, Runtime } from './settings.ts';

/** Same channel as the Node entry's, so Node and Deno copies of one control plane wake each other's agents. */
export const ASSIGNMENTS_CHANNEL = 'berth_assignments';

export interface EdgePlaneOptions {
  runtime: Runtime;
  settings: EdgeSettings;
  handle: DatabaseHandle;
  log?: Logger;
  /** Long-poll wake-ups; one per process on Deno, unused on Workers (polls answer at once). */
  signals?: NodeSignals;
  clientAddress?: (c: Context) => string | undefined;
  /** Kept across the per-request apps of one Workers isolate. */
  failureLimiter?: FailureLimiter;
}

export interface EdgePlane {
  deps: AppDeps;
  reconciler: Reconciler;
}

/** The dependencies and the controller over one database handle: what every edge entry builds. */
export function createEdgeDeps(options: EdgePlaneOptions): EdgePlane {
  const { handle, settings } = options;
  const signals = options.signals ?? new NodeSignals();
  const deps: AppDeps = {
    db: handle.db,
    config: settings.config,
    runtime: options.runtime,
    log: options.log ?? createLogger(settings.logLevel),
    now: () => new Date(),
    signals,
    publishAssignments: async (nodeIds) => {
      if (nodeIds.length === 0) return;
      signals.notify(nodeIds);
      // Only a TCP driver can LISTEN, so only then is a NOTIFY worth sending (Deno over pg).
      if (handle.listen)
        await handle.db.execute(sql`select pg_notify(${ASSIGNMENTS_CHANNEL}, ${nodeIds.join(',')})`);
    },
    ping: async () => {
      await handle.db.execute(sql`select 1`);
    },
    version: packageJson.version,
  };
  if (options.clientAddress) deps.clientAddress = options.clientAddress;
  if (options.failureLimiter) deps.failureLimiter = options.failureLimiter;
  const reconciler = createReconciler(deps);
  deps.reconciler = reconciler;
  return { deps, reconciler };
}

/** Wake this process's long-polls when another copy changed a node's assignments. */
export async function listenForAssignments(
  handle: DatabaseHandle,
  signals: NodeSignals,
): Promise<(() => Promise<void>) | undefined> {
  return handle.listen?.(ASSIGNMENTS_CHANNEL, (payload) => signals.notify(payload.split(',')));
}

/** The app over those dependencies. */
export function createEdgeApp(options: EdgePlaneOptions) {
  const plane = createEdgeDeps(options);
  return { ...plane, app: createApp(plane.deps) };
}
