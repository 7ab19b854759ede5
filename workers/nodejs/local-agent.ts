import { join } from 'node:path';
import { type Logger, withFields } from '../../common/logger.ts';
import type { Database } from '../../db/database.ts';
import { DomainError } from '../errors.ts';
import { resetNode } from '../verbs/node-registration.ts';
import { createJoinToken } from '../verbs/tokens.ts';
import { claimEngine } from './engine-claim.ts';

/**
 * `npm start` on a machine with Docker is a complete single-machine deployer: an in-process
 * berth-agent registers as node `local` through the same HTTP protocol remote agents use.
 * BERTH_LOCAL_AGENT: `auto` (default: when a Docker Engine answers), `1` (required), `0` (never).
 */
export async function maybeStartLocalAgent(args: {
  mode: string | undefined;
  port: number;
  /** When npm start serves HTTPS: the name its agent checks, and a self-signed certificate to trust. */
  tls?: { ca?: string; servername: string | undefined };
  dataDir: string;
  db: Database;
  log: Logger;
}): Promise<{ stop(): Promise<void> } | undefined> {
  const mode = (args.mode ?? 'auto').toLowerCase();
  if (mode === '0' || mode === 'false' || mode === 'off') return undefined;
  const { dockerAvailable, localAgentConfig, StateStore, startAgent } = await import('../../agent/index.ts');
  // An engine that is absent refuses at once; one that is slow to answer (a busy machine, dockerd
  // still starting) is waited for, the longer when the agent was asked for.
  if (!(await dockerAvailable(mode === 'auto' ? 10_000 : 30_000))) {
    if (mode === 'auto') {
      args.log.info('no Docker Engine answers: running without a local agent (BERTH_LOCAL_AGENT=auto)');
      return undefined;
    }
    throw new Error('BERTH_LOCAL_AGENT=1 but no Docker Engine answers (is dockerd running? DOCKER_HOST?)');
  }
  const claim = claimEngine();
  if (!claim.claimed) {
    const why = `another Berth (pid ${claim.heldBy}) runs the local agent on this Docker Engine, and a second node "local" would remove its containers (${claim.file})`;
    if (mode !== 'auto') throw new Error(`BERTH_LOCAL_AGENT=1 but ${why}`);
    args.log.warn(`running without a local agent: ${why}`);
    return undefined;
  }
  try {
    const server = `${args.tls ? 'https' : 'http'}://127.0.0.1:${args.port}`;
    const dataDir = join(args.dataDir, 'local-agent');
    // A join token takes no name that holds a credential. Without one for node "local" here (a
    // wiped data dir, another port), the credential the name holds is one this control plane's
    // own agent lost: reset it, as an admin would, so that the agent below can take the name.
    const stored = await new StateStore(dataDir).loadCredential().catch(() => undefined);
    if (!stored || stored.server !== server || stored.name !== 'local') {
      const reset = await resetNode(args.db, 'local', new Date()).then(
        () => true,
        (e: unknown) => {
          if (e instanceof DomainError && e.code === 'NOT_FOUND') return false;
          throw e;
        },
      );
      if (reset) args.log.warn('node "local" was reset: its credential is not in this data dir', { dataDir });
    }
    const { token } = await createJoinToken(
      args.db,
      { ttlSeconds: 600, maxUses: 1, nodeName: 'local' },
      new Date(),
    );
    const agent = await startAgent({
      ...localAgentConfig({ server, joinToken: token, dataDir }),
      ...(args.tls
        ? {
            serverTls: {
              ca: args.tls.ca,
              ...(args.tls.servername ? { servername: args.tls.servername } : {}),
            },
          }
        : {}),
      // One process, one log: the agent's lines go where the control plane's go, at its level.
      logger: withFields(args.log, { component: 'agent', node: 'local' }),
    });
    args.log.info('local agent running as node "local"');
    // Deleted or reset from the API: it stopped itself; the next start registers it again.
    void agent.failed.then((e) => args.log.error('local agent stopped', { error: e.message }));
    return {
      async stop() {
        await agent.stop();
        claim.release();
      },
    };
  } catch (e) {
    claim.release();
    throw e;
  }
}
