import type { Context } from 'hono';
import type { Logger } from '../common/logger.ts';
import type { Database } from '../db/database.ts';
import type { FailureLimiter } from './auth/failure-limiter.ts';
import type { IdentityTokenVerifier } from './auth/identity-tokens.ts';
import type { Principal } from './auth/principal.ts';
import type { ControlPlaneConfig } from './config.ts';
import type { KubeWatchHub } from './kube/watch-hub.ts';
import type { Metrics } from './metrics.ts';
import type { NodeSignals } from './signals.ts';
import type { ServiceMapCache } from './verbs/service-map.ts';

/** What the controller offers the API: a reconcile right after a write (never awaited by it). */
export interface ReconcileTrigger {
  reconcileSoon(deploymentIds?: string[]): Promise<void>;
}

/**
 * Everything a request needs, passed in by the runtime entry. Nothing here is read from a
 * global: the same app runs on Node, Deno and Workers.
 */
export interface AppDeps {
  db: Database;
  config: ControlPlaneConfig;
  runtime: 'node' | 'deno' | 'workers';
  log: Logger;
  now: () => Date;
  signals: NodeSignals;
  reconciler?: ReconcileTrigger;
  /** Tell other control-plane copies that these nodes' assignments changed (pg NOTIFY). */
  publishAssignments?: (nodeIds: string[]) => Promise<void>;
  /**
   * Failed-authentication counts, when they must outlive the app: Workers build an app per
   * request (its database connections may not cross requests) but keep one limiter per isolate.
   */
  failureLimiter?: FailureLimiter;
  /** Identity-token issuers' keys, cached (per process, per isolate on Workers): the exchange's. */
  identityTokens?: IdentityTokenVerifier;
  /**
   * Address of the connection the request came on, as the runtime knows it: the socket's peer
   * on Node and Deno, the platform's CF-Connecting-IP on Workers. Never a request header a
   * client could write: the client behind trusted proxies is worked out from it (http/client.ts).
   */
  clientAddress?: (c: Context) => string | undefined;
  /** Whether the database answers (for /readyz). */
  ping: () => Promise<void>;
  version: string;
  /** True once the process is shutting down: long-polls answer at once and connections close. */
  shuttingDown?: () => boolean;
  /** Prometheus counters for /metrics (per process or isolate). */
  metrics?: Metrics;
  /** The service map agents poll, built once per version (per process or isolate). */
  serviceMaps?: ServiceMapCache;
  /** The Kubernetes face's watches share one change-log reader (per process; per request on Workers). */
  kubeWatch?: KubeWatchHub;
  /**
   * The runtime's exec meeting point (Node's relay, Deno's entry, the Worker's Durable Object)
   * upgrades `kubectl exec` and the agents' exec sockets itself, after asking the app whether to:
   * its requests carry this per-process (per-isolate) secret (http/exec-preflight.ts). Absent,
   * the exec route says the streams have nowhere to meet.
   */
  execPreflight?: string;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
  };
}
