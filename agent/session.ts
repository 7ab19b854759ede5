import { createHash } from 'node:crypto';
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
  /** Extended resources the node offers (--extended-resource). */
  extendedResources?: Record<string, number> | undefined;
  /** Allocatable disk of the Docker data root (agent/node-disk.ts); absent: unknown. */
  ephemeralStorageBytes?: number | undefined;
}

export interface SessionHooks {
  /** After each registration that issued a credential (the server may have forgotten our state). */
  onRegistered?: () => void;
  /** The server refused the credential this agent holds: the node was deleted or reset. */
  onRefused?: (error: IdentityError) => void;
}

/**
 * The agent cannot go on as this node without an operator: its credential was refused (the
 * node was deleted, or an admin reset it), it has none and no join token, or the control plane
 * refused the registration itself. Retrying would change nothing, so `berth-agent` exits with
 * a status its systemd unit does not restart on.
 */
export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The node credential: registered once with a join token, kept in the data dir, reused on
 * restart. Labels and address are updated by registering again with the credential itself.
 * When the server refuses the credential (401) the agent does not register again on its own:
 * whoever deleted or reset the node decides whether this machine comes back, by giving it a
 * join token it has not used before.
 *
 *   no credential ──join token──▶ Holding ──401──▶ Refused (onRefused; the agent stops)
 *                                  ▲    │
 *                                  └────┘ credential: labels, address (same credential)
 *   Holding, refused at start, a new join token given ──join token──▶ Holding
 */
export class Session {
  private cred: StoredCredential | undefined;
  private refusal: IdentityError | undefined;
  /** Forgotten once a credential is held: the agent spends a join token at most once. */
  private joinToken: string | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly store: StateStore,
    private readonly cfg: SessionConfig,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
    private readonly hooks: SessionHooks = {},
  ) {
    this.joinToken = cfg.joinToken;
  }

  get token(): string {
    if (!this.cred) throw new Error('not registered');
    return this.cred.nodeToken;
  }

  get nodeId(): string | undefined {
    return this.cred?.nodeId;
  }

  /**
   * Loads the stored credential (registering again with it when labels or address changed), or
   * registers with the join token (retrying while the server is unreachable). Rejects with an
   * IdentityError when only an operator can help.
   */
  async open(): Promise<void> {
    const stored = await this.store.loadCredential();
    if (stored && stored.server === this.cfg.server && stored.name === this.cfg.name) {
      this.cred = stored;
      const changed =
        JSON.stringify(stored.labels) !== JSON.stringify(this.cfg.labels) ||
        stored.address !== this.cfg.address ||
        (stored.offered ?? '{}') !== this.offered();
      // A join token this credential did not come from: an operator re-joining the machine
      // (after `berth node reset`). It is used only if the stored credential is refused.
      const fresh =
        this.joinToken !== undefined &&
        stored.joinTokenSha256 !== undefined &&
        stored.joinTokenSha256 !== sha256(this.joinToken);
      if (changed || fresh) {
        try {
          await this.renew();
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 401)) {
            // Unreachable or refused for another reason: keep running as the node we are.
            this.log.warn(
              'registering again to update labels/address failed; keeping the stored credential',
              {
                error: errorMessage(e),
              },
            );
          } else if (fresh) {
            this.log.warn('stored node credential refused; registering with the new join token');
            this.cred = undefined;
            await this.register(true);
            return this.held();
          } else throw this.refused(e, false);
        }
      }
      this.log.info('using stored node credential', { node: this.cfg.name, nodeId: stored.nodeId });
      return this.held();
    }
    if (!this.joinToken) {
      throw new IdentityError(
        `node "${this.cfg.name}" has no stored credential for ${this.cfg.server} in ${this.store.dir}: give --join-token (BERTH_JOIN_TOKEN) to register it`,
      );
    }
    await this.register(true);
    this.held();
  }

  /**
   * A call with the credential was answered 401: the node was deleted, or an admin reset it.
   * Logs what to do once, tells `onRefused`, and returns the error for the caller to stop with.
   */
  refused(cause: unknown, notify = true): IdentityError {
    if (!this.refusal) {
      this.refusal = new IdentityError(
        `the control plane refused the credential of node "${this.cfg.name}" (${errorMessage(cause)}): ` +
          'the node was deleted or reset. This agent does not register again by itself; to re-join this machine, ' +
          `create a join token (berth join-token create --name ${this.cfg.name}; after a reset the name is free for it) ` +
          'and run install-agent.sh again with it, or start berth-agent with --join-token NEW_TOKEN. ' +
          'Containers are left running.',
      );
      this.log.error('node credential refused: node deleted or reset; re-join it with a new join token', {
        node: this.cfg.name,
        error: errorMessage(cause),
      });
      if (notify) this.hooks.onRefused?.(this.refusal);
    }
    return this.refusal;
  }

  private held(): void {
    this.joinToken = undefined;
  }

  /** Registers again with the credential itself: the server updates what we report, same credential. */
  private async renew(): Promise<void> {
    const cred = this.cred!;
    const res = await this.api.register(this.request(), this.signal, cred.nodeToken);
    this.cred = {
      ...cred,
      nodeToken: res.nodeToken,
      labels: this.cfg.labels,
      address: this.cfg.address,
      offered: this.offered(),
    };
    await this.store.saveCredential(this.cred);
    this.log.info('registered again with the node credential', { node: this.cfg.name });
  }

  private request() {
    return {
      name: this.cfg.name,
      labels: this.cfg.labels,
      capacity: nodeCapacity(),
      address: this.cfg.address,
      agentVersion: AGENT_VERSION,
      ...(this.cfg.extendedResources ? { extendedResources: this.cfg.extendedResources } : {}),
      ...(this.cfg.ephemeralStorageBytes !== undefined
        ? { ephemeralStorageBytes: this.cfg.ephemeralStorageBytes }
        : {}),
    };
  }

  /**
   * What the node offers beyond cpu and memory, as one comparable text: "{}" for nothing, which is
   * what a credential stored before this was recorded compares as.
   */
  private offered(): string {
    const extended = this.cfg.extendedResources ?? {};
    const disk = this.cfg.ephemeralStorageBytes;
    if (Object.keys(extended).length === 0 && disk === undefined) return '{}';
    return JSON.stringify({ extendedResources: extended, ephemeralStorageBytes: disk ?? null });
  }

  private async register(retry: boolean): Promise<void> {
    const joinToken = this.joinToken!;
    for (let attempt = 0; ; attempt++) {
      try {
        const t0 = performance.now();
        const res = await this.api.register({ joinToken, ...this.request() }, this.signal);
        this.cred = {
          server: this.cfg.server,
          name: this.cfg.name,
          nodeId: res.nodeId,
          nodeToken: res.nodeToken,
          labels: this.cfg.labels,
          address: this.cfg.address,
          joinTokenSha256: sha256(joinToken),
          offered: this.offered(),
        };
        await this.store.saveCredential(this.cred);
        this.hooks.onRegistered?.();
        this.log.info('registered', {
          node: this.cfg.name,
          nodeId: res.nodeId,
          ms: Math.round(performance.now() - t0),
        });
        return;
      } catch (e) {
        const transient = e instanceof ApiError && e.transient;
        if (!retry || !transient || this.signal.aborted) {
          // 401/403: the token; 409: the name is another node's; 422: what we report (the address).
          if (e instanceof ApiError && [401, 403, 409, 422].includes(e.status))
            throw new IdentityError(`registration refused (HTTP ${e.status}): ${e.message}`);
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
