import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { createApp } from '../app.ts';
import type { AppDeps } from '../app-context.ts';
import type { FailureLimiter } from '../auth/failure-limiter.ts';
import type { IdentityTokenVerifier } from '../auth/identity-tokens.ts';
import type { ControlPlaneConfig } from '../config.ts';
import { createReconciler, type Reconciler } from '../controller/reconciler.ts';
import { KubeWatchHub } from '../kube/watch-hub.ts';
import { Metrics } from '../metrics.ts';
import { NodeSignals } from '../signals.ts';
import { ServiceMapCache } from '../verbs/service-map.ts';

/** The control plane's version, as /version, agents and the dashboard show it. */
export const VERSION: string = packageJson.version;

/** The NOTIFY channel by which copies of the control plane (Node and Deno alike) wake each other's agents. */
export const ASSIGNMENTS_CHANNEL = 'berth_assignments';

export interface PlaneOptions {
  runtime: AppDeps['runtime'];
  config: ControlPlaneConfig;
  handle: DatabaseHandle;
  log?: Logger;
  /** Long-poll wake-ups: one per process where polls are held (Node, Deno); unused on Workers. */
  signals?: NodeSignals;
  clientAddress?: (c: Context) => string | undefined;
  /** Kept across the per-request apps of one Workers isolate. */
  failureLimiter?: FailureLimiter;
  /** Identity-token issuers' keys, kept across the per-request apps of one Workers isolate. */
  identityTokens?: IdentityTokenVerifier;
  /** The agents' service map per version; one per process (per isolate on Workers). */
  serviceMaps?: ServiceMapCache;
}

export interface Plane {
  deps: AppDeps;
  reconciler: Reconciler;
}

/**
 * The one place the control plane's dependencies are built, for every runtime: each entry
 * parses its configuration once, opens its database, and calls this.
 */
export function buildPlane(options: PlaneOptions): Plane {
  const { handle, config } = options;
  const signals = options.signals ?? new NodeSignals();
  const metrics = new Metrics();
  metrics.gauge('berth_agent_long_polls_waiting', 'Agent long-polls held open', () => signals.waiting);
  const deps: AppDeps = {
    db: handle.db,
    config,
    runtime: options.runtime,
    log: options.log ?? createLogger(config.logLevel, undefined, { component: 'control-plane' }),
    now: () => new Date(),
    signals,
    publishAssignments: async (nodeIds) => {
      if (nodeIds.length === 0) return;
      signals.notify(nodeIds);
      // Other copies can only be listening over a shared server and a driver that can LISTEN
      // (pg over TCP). Embedded PGlite belongs to this process alone; the Neon driver cannot
      // LISTEN: a NOTIFY there would reach nobody.
      if (handle.listen && handle.kind !== 'pglite')
        await handle.db.execute(sql`select pg_notify(${ASSIGNMENTS_CHANNEL}, ${nodeIds.join(',')})`);
    },
    ping: async () => {
      await handle.db.execute(sql`select 1`);
    },
    version: VERSION,
    metrics,
  };
  if (options.clientAddress) deps.clientAddress = options.clientAddress;
  if (options.failureLimiter) deps.failureLimiter = options.failureLimiter;
  if (options.identityTokens) deps.identityTokens = options.identityTokens;
  deps.serviceMaps = options.serviceMaps ?? new ServiceMapCache();
  // Woken by the commits' NOTIFY where the driver can LISTEN (a slow poll catches a missed one);
  // without LISTEN (the Neon driver on Workers) it polls.
  const listen = handle.listen?.bind(handle);
  deps.kubeWatch = new KubeWatchHub({
    db: handle.db,
    ...(listen ? { listen } : {}),
    pollMs: listen ? 5000 : 1000,
    idleMs: options.runtime === 'workers' ? 0 : 30_000,
    onError: (err) => deps.log.warn('kube watch: reading changes failed', { error: String(err) }),
  });
  const hub = deps.kubeWatch;
  metrics.gauge('berth_kube_watches', 'Kubernetes watches open', () => hub.watchers);
  metrics.gauge(
    'berth_kube_watch_log_reads',
    'Change-log reads by the watch hub since start',
    () => hub.logReads,
  );
  metrics.gauge(
    'berth_kube_watch_object_fetches',
    'Fetches of changed objects by the watch hub since start (one per resource and namespace)',
    () => hub.objectFetches,
  );
  // Workers tick by the minute cron; the other runtimes every BERTH_RECONCILE_INTERVAL_MS.
  const tickSeconds = options.runtime === 'workers' ? 60 : config.reconcileIntervalMs / 1000;
  const reconciler = createReconciler({ ...deps, tickSeconds });
  deps.reconciler = reconciler;
  return { deps, reconciler };
}

/** The app over those dependencies. */
export function createPlaneApp(options: PlaneOptions) {
  const plane = buildPlane(options);
  return { ...plane, app: createApp(plane.deps) };
}

/** Wake this process's long-polls when another copy changed a node's assignments. */
export async function listenForAssignments(
  handle: DatabaseHandle,
  signals: NodeSignals,
): Promise<(() => Promise<void>) | undefined> {
  return handle.listen?.(ASSIGNMENTS_CHANNEL, (payload) => signals.notify(payload.split(',')));
}
