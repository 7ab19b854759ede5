import type { Context } from 'hono';
import { errorChain } from '../../common/error-chain.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { inBackground } from '../http/in-background.ts';
import { recordHeartbeat } from '../verbs/agents.ts';
import type { Principal } from './principal.ts';

/**
 * Every authenticated agent call is its node's heartbeat. The write happens after the
 * response, so an agent's call never waits for it: not for the commit, and not for the node's
 * row lock, which a reconcile placing replicas there holds until it commits (that wait was
 * most of a poll's tail latency). While the recorded heartbeat is younger than a tenth of the
 * grace period there is nothing worth writing: agents call at least twice per grace period,
 * so the recorded heartbeat is never more than 0.6 of it behind a live node.
 */
export class Heartbeats {
  /** Nodes whose heartbeat is being written by this process: one write at a time each. */
  private readonly writing = new Set<string>();

  constructor(private readonly deps: Pick<AppDeps, 'db' | 'config' | 'log'>) {}

  recordAfter(c: Context<AppEnv>, node: Extract<Principal, { kind: 'node' }>, now: Date): void {
    const resolutionMs = this.deps.config.nodeGraceSeconds * 100;
    if (now.getTime() - node.lastHeartbeat.getTime() < resolutionMs) return;
    if (this.writing.has(node.nodeId)) return;
    this.writing.add(node.nodeId);
    const work = recordHeartbeat(this.deps.db, node.nodeId, now)
      .catch((e: unknown) =>
        this.deps.log.warn('heartbeat not recorded', { node: node.nodeName, error: errorChain(e) }),
      )
      .finally(() => this.writing.delete(node.nodeId));
    inBackground(c, work);
  }
}
