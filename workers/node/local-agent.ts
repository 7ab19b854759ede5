import { join } from 'node:path';
import type { Database } from '../../db/database.ts';
import type { Logger } from '../logger.ts';
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
  dataDir: string;
  db: Database;
  log: Logger;
}): Promise<{ stop(): Promise<void> } | undefined> {
  const mode = (args.mode ?? 'auto').toLowerCase();
  if (mode === '0' || mode === 'false' || mode === 'off') return undefined;
  const { dockerAvailable, localAgentConfig, startAgent } = await import('../../agent/index.ts');
  if (!(await dockerAvailable())) {
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
    const { token } = await createJoinToken(args.db, { ttlSeconds: 600, maxUses: 1 }, new Date());
    const agent = await startAgent(
      localAgentConfig({
        server: `http://127.0.0.1:${args.port}`,
        joinToken: token,
        dataDir: join(args.dataDir, 'local-agent'),
      }),
    );
    args.log.info('local agent running as node "local"');
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
