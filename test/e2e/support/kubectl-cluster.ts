import { freshPostgres } from '../../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../../support/processes.ts';
import { eventually } from '../../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
  HTTPD_1,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './agent-harness.ts';
import { startKubectlFront } from './kubectl-front.ts';

/**
 * What the kubectl files that need containers share: a Node server on a fresh database, one real
 * agent on the Docker Engine, registered, and kubectl's TLS front with an admin kubeconfig
 * (namespace `default`). `close` takes all of it down again, containers included.
 */
export interface KubectlCluster {
  db: Awaited<ReturnType<typeof freshPostgres>>;
  server: ServerProcess;
  /** The node's agent; `restartAgent` replaces it. */
  agent: AgentProcess;
  node: string;
  /** The agent's data directory (its saved state, kept across a restart). */
  agentDir: string;
  /** kubectl's HOME, where kubeconfigs are written. */
  dir: string;
  front: Awaited<ReturnType<typeof startKubectlFront>>;
  /** The agent stopped, then started again with its saved state (no join token). */
  restartAgent(): Promise<AgentProcess>;
  close(): Promise<void>;
}

export async function startKubectlCluster(
  name: string,
  o: { images?: string[]; registrationMs?: number } = {},
): Promise<KubectlCluster> {
  await requireDocker(o.images ?? [HTTPD_1]);
  const node = uniqueNode(name);
  // Undone in reverse, also when a step fails half-way (nothing is left running behind a failure).
  const undo: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    const db = await freshPostgres();
    undo.push(() => db.drop());
    const server = await startServerProcess({
      databaseUrl: db.url,
      env: { BERTH_RECONCILE_INTERVAL_MS: '300' },
    });
    undo.push(() => server.close());
    const agentDir = await tempDir(`berth-${name}-agent`);
    const dir = await tempDir(`berth-${name}`);
    undo.push(
      () => cleanupDir(agentDir),
      () => cleanupDir(dir),
    );
    const joinToken = (await server.call('POST', '/v1/join-tokens', {})).body.token;
    let agent = startAgentProcess({ server: server.url, name: node, dataDir: agentDir, joinToken });
    undo.push(
      () => removeNodeContainers(node),
      () => agent.stop(),
    );
    const front = await startKubectlFront({
      target: server.url,
      dir,
      token: server.adminToken,
      namespace: 'default',
    });
    undo.push(() => front.close());
    await eventually(
      async () => (await server.call('GET', `/v1/nodes/${node}`)).status === 200,
      o.registrationMs ?? 90_000,
      'agent registration',
    );
    return {
      db,
      server,
      get agent() {
        return agent;
      },
      node,
      agentDir,
      dir,
      front,
      async restartAgent() {
        await agent.stop();
        agent = startAgentProcess({ server: server.url, name: node, dataDir: agentDir });
        return agent;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
