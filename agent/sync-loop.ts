import type {
  Assignment,
  AttachRequest,
  ExecRequest,
  LogRequest,
  PortForwardRequest,
  ServiceMap,
} from '../common/agent-protocol.ts';
import { type ApiClient, ApiError } from './api-client.ts';
import type { ClaimVolumes } from './claim-volumes.ts';
import { stableJson } from './container-spec.ts';
import { errorMessage, type Logger } from './log.ts';
import type { PodManager } from './pod-manager.ts';
import type { Session } from './session.ts';
import { jitter, sleep } from './sleep.ts';
import type { StateStore } from './state-store.ts';

export interface SyncDeps {
  api: ApiClient;
  session: Session;
  store: StateStore;
  manager: PodManager;
  log: Logger;
  server: string;
  node: string;
  waitSeconds: number;
  signal: AbortSignal;
  /** The server answered again after failures. */
  onReconnect?: () => void;
  /** Removes the volumes of claims the control plane released (agent/claim-volumes.ts). */
  claims?: ClaimVolumes;
  /** The cluster's service map, with every answer that carries one (agent/services). */
  onServices?: (map: ServiceMap) => void;
  /** The cadence of usage samples the server asks for (absent from a server that predates them). */
  onUsageInterval?: (seconds: number) => void;
  /** A `kubectl exec` for one of this node's containers (agent/exec-session.ts), once per request. */
  onExec?: (req: ExecRequest) => void;
  /** A `kubectl attach` to one of this node's containers. */
  onAttach?: (req: AttachRequest) => void;
  /** A `kubectl port-forward` connection for one of this node's pods. */
  onPortForward?: (req: PortForwardRequest) => void;
}

/** An answer faster than this came back without waiting: the server does not long-poll (Workers). */
const IMMEDIATE_MS = 1000;

/**
 * Pulls the node's desired set: a long-poll with If-None-Match, so a change reaches the agent the
 * moment the control plane writes it. When the server answers at once instead (Workers), the loop
 * sleeps pollIntervalSeconds between polls. Unreachable or 5xx: backoff with jitter, and
 * everything last assigned keeps running (static stability).
 */
export class SyncLoop {
  private etag: string | undefined;
  private replicasKey: string | undefined;
  private pollIntervalMs = 5000;
  private readonly answered = new Set<string>();
  private done: Promise<void> | undefined;

  constructor(private readonly d: SyncDeps) {}

  start(initial?: { etag?: string | undefined; replicas: Assignment[] }): void {
    if (initial) {
      this.etag = initial.etag;
      this.replicasKey = stableJson(initial.replicas);
    }
    this.done = this.run();
  }

  stopped(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const { api, session, log, signal } = this.d;
    let failures = 0;
    while (!signal.aborted) {
      const t0 = performance.now();
      try {
        const r = await api.assignments(session.token, this.etag, this.d.waitSeconds, signal);
        const ms = performance.now() - t0;
        if (failures > 0) {
          log.info('control plane reachable again', { afterFailures: failures });
          this.d.onReconnect?.();
        }
        failures = 0;
        // On every answer, 304s too: an agent resumed with a saved ETag may see nothing else for long.
        if (r.usageIntervalSeconds) this.d.onUsageInterval?.(r.usageIntervalSeconds);
        let news = false;
        if (r.kind === 'changed') {
          this.pollIntervalMs = Math.max(100, r.body.pollIntervalSeconds * 1000);
          // A new version is news even when this node's replicas are the same (the service map
          // changed): pausing a poll interval after it would leave whatever comes next waiting.
          const newVersion = r.etag !== this.etag;
          if (r.body.services) this.d.onServices?.(r.body.services);
          news = (await this.received(r.etag, r.body.replicas, r.body.logRequests, ms)) || newVersion;
          for (const req of r.body.execRequests ?? []) {
            // Listed until the agent's socket takes it: a later poll may list it again.
            if (this.answered.has(req.id)) continue;
            this.remember(req.id);
            this.d.onExec?.(req);
          }
          for (const req of r.body.attachRequests ?? []) {
            if (this.answered.has(req.id)) continue;
            this.remember(req.id);
            this.d.onAttach?.(req);
          }
          for (const req of r.body.portForwardRequests ?? []) {
            if (this.answered.has(req.id)) continue;
            this.remember(req.id);
            this.d.onPortForward?.(req);
          }
          this.d.claims?.release(r.body.releasedClaims);
        }
        // No waiting happened and nothing new: the server does not long-poll, pace ourselves.
        if (!news && ms < IMMEDIATE_MS) await sleep(this.pollIntervalMs, signal);
      } catch (e) {
        if (signal.aborted) break;
        // Deleted or reset: the session tells the agent, which stops; no registering again.
        if (e instanceof ApiError && e.status === 401) {
          session.refused(e);
          return;
        }
        failures++;
        const retryAfter = e instanceof ApiError && e.retryAfter ? e.retryAfter * 1000 : 0;
        const delay = Math.max(retryAfter, jitter(Math.min(30_000, 250 * 2 ** failures)));
        if (failures === 1 || failures % 10 === 0)
          log.warn('assignments poll failed; containers keep running as last assigned', {
            error: errorMessage(e),
            failures,
            retryInMs: delay,
          });
        await sleep(delay, signal);
      }
    }
  }

  /** true when something new arrived (replicas changed or a log request came). */
  private async received(
    etag: string | undefined,
    replicas: Assignment[],
    logRequests: LogRequest[],
    ms: number,
  ): Promise<boolean> {
    const key = stableJson(replicas);
    const changed = key !== this.replicasKey;
    this.etag = etag;
    let news = false;
    if (changed) {
      news = true;
      this.replicasKey = key;
      this.d.log.debug('assignments received', {
        replicas: replicas.length,
        etag,
        pollMs: Math.round(ms),
      });
      const t0 = performance.now();
      // Runners start before the file is written: persisting must not delay containers.
      const applied = this.d.manager.apply(replicas);
      await this.d.store
        .saveAssignments({
          server: this.d.server,
          name: this.d.node,
          ...(etag ? { etag } : {}),
          replicas,
          savedAt: new Date().toISOString(),
        })
        .catch((e: unknown) => this.d.log.warn('saving assignments failed', { error: errorMessage(e) }));
      await applied;
      this.d.log.debug('assignments applied', { ms: Math.round(performance.now() - t0) });
    }
    for (const req of logRequests) {
      if (this.answered.has(req.id)) continue;
      news = true;
      this.remember(req.id);
      void this.answerLog(req);
    }
    return news;
  }

  private remember(id: string): void {
    this.answered.add(id);
    if (this.answered.size > 1000) this.answered.delete(this.answered.values().next().value!);
  }

  private async answerLog(req: LogRequest): Promise<void> {
    const answer = await this.d.manager.answerLog(req);
    try {
      await this.d.api.logs(this.d.session.token, answer, this.d.signal);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.d.session.refused(e);
      // Forget it so that a repeated request is answered again.
      this.answered.delete(req.id);
      this.d.log.warn('sending logs failed', { request: req.id, error: errorMessage(e) });
    }
  }
}
