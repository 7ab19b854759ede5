import { type ApiClient, ApiError } from './api-client.ts';
import { errorMessage, type Logger } from './log.ts';
import { nodeCapacity } from './node-info.ts';
import { jitter, sleep } from './sleep.ts';
import type { StateStore, StoredCredential } from './state-store.ts';
import { AGENT_VERSION } from './version.ts';

export interface SessionConfig {
  server: string;
  name: string;
  labels: Record<string, string>;
  address: string;
  joinToken?: string | undefined;
}

/**
 * The node credential: registered once, kept in the data dir, reused on restart; when the server
 * refuses it (401), the agent registers again with its join token if it has one.
 */
export class Session {
  private cred: StoredCredential | undefined;
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly store: StateStore,
    private readonly cfg: SessionConfig,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
    /** Called after each successful registration (the server may have forgotten our state). */
    private readonly onRegistered: () => void = () => {},
  ) {}

  get token(): string {
    if (!this.cred) throw new Error('not registered');
    return this.cred.nodeToken;
  }

  get nodeId(): string | undefined {
    return this.cred?.nodeId;
  }

  /** Loads the stored credential, or registers (retrying while the server is unreachable). */
  async open(): Promise<void> {
    const stored = await this.store.loadCredential();
    if (stored && stored.server === this.cfg.server && stored.name === this.cfg.name) {
      this.cred = stored;
      const changed =
        JSON.stringify(stored.labels) !== JSON.stringify(this.cfg.labels) ||
        stored.address !== this.cfg.address;
      if (changed && this.cfg.joinToken) {
        // Labels and address travel only in registration: register again to update them.
        try {
          await this.register(false);
        } catch (e) {
          this.log.warn('re-registering to update labels/address failed; keeping the stored credential', {
            error: errorMessage(e),
          });
        }
      }
      this.log.info('using stored node credential', { node: this.cfg.name, nodeId: stored.nodeId });
      return;
    }
    if (!this.cfg.joinToken) {
      throw new Error(
        `node "${this.cfg.name}" has no stored credential for ${this.cfg.server} in ${this.store.dir}: give --join-token (BERTH_JOIN_TOKEN) to register it`,
      );
    }
    await this.register(true);
  }

  /** After a 401: register again. Rejects when there is no join token or the server refuses it. */
  reauthenticate(): Promise<void> {
    if (!this.renewing) {
      this.renewing = (async () => {
        if (!this.cfg.joinToken) {
          throw new Error(
            'the server refused the node credential and no join token was given to register again',
          );
        }
        this.log.warn('node credential refused; registering again with the join token');
        await this.register(true);
      })().finally(() => {
        this.renewing = undefined;
      });
    }
    return this.renewing;
  }

  private async register(retry: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const t0 = performance.now();
        const res = await this.api.register(
          {
            joinToken: this.cfg.joinToken!,
            name: this.cfg.name,
            labels: this.cfg.labels,
            capacity: nodeCapacity(),
            address: this.cfg.address,
            agentVersion: AGENT_VERSION,
          },
          this.signal,
        );
        this.cred = {
          server: this.cfg.server,
          name: this.cfg.name,
          nodeId: res.nodeId,
          nodeToken: res.nodeToken,
          labels: this.cfg.labels,
          address: this.cfg.address,
        };
        await this.store.saveCredential(this.cred);
        this.onRegistered();
        this.log.info('registered', {
          node: this.cfg.name,
          nodeId: res.nodeId,
          ms: Math.round(performance.now() - t0),
        });
        return;
      } catch (e) {
        const transient = e instanceof ApiError && e.transient;
        if (!retry || !transient || this.signal.aborted) {
          if (e instanceof ApiError && (e.status === 401 || e.status === 403))
            throw new Error(`registration refused (HTTP ${e.status}): is the join token valid? ${e.message}`);
          throw e;
        }
        const delay = jitter(Math.min(30_000, 500 * 2 ** attempt));
        if (attempt === 0 || attempt % 10 === 0)
          this.log.warn('control plane unreachable, will retry registering', {
            error: errorMessage(e),
            retryInMs: delay,
          });
        await sleep(delay, this.signal);
      }
    }
  }
}
